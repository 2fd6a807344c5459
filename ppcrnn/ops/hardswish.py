"""Putting ppcrnn's C++ hard-swish (hardswish.cc, built by build.py) into the model's ConvBNLayers.

`ConvBNLayer.forward` calls `F.hardswish` directly, so the switch replaces the forward of each
ConvBNLayer whose activation is hard-swish with conv -> bn -> C++ hard-swish, the same sequence;
tests/test_fast_step.py checks that it gives ConvBNLayer's own outputs, so a change to
ConvBNLayer that this file does not follow fails there."""
from __future__ import annotations

from typing import Optional, Tuple

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ..modeling.common import ConvBNLayer
from .build import restore_forwards, switch_forwards

OP_NAME = "ppcrnn_hardswish"


def is_hardswish_conv_bn(layer: nn.Layer) -> bool:
    """An unmodified ConvBNLayer (its class's forward) that ends in hard-swish."""
    return (isinstance(layer, ConvBNLayer) and type(layer).forward is ConvBNLayer.forward
            and "forward" not in vars(layer) and layer.if_act and layer.act == "hardswish")


class FastHardswishForward:
    """Replacement `forward` of a hard-swish ConvBNLayer: conv -> bn -> C++ hard-swish.

    In: x [N, C_in, H, W]; out: [N, C_out, H', W'], ConvBNLayer's result (same formula) with the
    same gradients. Set on the instance; `restore()` puts the original back. Outside dygraph the
    original forward runs, and Paddle's hard-swish takes features that are not float32 on CPU."""

    def __init__(self, layer: ConvBNLayer, operator):
        self.layer = layer
        self.operator = operator
        self.original_forward = layer.forward
        layer.forward = self

    def __call__(self, x: paddle.Tensor) -> paddle.Tensor:
        if not paddle.in_dynamic_mode():
            return self.original_forward(x)
        features = self.layer.bn(self.layer.conv(x))
        if features.dtype != paddle.float32 or not features.place.is_cpu_place():
            return F.hardswish(features)
        return getattr(self.operator, OP_NAME)(features)

    def restore(self) -> None:
        self.layer.forward = self.original_forward


def install(model: nn.Layer) -> Tuple[int, Optional[str]]:
    """Put `FastHardswishForward` on every hard-swish ConvBNLayer of `model`.

    Returns (number of layers switched, None) or (0, why not)."""
    return switch_forwards(model, is_hardswish_conv_bn, FastHardswishForward, "no hard-swish ConvBNLayer to switch (or already switched)")


def uninstall(model: nn.Layer) -> int:
    """Restore every layer switched by `install`; returns how many."""
    return restore_forwards(model, FastHardswishForward)
