"""PadCollate: batch samples whose images differ in width by right-padding with zeros."""
from __future__ import annotations

from typing import Sequence

import numpy as np


class PadCollate:
    """Turn a list of samples (KeepKeys lists) into a list of stacked numpy arrays.

    Fields whose arrays differ only in the last axis (images [C, H, W_i] from the predictor
    resize) are right-padded with 0 - mid-grey after normalisation, the predictor's own padding -
    to the batch's widest; equal shapes are simply stacked, so fixed-width batches are unchanged."""

    def __call__(self, samples: Sequence[Sequence]) -> list:
        return [self._stack([sample[i] for sample in samples]) for i in range(len(samples[0]))]

    @staticmethod
    def _stack(values: list):
        arrays = [np.asarray(v) for v in values]
        shapes = {a.shape for a in arrays}
        if len(shapes) == 1:
            return np.stack(arrays)
        if len({s[:-1] for s in shapes}) != 1 or arrays[0].ndim == 0:
            raise ValueError(f"PadCollate: cannot batch shapes {sorted(shapes)}")
        width = max(s[-1] for s in shapes)
        out = np.zeros((len(arrays),) + arrays[0].shape[:-1] + (width,), dtype=arrays[0].dtype)
        for row, array in zip(out, arrays):
            row[..., :array.shape[-1]] = array
        return out
