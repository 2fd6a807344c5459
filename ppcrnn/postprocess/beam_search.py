"""CTC prefix beam search (log-space) for one sequence of per-frame log-probabilities."""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np

NEG_INF = float("-inf")
# Up to this many classes one full sort per frame is cheaper than partitioning (numpy, x86).
SORT_LIMIT = 256


def _log_add(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    if b == NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


def _add(beams: Dict[Tuple[int, ...], List[float]], prefix: Tuple[int, ...], slot: int, value: float) -> None:
    entry = beams.setdefault(prefix, [NEG_INF, NEG_INF])
    entry[slot] = _log_add(entry[slot], value)


def best_classes(row: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest entries of `row`, largest first and equal ones in index order:
    exactly `np.argsort(-row, kind="stable")[:count]`. Above SORT_LIMIT classes, without sorting
    them all: a partition finds the cut value, and only the few entries above it are sorted."""
    negated = -row
    if len(row) <= SORT_LIMIT or count >= len(row):
        return np.argsort(negated, kind="stable")[:count]
    cut = np.partition(negated, count - 1)[count - 1]
    top = np.flatnonzero(negated <= cut)
    if len(top) > count:  # ties at the cut: the lowest indices among them, as the stable sort keeps
        top = np.concatenate([np.flatnonzero(negated < cut), np.flatnonzero(negated == cut)])[:count]
    return top[np.argsort(negated[top], kind="stable")]


def prefix_beam_search(log_probs: np.ndarray, beam_width: int, blank: int = 0) -> Tuple[List[int], float]:
    """Most probable labelling of `log_probs` [T, C] (natural log) under CTC, and its log-probability.

    Unlike greedy decoding, which follows the single best frame-wise path, each prefix sums over
    every path that collapses to it (ending in blank / ending in its last character are tracked
    separately so repeats collapse correctly). At each frame only the `beam_width` most probable
    prefixes survive, and they are extended only with the `beam_width` most probable non-blank
    classes of that frame (plus the repeat of their own last character), which keeps the cost
    independent of the class count. Returns (class indices without blanks, log P(labelling)), the
    probability summed over the paths the beam kept (exact unless pruning dropped some)."""
    # prefix -> [log P(paths ending in blank), log P(paths ending in the prefix's last character)]
    beams: Dict[Tuple[int, ...], List[float]] = {(): [0.0, NEG_INF]}
    for row in log_probs:
        extensions = [int(c) for c in best_classes(row, beam_width + 1) if c != blank][:beam_width]
        following: Dict[Tuple[int, ...], List[float]] = {}
        for prefix, (ends_blank, ends_char) in beams.items():
            total = _log_add(ends_blank, ends_char)
            _add(following, prefix, 0, total + float(row[blank]))
            last = prefix[-1] if prefix else None
            if last is not None:
                # The last character repeated without a blank collapses into the same prefix.
                _add(following, prefix, 1, ends_char + float(row[last]))
            for char in extensions:
                # A repeat of the last character is a new character only after a blank.
                source = ends_blank if char == last else total
                _add(following, prefix + (char,), 1, source + float(row[char]))
        ranked = sorted(following.items(), key=lambda item: -_log_add(*item[1]))
        beams = dict(ranked[:beam_width])
    best, (ends_blank, ends_char) = max(beams.items(), key=lambda item: _log_add(*item[1]))
    return list(best), _log_add(ends_blank, ends_char)
