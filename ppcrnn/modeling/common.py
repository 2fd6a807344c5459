"""Building blocks shared by the model components, laid out exactly as PaddleOCR's.

Attribute names (`conv`, `bn`, `avg_pool`, `conv1`, `conv2`) become state_dict keys, and the layer
classes and creation order fix Paddle's auto-generated parameter names (`conv2d_0.w_0`,
`batch_norm_0.w_0`, ...) that optimizer `.pdopt` files are keyed by, so neither may change."""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle import ParamAttr
from paddle.nn.initializer import Uniform
from paddle.regularizer import L2Decay

Stride = Union[int, Tuple[int, int]]
ACTIVATIONS = ("relu", "hardswish")


def make_divisible(value: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    """Round a channel count to a multiple of `divisor`, never losing more than 10%."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def uniform_linear_attrs(l2_decay: float, fan_in: int) -> Tuple[ParamAttr, ParamAttr]:
    """Weight and bias attributes of PaddleOCR's linear layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    init and a per-parameter L2 decay (which overrides the optimizer-level regularizer)."""
    bound = 1.0 / math.sqrt(fan_in)
    return tuple(ParamAttr(regularizer=L2Decay(l2_decay), initializer=Uniform(-bound, bound))
                 for _ in range(2))


class ConvBNLayer(nn.Layer):
    """Conv2D (no bias) -> fluid-style BatchNorm -> optional activation.

    In: [N, in_channels, H, W]; out: [N, out_channels, H', W'] with the usual conv arithmetic.
    `act` is "relu" or "hardswish" and is applied only when `if_act` is true."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: Stride,
                 padding: int, groups: int = 1, if_act: bool = True, act: Optional[str] = None):
        super().__init__()
        if if_act and act not in ACTIVATIONS:
            raise ValueError(f"ConvBNLayer: unsupported activation {act!r}; use one of {ACTIVATIONS}")
        self.if_act = if_act
        self.act = act
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                              groups=groups, bias_attr=False)
        # nn.BatchNorm (not BatchNorm2D): keys _mean/_variance and param names batch_norm_N.
        self.bn = nn.BatchNorm(num_channels=out_channels, act=None)

    def forward(self, x):
        x = self.bn(self.conv(x))
        if not self.if_act:
            return x
        return F.relu(x) if self.act == "relu" else F.hardswish(x)


class SEModule(nn.Layer):
    """Squeeze-and-excitation gate: global average -> 1x1 conv (C -> C//4) -> ReLU -> 1x1 conv
    (C//4 -> C) -> hard-sigmoid clip(0.2x + 0.5, 0, 1) -> scale the input. Shape preserved."""

    def __init__(self, in_channels: int, reduction: int = 4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(in_channels, in_channels // reduction, 1, stride=1, padding=0)
        self.conv2 = nn.Conv2D(in_channels // reduction, in_channels, 1, stride=1, padding=0)

    def forward(self, inputs):
        gate = F.relu(self.conv1(self.avg_pool(inputs)))
        gate = F.hardsigmoid(self.conv2(gate), slope=0.2, offset=0.5)
        return inputs * gate


def _is_unit_stride(stride: Stride) -> bool:
    # PaddleOCR tests `stride == 1`: a tuple such as (1, 1) is not equal to 1, so it never gets
    # the shortcut. Kept for weight and output compatibility.
    return isinstance(stride, int) and not isinstance(stride, bool) and stride == 1


class ResidualUnit(nn.Layer):
    """MobileNetV3 inverted bottleneck: 1x1 expand -> k x k depthwise (stride) -> optional SE ->
    1x1 linear projection, plus the input when the stride is the int 1 and in == out channels.

    In: [N, in_channels, H, W]; out: [N, out_channels, H/sh, W/sw]."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, kernel_size: int,
                 stride: Stride, use_se: bool, act: str):
        super().__init__()
        self.if_shortcut = _is_unit_stride(stride) and in_channels == out_channels
        self.if_se = use_se
        self.expand_conv = ConvBNLayer(in_channels, mid_channels, 1, 1, 0, if_act=True, act=act)
        self.bottleneck_conv = ConvBNLayer(mid_channels, mid_channels, kernel_size, stride,
                                           padding=(kernel_size - 1) // 2, groups=mid_channels,
                                           if_act=True, act=act)
        if self.if_se:
            self.mid_se = SEModule(mid_channels)
        self.linear_conv = ConvBNLayer(mid_channels, out_channels, 1, 1, 0, if_act=False)

    def forward(self, inputs):
        x = self.bottleneck_conv(self.expand_conv(inputs))
        if self.if_se:
            x = self.mid_se(x)
        x = self.linear_conv(x)
        return paddle.add(inputs, x) if self.if_shortcut else x
