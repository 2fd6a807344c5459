"""Putting ppcrnn's C++ depthwise convolution (depthwise_conv.cc, built by build.py) in place of a
model's depthwise `nn.Conv2D` layers."""
from __future__ import annotations

from typing import Optional, Tuple

import paddle
import paddle.nn as nn

from .build import restore_forwards, switch_forwards

OP_NAME = "ppcrnn_depthwise_conv2d"


def plain_padding(layer: nn.Conv2D) -> Optional[Tuple[int, int]]:
    """(pad_h, pad_w) when the layer pads symmetrically with zeros, else None."""
    padding = getattr(layer, "_updated_padding", None)
    if (getattr(layer, "_padding_algorithm", "EXPLICIT") != "EXPLICIT" or layer._padding_mode != "zeros"
            or not isinstance(padding, (list, tuple)) or len(padding) != 2):
        return None
    return int(padding[0]), int(padding[1])


def is_plain_depthwise(layer: nn.Layer) -> bool:
    """A float32 NCHW depthwise Conv2D (one filter per channel) without bias or dilation."""
    return (isinstance(layer, nn.Conv2D) and layer._groups > 1
            and layer._groups == layer._in_channels == layer._out_channels
            and layer._data_format == "NCHW" and list(layer._dilation) == [1, 1] and layer.bias is None
            and layer.weight.dtype == paddle.float32 and plain_padding(layer) is not None)


class FastDepthwiseForward:
    """Replacement `forward` of a depthwise `nn.Conv2D`, calling the custom operator.

    In: x float32 [N, C, H, W]; out: [N, C, OH, OW], the layer's own result up to float rounding,
    with gradients for x and the layer's weight. Set on the instance, so parameters and state_dict
    keys are untouched; `restore()` puts the original back. Outside dygraph (an export trace) the
    original forward runs, so exported programs need no custom operator."""

    def __init__(self, layer: nn.Conv2D, operator):
        self.layer = layer
        self.operator = operator
        self.original_forward = layer.forward
        self.stride = (int(layer._stride[0]), int(layer._stride[1]))
        self.padding = plain_padding(layer)
        layer.forward = self

    def __call__(self, x: paddle.Tensor) -> paddle.Tensor:
        if not paddle.in_dynamic_mode() or x.dtype != paddle.float32 or not x.place.is_cpu_place():
            return self.original_forward(x)
        return getattr(self.operator, OP_NAME)(x, self.layer.weight, *self.stride, *self.padding)

    def restore(self) -> None:
        self.layer.forward = self.original_forward


def install(model: nn.Layer) -> Tuple[int, Optional[str]]:
    """Put `FastDepthwiseForward` on every plain depthwise conv of `model`.

    Returns (number of layers switched, None) or (0, why not)."""
    return switch_forwards(model, is_plain_depthwise, FastDepthwiseForward, "no plain depthwise convolution to switch (or already switched)")


def uninstall(model: nn.Layer) -> int:
    """Restore every layer switched by `install`; returns how many."""
    return restore_forwards(model, FastDepthwiseForward)
