"""CTC feasibility of labels: a label of length L with R adjacent repeated characters needs at
least L + R frames (a blank must separate each repeat). Paddle's CTC gives infeasible samples a
loss of 0, so they silently stop learning; these pure-numpy helpers let the loss report them and
the data pipeline filter them. `labels` are class indices padded with anything past `lengths`."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def ctc_min_length(indices: Sequence[int]) -> int:
    """Fewest CTC frames that can emit `indices`: its length plus its adjacent repeats."""
    values = np.asarray(indices).reshape(-1)
    return int(values.size + np.count_nonzero(values[1:] == values[:-1]))


def min_lengths(labels: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per-row `ctc_min_length` of a padded label batch [N, L] with valid lengths [N]."""
    labels = np.asarray(labels).reshape(len(labels), -1)
    lengths = np.asarray(lengths).reshape(-1).astype(np.int64)
    valid = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    repeats = (labels[:, 1:] == labels[:, :-1]) & valid[:, 1:]
    return lengths + repeats.sum(axis=1)


def infeasible_mask(labels: np.ndarray, lengths: np.ndarray, num_frames: int) -> np.ndarray:
    """Boolean [N]: True where the label cannot be emitted in `num_frames` CTC frames."""
    return min_lengths(labels, lengths) > num_frames


def count_infeasible(labels: np.ndarray, lengths: np.ndarray, num_frames: int) -> int:
    """Number of rows of the padded label batch that cannot be emitted in `num_frames` frames."""
    return int(infeasible_mask(labels, lengths, num_frames).sum())
