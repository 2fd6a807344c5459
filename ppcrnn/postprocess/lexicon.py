"""Lexicon-constrained CTC decoding (CRNN paper, section 2.3.2): pick the lexicon word with the
highest CTC probability among the words near the greedy result, found with a BK-tree."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..character import CharacterSet
from ..errors import ConfigError
from ..utils.logging import get_logger
from .bk_tree import BKTree

# Below this many words every word is scored: exact, and cheaper than building a tree.
FULL_SCAN_LIMIT = 64


def read_lexicon(path: str) -> List[str]:
    """Words of a UTF-8 lexicon file, one per line; blank lines are skipped."""
    if not os.path.isfile(path):
        raise ConfigError(f"PostProcess.lexicon_path: file not found: {path}")
    words = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                word = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not valid UTF-8 ({exc})") from None
            if word:
                words.append(word)
    if not words:
        raise ConfigError(f"PostProcess.lexicon_path: the lexicon file has no words: {path}")
    return words


def ctc_log_likelihoods(log_probs: np.ndarray, labels: Sequence[Sequence[int]], blank: int = 0) -> np.ndarray:
    """log P(label | frames) under CTC for each of K labels, by the forward algorithm in log-space.

    `log_probs`: [T, C] natural-log class probabilities; `labels`: K index lists (no blanks).
    All labels advance together: each is expanded to `blank c1 blank c2 ... blank` and padded
    to the longest expansion with states that can never be reached. Returns float64 [K]."""
    num_labels = len(labels)
    lengths = np.array([len(label) for label in labels], dtype=np.int64)
    num_states = 2 * int(lengths.max(initial=0)) + 1
    states = np.full((num_labels, num_states), blank, dtype=np.int64)
    for k, label in enumerate(labels):
        states[k, 1:2 * len(label):2] = label
    reachable = np.arange(num_states)[None, :] < (2 * lengths + 1)[:, None]
    # A state may be entered from two states back when it is a character different from that one.
    can_skip = np.zeros_like(reachable)
    can_skip[:, 2:] = (states[:, 2:] != blank) & (states[:, 2:] != states[:, :-2])

    log_probs = log_probs.astype(np.float64)
    alpha = np.full((num_labels, num_states), -np.inf)
    alpha[:, 0] = log_probs[0, blank]
    alpha[:, 1:2] = np.where(lengths[:, None] > 0, log_probs[0, states[:, 1:2]], -np.inf)
    for row in log_probs[1:]:
        from_previous = np.full_like(alpha, -np.inf)
        from_previous[:, 1:] = alpha[:, :-1]
        from_skip = np.full_like(alpha, -np.inf)
        from_skip[:, 2:] = np.where(can_skip[:, 2:], alpha[:, :-2], -np.inf)
        incoming = np.logaddexp(np.logaddexp(alpha, from_previous), from_skip)
        alpha = np.where(reachable, incoming + row[states], -np.inf)
    rows = np.arange(num_labels)
    last = 2 * lengths
    return np.logaddexp(alpha[rows, last], np.where(lengths > 0, alpha[rows, last - 1], -np.inf))


class Lexicon:
    """A word list ready for constrained decoding with the classes of `charset`.

    Words are normalised like labels (lower-cased for the default set) and de-duplicated; words
    with characters outside the set can never be decoded, so they are dropped, counted and logged.
    `best_word(log_probs [T, C], greedy_text)` searches the words within `max_edit_distance` of
    the greedy text (doubling the radius until some word is found) and returns the one with the
    highest CTC log-probability as (word, log P(word))."""

    def __init__(self, words: Sequence[str], charset: CharacterSet, max_edit_distance: int = 2,
                 source: str = "PostProcess.lexicon"):
        self.max_edit_distance = max_edit_distance
        self.words: List[str] = []
        self.labels: List[List[int]] = []
        seen, dropped = set(), []
        for word in words:
            word = charset.normalise(word)
            indices, missing = charset.encode(word)
            if missing:
                dropped.append(word)
            elif word not in seen:
                seen.add(word)
                self.words.append(word)
                self.labels.append(indices)
        if dropped:
            get_logger().warning(
                f"{source}: {len(dropped)} words have characters outside the dictionary and are "
                f"skipped, e.g. {dropped[:5]}")
        if not self.words:
            raise ConfigError(f"{source}: no word of the lexicon can be written with the dictionary")
        self.tree: Optional[BKTree] = BKTree(self.words) if len(self.words) > FULL_SCAN_LIMIT else None
        self.longest = max(len(word) for word in self.words)

    def candidates(self, text: str) -> List[int]:
        if self.tree is None:
            return list(range(len(self.words)))
        radius = self.max_edit_distance
        while True:
            found = self.tree.search(text, radius)
            # Beyond this radius every word matches, so the loop always ends with candidates.
            if found or radius >= max(len(text), self.longest):
                return found
            radius = max(1, 2 * radius)

    def best_word(self, log_probs: np.ndarray, greedy_text: str) -> Tuple[str, float]:
        indices = self.candidates(greedy_text)
        scores = ctc_log_likelihoods(log_probs, [self.labels[i] for i in indices])
        best = int(np.argmax(scores))
        return self.words[indices[best]], float(scores[best])
