"""PaddleOCR's `SequenceEncoder` neck: feature map -> sequence, optionally encoded by an FC or a
two-layer BiLSTM. Registered as `SequenceEncoder`."""
from __future__ import annotations

from typing import Literal

import paddle.nn as nn

from ...errors import ConfigError
from ...registry import NECKS
from ..common import uniform_linear_attrs


class Im2Seq(nn.Layer):
    """[N, C, 1, W] -> [N, W, C] (batch-major sequence, one step per feature column)."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.out_channels = in_channels

    def forward(self, x):
        # The static H of a [None, 3, 32, None] export is known (1), so this check is static-safe.
        height = x.shape[2]
        assert height == 1, f"Im2Seq expects feature maps of height 1, got {height}"
        return x.squeeze(axis=2).transpose([0, 2, 1])


class EncoderWithRNN(nn.Layer):
    """Two-layer bidirectional LSTM: [N, T, in_channels] -> [N, T, 2 * hidden_size]."""

    def __init__(self, in_channels: int, hidden_size: int):
        super().__init__()
        self.out_channels = hidden_size * 2
        self.lstm = nn.LSTM(in_channels, hidden_size, direction="bidirectional", num_layers=2)

    def forward(self, x):
        x, _ = self.lstm(x)
        return x


class EncoderWithFC(nn.Layer):
    """One linear layer: [N, T, in_channels] -> [N, T, hidden_size]."""

    def __init__(self, in_channels: int, hidden_size: int):
        super().__init__()
        self.out_channels = hidden_size
        weight_attr, bias_attr = uniform_linear_attrs(0.00001, in_channels)
        self.fc = nn.Linear(in_channels, hidden_size, weight_attr=weight_attr, bias_attr=bias_attr,
                            name="reduce_encoder_fea")

    def forward(self, x):
        return self.fc(x)


ENCODERS = {"fc": EncoderWithFC, "rnn": EncoderWithRNN}


@NECKS.register
class SequenceEncoder(nn.Layer):
    """Backbone features [N, in_channels, 1, W] -> sequence [N, W, out_channels].

    `encoder_type`: "reshape" (Im2Seq only, out_channels = in_channels), "fc" (out = hidden_size)
    or "rnn" (2-layer BiLSTM, out = 2 * hidden_size)."""

    def __init__(self, in_channels: int, encoder_type: Literal["reshape", "fc", "rnn"], hidden_size: int = 48):
        super().__init__()
        known = ("reshape",) + tuple(ENCODERS)
        if encoder_type not in known:
            raise ConfigError(f"Architecture.Neck.encoder_type: expected one of {', '.join(known)}, "
                              f"got {encoder_type!r}")
        self.encoder_type = encoder_type
        self.encoder_reshape = Im2Seq(in_channels)
        self.only_reshape = encoder_type == "reshape"
        self.out_channels = self.encoder_reshape.out_channels
        if not self.only_reshape:
            self.encoder = ENCODERS[encoder_type](self.encoder_reshape.out_channels, hidden_size)
            self.out_channels = self.encoder.out_channels

    def forward(self, x):
        x = self.encoder_reshape(x)
        return x if self.only_reshape else self.encoder(x)
