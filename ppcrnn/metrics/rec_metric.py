"""PaddleOCR's `RecMetric`: word accuracy and normalised edit distance."""
from __future__ import annotations

import string
from typing import Any, Dict, Sequence, Tuple

from rapidfuzz.distance import Levenshtein

from ..registry import METRICS

ALPHANUMERIC = set(string.digits + string.ascii_letters)
EPS = 1e-5


@METRICS.register
class RecMetric:
    """Accumulates recognition accuracy over batches.

    `__call__((preds, labels))` takes the two lists of `(text, score)` that `CTCLabelDecode`
    returns when given labels (the batch PaddleOCR's loop also passes is ignored), adds them to
    the running totals and returns this batch's `{'acc', 'norm_edit_dis'}`; `get_metric()`
    returns the totals' and resets. acc = exact matches
    / (count + 1e-5); norm_edit_dis = 1 - sum(edit distance / longer length) / (count + 1e-5).
    `ignore_space` removes spaces from both texts first; `is_filter` keeps only [0-9A-Za-z] and
    lower-cases. `main_indicator` names the key used to pick the best model."""

    def __init__(self, main_indicator: str = "acc", is_filter: bool = False, ignore_space: bool = True):
        self.main_indicator = main_indicator
        self.is_filter = is_filter
        self.ignore_space = ignore_space
        self.reset()

    def _normalise(self, text: str) -> str:
        if self.ignore_space:
            text = text.replace(" ", "")
        if self.is_filter:
            text = "".join(char for char in text if char in ALPHANUMERIC).lower()
        return text

    def __call__(self, pred_label: Tuple[Sequence[tuple], Sequence[tuple]],
                 batch: Any = None) -> Dict[str, float]:
        preds, labels = pred_label
        correct, count, distance = 0, 0, 0.0
        for (pred, _), (target, _) in zip(preds, labels):
            pred, target = self._normalise(pred), self._normalise(target)
            distance += Levenshtein.normalized_distance(pred, target)
            correct += pred == target
            count += 1
        self.correct_num += correct
        self.all_num += count
        self.norm_edit_dis += distance
        return {"acc": correct / (count + EPS), "norm_edit_dis": 1 - distance / (count + EPS)}

    def get_metric(self) -> Dict[str, float]:
        metric = {"acc": self.correct_num / (self.all_num + EPS),
                  "norm_edit_dis": 1 - self.norm_edit_dis / (self.all_num + EPS)}
        self.reset()
        return metric

    def reset(self) -> None:
        self.correct_num = 0
        self.all_num = 0
        self.norm_edit_dis = 0.0
