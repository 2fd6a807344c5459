"""Lexicon-constrained CTC decoding (CRNN paper, section 2.3.2): pick the lexicon word with the
highest CTC probability among the words near the greedy result (edit distances by rapidfuzz,
probabilities by the vectorised forward pass of ctc_forward)."""
from __future__ import annotations

import itertools
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..character import CharacterSet
from ..errors import ConfigError
from ..utils.logging import get_logger
from ..utils.resources import read_word_list
from .ctc_forward import batch_ctc_log_likelihoods

# Up to this many words every word is a candidate, whatever its distance to the greedy text.
FULL_SCAN_LIMIT = 64
# Edit distances computed per rapidfuzz call (queries x words): bounds the int32 matrix to 64 MiB.
DISTANCES_PER_CALL = 1 << 24


def read_lexicon(path: str) -> Tuple[List[str], List[Optional[float]]]:
    """Words of a lexicon file and their log10 frequencies (None where a line has none):
    `utils.resources.read_word_list`, which also finds the bundled lists by bare name."""
    words, frequencies = read_word_list(path, "PostProcess.lexicon_path")
    if not words:
        raise ConfigError(f"PostProcess.lexicon_path: the lexicon file has no words: {path}")
    return words, frequencies


def _encode(words: List[str], charset: CharacterSet) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`charset.encode` of every (normalised) word at once: label lengths [W], all class indices
    end to end (-1 where a character is not in the set), and each word's count of such characters.
    One array lookup per code point instead of a Python loop over 100k words' characters."""
    singles = {char: index for char, index in charset.index.items() if len(char) == 1}
    lookup = np.full(max(map(ord, singles), default=0) + 2, -1, dtype=np.int64)
    lookup[[ord(char) for char in singles]] = list(singles.values())
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    codes = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flat = lookup[np.minimum(codes, len(lookup) - 1)]  # the last entry stands for every larger code
    owner = np.repeat(np.arange(len(words)), lengths)
    return lengths, flat, np.bincount(owner[flat < 0], minlength=len(words))


class Lexicon:
    """A word list ready for constrained decoding with the classes of `charset`.

    Words are normalised like labels (lower-cased for the default set) and de-duplicated; words
    with characters outside the set can never be decoded, so they are dropped, counted and logged.
    The candidates of a greedy text are the words within `max_edit_distance` (Levenshtein, by
    rapidfuzz) of it, the radius doubling until some word is found; with at most FULL_SCAN_LIMIT
    words, all of them. `best_words(greedy_texts, greedy_labels, log_probs_of)` returns, per
    sample, the candidate with the highest CTC log-probability as (word, log P(word)); ties go to
    the earlier word.

    A word prior, optional: with `frequency_weight` b > 0 candidates are ranked by
    log P(word) + b * ln(10) * log10_frequency (a unigram prior, tempered by b; every word then needs
    a frequency; a duplicate keeps its first). With `oov_penalty` (nats) a sample keeps its greedy
    text when log P(greedy text) - oov_penalty beats the chosen word's log P: a text outside the
    lexicon needs that much more evidence (the log prior odds of a lexicon word)."""

    def __init__(self, words: Sequence[str], charset: CharacterSet, max_edit_distance: int = 2,
                 source: str = "PostProcess.lexicon", oov_penalty: Optional[float] = None,
                 log10_frequencies: Optional[Sequence[Optional[float]]] = None, frequency_weight: float = 0.0):
        self.max_edit_distance = max_edit_distance
        self.num_classes = charset.num_classes
        self.oov_penalty = oov_penalty
        normalised = [charset.normalise(word) for word in words]
        unique = list(dict.fromkeys(normalised))
        prior = np.zeros(len(unique))
        if frequency_weight:
            frequency_of = {}
            for word, frequency in zip(normalised, log10_frequencies or [None] * len(normalised)):
                if frequency is None:
                    raise ConfigError(f"{source}: frequency_weight needs a log10 frequency after a tab on "
                                      f"every line (word<TAB>zipf); {word!r} has none")
                frequency_of.setdefault(word, frequency)
            prior = frequency_weight * np.log(10) * np.array([frequency_of[word] for word in unique])
        lengths, flat_labels, missing = _encode(unique, charset)
        keep = missing == 0
        valid = dict(zip(unique, keep))
        dropped = [word for word in normalised if not valid[word]]
        if dropped:
            get_logger().warning(
                f"{source}: {len(dropped)} words have characters outside the dictionary and are "
                f"skipped, e.g. {dropped[:5]}")
        if not keep.any():
            raise ConfigError(f"{source}: no word of the lexicon can be written with the dictionary")
        self.words: List[str] = [word for word, kept in zip(unique, keep) if kept]
        self.log_priors = prior[keep]  # what ranks the words besides their probability; 0 without a prior
        # All labels end to end: word i is flat_labels[starts[i]:starts[i] + lengths[i]].
        self.flat_labels = flat_labels[np.repeat(keep, lengths)]
        self.lengths = lengths[keep]
        self.starts = np.cumsum(self.lengths) - self.lengths

    def radius_for(self, nearest: int) -> int:
        """The search radius that first reaches a word at distance `nearest`: max_edit_distance,
        doubled (from at least 1) until it does."""
        radius = self.max_edit_distance
        while radius < nearest:
            radius = max(1, 2 * radius)
        return radius

    def candidate_lists(self, texts: Sequence[str]) -> List[np.ndarray]:
        """For each text, the ascending indices into `words` of its candidates."""
        if len(self.words) <= FULL_SCAN_LIMIT:
            return [np.arange(len(self.words))] * len(texts)
        unique = list(dict.fromkeys(texts))
        found = {}
        per_call = max(1, DISTANCES_PER_CALL // len(self.words))
        for begin in range(0, len(unique), per_call):
            queries = unique[begin:begin + per_call]
            distances = process.cdist(queries, self.words, scorer=Levenshtein.distance, dtype=np.int32)
            for text, row in zip(queries, distances):
                found[text] = np.flatnonzero(row <= self.radius_for(int(row.min())))
        return [found[text] for text in texts]

    def candidates(self, text: str) -> List[int]:
        return self.candidate_lists([text])[0].tolist()

    def best_words(self, greedy_texts: Sequence[str], greedy_labels: Sequence[Sequence[int]],
                   log_probs_of: Callable[[int, np.ndarray], np.ndarray]) -> List[Tuple[str, float]]:
        """`log_probs_of(sample, classes)` gives the [T, len(classes)] natural-log probabilities of
        sample `sample` (0 .. N-1) for the ascending class indices `classes` (blank 0 first). Only
        the classes of that sample's candidates are asked for: with 6625 classes and a few
        candidates, taking the logarithm of every class would cost more than the scoring.
        `greedy_labels` are the greedy texts' class indices (scored against the words with an
        `oov_penalty`)."""
        if not greedy_texts:
            return []
        candidates = self.candidate_lists(greedy_texts)
        counts = np.array([len(found) for found in candidates])
        words = np.concatenate(candidates)
        samples = np.repeat(np.arange(len(counts)), counts)
        # The characters of every (sample, candidate) pair, end to end.
        lengths = self.lengths[words]
        pair_starts = np.cumsum(lengths) - lengths
        chars = self.flat_labels[np.repeat(self.starts[words] - pair_starts, lengths) + np.arange(lengths.sum())]
        if self.oov_penalty is not None:
            # Each greedy text is one more pair, after all the words'.
            samples = np.concatenate([samples, np.arange(len(counts))])
            lengths = np.concatenate([lengths, [len(label) for label in greedy_labels]]).astype(np.int64)
            chars = np.concatenate([chars, np.fromiter(itertools.chain.from_iterable(greedy_labels), np.int64)])
        scores = self._pair_log_likelihoods(samples, lengths, chars, log_probs_of, len(counts))
        results, begin = [], 0
        ranks = scores[:len(words)] + self.log_priors[words]
        for sample, count in enumerate(counts):
            best = begin + int(np.argmax(ranks[begin:begin + count]))  # the first of equal maxima
            result = (self.words[words[best]], float(scores[best]))
            if self.oov_penalty is not None and scores[len(words) + sample] - self.oov_penalty > scores[best]:
                result = (greedy_texts[sample], float(scores[len(words) + sample]))
            results.append(result)
            begin += count
        return results

    def _pair_log_likelihoods(self, samples: np.ndarray, lengths: np.ndarray, chars: np.ndarray,
                              log_probs_of: Callable[[int, np.ndarray], np.ndarray], num_samples: int) -> np.ndarray:
        """log P(label | sample) of (sample, label) pairs, labels given by their `lengths` and their
        class indices `chars` end to end, in one vectorised forward pass."""
        char_samples = np.repeat(samples, lengths)
        used = np.zeros((num_samples, self.num_classes), dtype=bool)
        used[:, 0] = True
        used[char_samples, chars] = True
        # Each sample's [T, classes used] log-probabilities, one block after the other.
        column = np.zeros(used.shape, dtype=np.int64)
        blocks, widths, size = [], [], 0
        for sample, row in enumerate(used):
            classes = np.flatnonzero(row)
            block = np.asarray(log_probs_of(sample, classes), dtype=np.float64)
            column[sample, classes] = size + np.arange(len(classes))
            blocks.append(block.reshape(-1))
            widths.append(len(classes))
            size += block.size
        return batch_ctc_log_likelihoods(np.concatenate(blocks), len(block), np.array(widths)[samples],
                                         column[samples, 0], column[char_samples, chars], lengths)
