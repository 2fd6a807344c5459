"""PaddleOCR's `CTCLoss`, plus reporting of labels too long for the sequence."""
from __future__ import annotations

from typing import Any, Dict, Sequence

import numpy as np
import paddle
from paddle import nn

from ..registry import LOSSES
from ..utils.logging import get_logger
from .feasibility import count_infeasible

# Infeasible batches are warned about on the first occurrence and then every this many batches,
# so a dataset full of long labels is reported without flooding the log.
WARN_EVERY_BATCHES = 100


def _to_numpy(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, paddle.Tensor) else np.asarray(value)


def _to_tensor(value: Any) -> paddle.Tensor:
    return value if isinstance(value, paddle.Tensor) else paddle.to_tensor(np.asarray(value))


@LOSSES.register
class CTCLoss(nn.Layer):
    """CTC loss on logits, with PaddleOCR's semantics.

    `predicts`: logits [N, T, C] (or a list/tuple whose last item is). `batch`: `[images, labels,
    lengths, ...]` with labels int [N, L] padded with 0 and lengths [N]. Paddle's CTC (blank 0,
    softmax inside) gives each sample its summed negative log-likelihood; `use_focal_loss` weights
    it by `(1 - exp(-loss))^2`; the batch mean is returned as `{'loss': scalar tensor,
    'infeasible': int}`, where `infeasible` counts samples whose label needs more than T frames
    (Paddle silently gives them loss 0); a warning is logged when there are any."""

    def __init__(self, use_focal_loss: bool = False):
        super().__init__()
        self.use_focal_loss = use_focal_loss
        self.loss_func = nn.CTCLoss(blank=0, reduction="none")
        self.infeasible_total = 0
        self.infeasible_batches = 0

    def forward(self, predicts: Any, batch: Sequence[Any]) -> Dict[str, Any]:
        if isinstance(predicts, (list, tuple)):
            predicts = predicts[-1]
        num_samples, num_frames = predicts.shape[0], predicts.shape[1]
        logits = predicts.transpose([1, 0, 2])
        input_lengths = paddle.full([num_samples], num_frames, dtype="int64")
        labels = _to_tensor(batch[1]).astype("int32")
        label_lengths = _to_tensor(batch[2]).astype("int64").reshape([-1])
        loss = self.loss_func(logits, labels, input_lengths, label_lengths)
        if self.use_focal_loss:
            weight = paddle.square(1.0 - paddle.exp(-loss))
            loss = loss * weight
        infeasible = count_infeasible(_to_numpy(batch[1]), _to_numpy(batch[2]), num_frames)
        if infeasible:
            self._warn(infeasible, num_samples, num_frames)
        return {"loss": loss.mean(), "infeasible": infeasible}

    def _warn(self, infeasible: int, num_samples: int, num_frames: int) -> None:
        self.infeasible_total += infeasible
        self.infeasible_batches += 1
        if (self.infeasible_batches - 1) % WARN_EVERY_BATCHES == 0:
            get_logger().warning(
                f"CTCLoss: {infeasible}/{num_samples} labels in this batch need more than "
                f"{num_frames} frames (length + adjacent repeats) and get loss 0, so they do not "
                f"train ({self.infeasible_total} so far in {self.infeasible_batches} batches); "
                f"filter them (ppcrnn.losses.count_infeasible) or use wider images")
