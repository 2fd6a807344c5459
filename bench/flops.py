"""Arithmetic cost of a recognizer and the CPU's peak, for the "% of peak" column of infer_speed.py.

`count_flops(model, width)` runs one [1, 3, H, width] image through a dygraph model with forward
hooks and counts the matrix products, 2 FLOPs per multiply-add: convolutions (C_in/groups * kh *
kw * C_out * H_out * W_out), linear layers (in * out per row) and LSTMs (every weight_ih/weight_hh
matrix [4H, K] is applied once per time step: 4H * K * T). Element-wise work (batch norm,
activations, pooling, LSTM gates, softmax) is left out; it is a few % of the total for CRNN.

`peak_flops()` derives the fp32 peak of one core from /proc/cpuinfo: the widest FMA instruction
set among the flags (AVX-512: 16 lanes, AVX2+FMA: 8, otherwise SSE: 4 lanes, no FMA) * 2 FLOPs
per FMA * 2 FMA units per core (Intel since Haswell, Xeon Gold/Platinum for AVX-512; Xeon
Silver/Bronze have one AVX-512 unit, so their real peak is half) * the "cpu MHz" clock (the
nominal clock in a VM; turbo can exceed it). AMX / bf16 units are not counted (fp32 inference)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

FMA_UNITS_PER_CORE = 2


def count_flops(model, height: int, width: int) -> Dict[str, int]:
    """FLOPs per image by kind ({'conv', 'linear', 'lstm'}) for a [1, 3, height, width] input."""
    import paddle
    from paddle import nn

    totals = {"conv": 0, "linear": 0, "lstm": 0}

    def conv_hook(layer, inputs, output):
        kernel = layer.weight.shape  # [C_out, C_in / groups, kh, kw]
        totals["conv"] += 2 * kernel[1] * kernel[2] * kernel[3] * int(output.numel())

    def linear_hook(layer, inputs, output):
        totals["linear"] += 2 * layer.weight.shape[0] * int(output.numel())  # weight [in, out]

    def lstm_hook(layer, inputs, output):
        steps = inputs[0].shape[0 if layer.time_major else 1]
        matrices = [p for name, p in layer.named_parameters() if "weight_ih" in name or "weight_hh" in name]
        totals["lstm"] += sum(2 * p.shape[0] * p.shape[1] * steps for p in matrices)

    hooks = []
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, nn.Conv2D):
            hooks.append(layer.register_forward_post_hook(conv_hook))
        elif isinstance(layer, nn.Linear):
            hooks.append(layer.register_forward_post_hook(linear_hook))
        elif isinstance(layer, nn.LSTM):
            hooks.append(layer.register_forward_post_hook(lstm_hook))
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(paddle.zeros([1, 3, height, width], "float32"))
    finally:
        for hook in hooks:
            hook.remove()
        if was_training:
            model.train()
    return totals


@dataclass
class Peak:
    """fp32 peak of one core and how it was derived."""

    per_core: float
    derivation: str


def peak_flops(cpuinfo: Optional[str] = None) -> Optional[Peak]:
    """Peak FLOP/s of one core from /proc/cpuinfo text (read when not given); None if unknown."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as handle:
                cpuinfo = handle.read()
        except OSError:
            return None
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    try:
        megahertz = float(fields["cpu MHz"])
    except (KeyError, ValueError):
        return None
    if "avx512f" in flags:
        lanes, isa, per_instruction = 16, "AVX-512 FMA", 2
    elif "avx2" in flags and "fma" in flags:
        lanes, isa, per_instruction = 8, "AVX2 FMA", 2
    else:
        lanes, isa, per_instruction = 4, "SSE (no FMA)", 1
    per_core = megahertz * 1e6 * lanes * per_instruction * FMA_UNITS_PER_CORE
    derivation = (f"{isa}: {lanes} fp32 lanes x {per_instruction} FLOPs x {FMA_UNITS_PER_CORE} units x "
                  f"{megahertz:.0f} MHz = {per_core / 1e9:.1f} GFLOP/s per core")
    return Peak(per_core, derivation)
