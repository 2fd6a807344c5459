"""PaddleOCR's `CTCLabelDecode` (greedy), plus prefix beam search and lexicon-constrained decoding."""
from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import paddle

from ..character import CharacterSet
from ..errors import ConfigError
from ..registry import POSTPROCESSES
from ..utils.logging import get_logger
from .beam_search import prefix_beam_search
from .lexicon import Lexicon, read_lexicon

MODES = ("greedy", "beam", "lexicon")


def _is_finite_non_negative(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf


def _to_numpy(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, paddle.Tensor) else np.asarray(value)


def _are_probabilities(preds: np.ndarray) -> bool:
    """Softmax outputs (eval) rather than logits (training): non-negative, rows summing to 1."""
    return bool(preds.min() >= 0 and np.allclose(preds.sum(axis=-1, dtype=np.float64), 1.0, atol=1e-3))


def _log_probabilities(preds: np.ndarray) -> np.ndarray:
    """Natural-log class probabilities of [N, T, C] probabilities (eval) or logits (training)."""
    preds = preds.astype(np.float64)
    if _are_probabilities(preds):
        return np.log(np.maximum(preds, 1e-300))
    shifted = preds - preds.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _log_probability_columns(preds: np.ndarray) -> Callable[[int, np.ndarray], np.ndarray]:
    """`log_probs_of(sample, classes)`: `_log_probabilities(preds)[sample][:, classes]`, [T, K];
    for probabilities the logarithm is taken of those columns only (the same values)."""
    if _are_probabilities(preds):
        return lambda sample, classes: np.log(np.maximum(preds[sample].take(classes, axis=-1)
                                                         .astype(np.float64), 1e-300))
    log_probs = _log_probabilities(preds)  # the softmax normaliser needs every class anyway
    return lambda sample, classes: log_probs[sample].take(classes, axis=-1)


@POSTPROCESSES.register
class CTCLabelDecode:
    """Turns CTC outputs [N, T, C] into a list of N `(text, score)` pairs.

    `preds` are probabilities or logits (paddle Tensor or numpy; a list/tuple means its last item).
    `mode: greedy` is PaddleOCR's rule: per frame take the best class, drop repeats of the previous
    frame's class and blanks; score = mean of the kept frames' max values (0 for empty text).
    `mode: beam` returns the most probable labelling by prefix beam search (`beam_width`), and
    `mode: lexicon` the most probable word of the lexicon (`lexicon_path`, one word per line, and/or
    `lexicon`) among those within `max_edit_distance` of the greedy text; with `oov_penalty`
    (nats) it keeps the greedy text when log P(greedy text) - oov_penalty beats that word's, so
    words outside the lexicon (names, numbers) still read, and with `frequency_weight` b it ranks
    the words by log P + b * ln(10) * their log10 frequency (`word<TAB>zipf` lines; see
    postprocess/lexicon.py). Both score a non-empty
    text as exp(log P(text) / T), the per-frame geometric mean of its CTC probability; empty text
    scores 0 as in greedy. With `label` (int [N, L], 0-padded), also returns the labels decoded
    PaddleOCR's way (indices 0 dropped, repeats kept, score 1): `(preds_list, labels_list)`.
    `.character` is the class list with "blank" first (the head has `len(character)` outputs)."""

    def __init__(self, character_dict_path: Optional[str] = None, use_space_char: bool = False,
                 mode: str = "greedy", beam_width: int = 10, lexicon_path: Optional[str] = None,
                 lexicon: Optional[list] = None, max_edit_distance: int = 2,
                 oov_penalty: Optional[float] = None, frequency_weight: float = 0.0):
        if mode not in MODES:
            raise ConfigError(f"PostProcess.mode: unknown mode '{mode}'; known: {', '.join(MODES)}")
        if beam_width < 1:
            raise ConfigError(f"PostProcess.beam_width: must be at least 1, got {beam_width}")
        if max_edit_distance < 0:
            raise ConfigError(f"PostProcess.max_edit_distance: must be >= 0, got {max_edit_distance}")
        if oov_penalty is not None and not _is_finite_non_negative(oov_penalty):
            raise ConfigError(f"PostProcess.oov_penalty: a number of nats >= 0 (or null), got {oov_penalty!r}")
        if not _is_finite_non_negative(frequency_weight):
            raise ConfigError(f"PostProcess.frequency_weight: a number >= 0, got {frequency_weight!r}")
        self.charset = CharacterSet(character_dict_path, use_space_char)
        self.character: List[str] = self.charset.characters
        self._characters = np.array(self.character, dtype=object)
        self.mode = mode
        self.beam_width = beam_width
        self.lexicon: Optional[Lexicon] = None
        words, frequencies = read_lexicon(lexicon_path) if lexicon_path else ([], [])
        words += [str(w) for w in lexicon or []]
        frequencies += [None] * (len(words) - len(frequencies))
        if mode == "lexicon":
            if not words:
                raise ConfigError("PostProcess.lexicon_path: mode 'lexicon' needs lexicon_path or lexicon")
            source = f"PostProcess.lexicon_path ({lexicon_path})" if lexicon_path else "PostProcess.lexicon"
            self.lexicon = Lexicon(words, self.charset, max_edit_distance, source, oov_penalty, frequencies,
                                   frequency_weight)
        elif words or oov_penalty is not None or frequency_weight:
            get_logger().warning(f"PostProcess: a lexicon, oov_penalty or frequency_weight is given but mode "
                                 f"is '{mode}'; they are not used")

    def __call__(self, preds: Any, label: Any = None):
        if isinstance(preds, (list, tuple)):
            preds = preds[-1]
        preds = _to_numpy(preds)
        if self.mode == "beam":
            texts = self.decode_beam(preds)
        elif self.mode == "lexicon":
            texts = self.decode_lexicon(preds)
        else:
            texts = self.decode_greedy(preds)
        if label is None:
            return texts
        return texts, self.decode_labels(_to_numpy(label))

    @staticmethod
    def _greedy_paths(preds: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per frame the best class [N, T] and its value [N, T], and which frames the text keeps
        (not blank, not a repeat of the previous frame's class)."""
        best = preds.argmax(axis=2)
        # read the maxima at the argmax instead of a second full pass (C = 6625 makes it count)
        best_value = np.take_along_axis(preds, best[..., None], axis=2)[..., 0]
        keep = best != 0
        keep[:, 1:] &= best[:, 1:] != best[:, :-1]
        return best, best_value, keep

    def decode_greedy(self, preds: np.ndarray) -> List[Tuple[str, float]]:
        best, best_value, keep = self._greedy_paths(preds)
        counts = keep.sum(axis=1)
        sums = np.where(keep, best_value, 0.0).sum(axis=1, dtype=np.float64)
        scores = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        return [("".join(self._characters[best[n][keep[n]]]), float(scores[n])) for n in range(len(best))]

    def decode_beam(self, preds: np.ndarray) -> List[Tuple[str, float]]:
        results = []
        for log_probs in _log_probabilities(preds):
            indices, log_prob = prefix_beam_search(log_probs, self.beam_width)
            score = self._score(len(indices), log_prob, len(log_probs))
            results.append((self.charset.decode_indices(indices), score))
        return results

    def decode_lexicon(self, preds: np.ndarray) -> List[Tuple[str, float]]:
        paths, _, keep = self._greedy_paths(preds)
        greedy_labels = [path[kept] for path, kept in zip(paths, keep)]
        greedy_texts = ["".join(self._characters[label]) for label in greedy_labels]
        best = self.lexicon.best_words(greedy_texts, greedy_labels, _log_probability_columns(preds))
        return [(word, self._score(len(word), log_prob, preds.shape[1])) for word, log_prob in best]

    def decode_labels(self, labels: np.ndarray) -> List[Tuple[str, float]]:
        labels = labels.reshape(len(labels), -1).astype(np.int64)
        return [("".join(self._characters[row[row != 0]]), 1.0) for row in labels]

    @staticmethod
    def _score(text_length: int, log_prob: float, num_frames: int) -> float:
        return math.exp(log_prob / num_frames) if text_length else 0.0
