"""CTC forward algorithm in log-space, scoring many (sample, label) pairs in one vectorised pass."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

# "log 0" as a finite number: it absorbs any real log-probability (-1e300 + x == -1e300) and never
# makes inf - inf = nan, so the log-additions below need no special cases.
LOG_ZERO = -1e300
# Label positions per chunk: the working arrays of one chunk stay in the CPU cache.
CHUNK_POSITIONS = 1 << 14


def _log_add(a: np.ndarray, b: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    """log(exp(a) + exp(b)) elementwise, as np.logaddexp computes it (max + log1p(exp(-|a - b|))),
    but with numpy's SIMD exp / log1p: np.logaddexp makes one scalar libm call per element, ~10x
    slower. Differences below -700 are clipped there: exp would leave the SIMD path for denormals
    (~10x slower), and log1p(exp(-700)) = 1e-304 is below half an ulp of any log-probability."""
    high = np.maximum(a, b)
    low = np.minimum(a, b)
    low -= high
    np.maximum(low, -700.0, out=low)
    np.exp(low, out=low)
    np.log1p(low, out=low)
    return np.add(high, low, out=out)


def batch_ctc_log_likelihoods(table: np.ndarray, num_frames: int, strides: np.ndarray, blank_columns: np.ndarray,
                              char_columns: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """log P(label_k | frames) under CTC for K (frames, label) pairs: float64 [K].

    `table` is a flat float64 array of natural-log probabilities: pair k reads class column c at
    frame t from `table[c + t * strides[k]]` (e.g. a sample's [T, C'] block, offset into the table,
    with stride C'). Its blank is column `blank_columns[k]`, its label (`lengths[k]` characters, may
    be 0) the next `lengths[k]` entries of `char_columns` (pairs one after the other); equal
    characters are equal columns. Pairs are scored in chunks of similar label length, padded to
    the chunk's longest label (states after a label's end never feed back into it). A label longer
    than the frames allow gets -inf."""
    table = np.asarray(table, dtype=np.float64).reshape(-1)
    lengths = np.asarray(lengths, dtype=np.int64)
    strides = np.asarray(strides, dtype=np.int64)
    blank_columns = np.asarray(blank_columns, dtype=np.int64)
    # One spare entry for padding to point at, so that a call whose labels are all empty indexes too.
    char_columns = np.append(np.asarray(char_columns, dtype=np.int64), 0)
    starts = np.cumsum(lengths) - lengths
    result = np.empty(len(lengths))
    order = np.argsort(lengths, kind="stable")
    begin = 0
    while begin < len(order):
        # As many rows as the chunk's shortest label allows, then fewer if its longest needs it.
        end = min(len(order), begin + max(1, CHUNK_POSITIONS // max(1, int(lengths[order[begin]]))))
        width = max(1, int(lengths[order[end - 1]]))
        end = min(end, begin + max(1, CHUNK_POSITIONS // width))
        chunk = order[begin:end]
        inside = np.arange(width) < lengths[chunk, None]
        # Padding reads the blank: any column would do, it is never read back.
        columns = np.where(inside, char_columns[np.where(inside, starts[chunk, None] + np.arange(width), -1)],
                           blank_columns[chunk, None])
        result[chunk] = _forward(table, num_frames, strides[chunk], blank_columns[chunk], columns, lengths[chunk])
        begin = end
    result[result < LOG_ZERO / 2] = -np.inf
    return result


def _forward(table: np.ndarray, num_frames: int, strides: np.ndarray, blank_columns: np.ndarray,
             char_columns: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The forward pass of one chunk: `char_columns` [k, W] padded; returns log P [k] (LOG_ZERO-ish
    when impossible). Arrays are position-major ([W, k]) so that every slice below is contiguous."""
    count, width = char_columns.shape
    # A character can be entered straight from the previous one only if the two differ.
    skip = np.ones((width, count), dtype=bool)
    skip[1:] = (char_columns[:, 1:] != char_columns[:, :-1]).T
    needs_blank_between = not skip.all()
    char_columns = np.ascontiguousarray(char_columns.T)
    # blank[j]: paths that have emitted j characters and sit on a blank; chars[j]: paths sitting
    # on character j (0-based) of the label.
    blank = np.full((width + 1, count), LOG_ZERO)
    chars = np.full((width, count), LOG_ZERO)
    blank[0] = table[blank_columns]
    chars[0] = table[char_columns[0]]
    for frame in range(1, num_frames):
        offsets = frame * strides
        # Blank j is entered from itself or from character j - 1 ...
        entered = np.empty_like(blank)
        entered[0] = blank[0]
        _log_add(blank[1:], chars, out=entered[1:])
        # ... character j from itself, blank j or character j - 1 (the last two summed in entered[j]).
        source = entered[:width]
        if needs_blank_between:
            source = np.where(skip, source, blank[:width])
        chars = _log_add(chars, source)
        chars += table[char_columns + offsets]
        blank = entered
        blank += table[blank_columns + offsets]
    columns = np.arange(count)
    ends_blank = blank[lengths, columns]
    ends_char = chars[np.maximum(lengths - 1, 0), columns]
    return np.where(lengths > 0, _log_add(ends_blank, ends_char), ends_blank)


def ctc_log_likelihoods(log_probs: np.ndarray, labels: Sequence[Sequence[int]], blank: int = 0) -> np.ndarray:
    """log P(label | frames) under CTC for each of K labels of one sample: `log_probs` [T, C]
    natural-log class probabilities, `labels` K index lists (no blanks). Returns float64 [K]."""
    num_frames, num_classes = np.shape(log_probs)
    lengths = np.array([len(label) for label in labels], dtype=np.int64)
    flat = np.array([index for label in labels for index in label], dtype=np.int64)
    table = np.ascontiguousarray(log_probs, dtype=np.float64).reshape(-1)
    return batch_ctc_log_likelihoods(table, num_frames, np.full(len(labels), num_classes), np.full(len(labels), blank),
                                     flat, lengths)
