"""PaddleOCR's `CTCHead`: per-step class scores. Registered as `CTCHead`."""
from __future__ import annotations

from typing import Optional

import paddle.nn as nn
import paddle.nn.functional as F

from ...registry import HEADS
from ..common import uniform_linear_attrs


@HEADS.register
class CTCHead(nn.Layer):
    """Sequence [N, T, in_channels] -> [N, T, out_channels] class scores (out_channels = characters
    + 1 for the blank).

    Training returns logits (or `(features, logits)` with `return_feats`); eval mode returns
    softmax probabilities, so an exported model outputs probabilities. One `fc` layer, or `fc1`
    (-> mid_channels) and `fc2` when `mid_channels` is set; each weight and bias is initialised
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and carries its own L2Decay(fc_decay)."""

    def __init__(self, in_channels: int, out_channels: int, fc_decay: float = 0.0004,
                 mid_channels: Optional[int] = None, return_feats: bool = False):
        super().__init__()
        if mid_channels is None:
            weight_attr, bias_attr = uniform_linear_attrs(fc_decay, in_channels)
            self.fc = nn.Linear(in_channels, out_channels, weight_attr=weight_attr, bias_attr=bias_attr)
        else:
            weight_attr, bias_attr = uniform_linear_attrs(fc_decay, in_channels)
            self.fc1 = nn.Linear(in_channels, mid_channels, weight_attr=weight_attr, bias_attr=bias_attr)
            weight_attr, bias_attr = uniform_linear_attrs(fc_decay, mid_channels)
            self.fc2 = nn.Linear(mid_channels, out_channels, weight_attr=weight_attr, bias_attr=bias_attr)
        self.out_channels = out_channels
        self.mid_channels = mid_channels
        self.return_feats = return_feats

    def forward(self, x):
        if self.mid_channels is None:
            logits = self.fc(x)
        else:
            x = self.fc1(x)
            logits = self.fc2(x)
        if not self.training:
            return F.softmax(logits, axis=2)
        return (x, logits) if self.return_feats else logits
