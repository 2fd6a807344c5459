"""Faster CPU training: the model's depthwise convolutions on faster kernels, everything else as is.

Why: on CPU, Paddle's kernel for depthwise convolution (im2col and one tiny GEMM per sample and
channel) takes about half of a MobileNetV3 training step, and dygraph never dispatches to oneDNN
(FLAGS_use_mkldnn has no effect there). `accelerate_model` switches to one of two faster kernels,
in this order under `method="auto"`:

* `custom_op`: ppcrnn.ops's C++ operators (compiled on first use; needs a C++ compiler), called
  from dygraph: depthwise convolution for every plain depthwise conv of the model, and hard-swish
  (whose Paddle CPU gradient is 5x slower than its forward) for the hard-swish ConvBNLayers.
  Fastest; no graph capture.
* `onednn`: the backbone runs as a legacy-IR (ProgramDesc) `to_static` program in which only the
  `depthwise_conv2d` ops, and through them their gradient ops, carry `use_mkldnn`. Not PIR: PIR
  programs with oneDNN abort at run time (Paddle 3.3). Not every op: oneDNN's batch-norm,
  activation and pooling gradients and the layout reorders between them make that slower than
  dygraph, and pooling changes results.

Everything else keeps Paddle's native kernels, so losses match dygraph to float rounding.
bench/train_speed.py measures the paths; bench/RESULTS.md has the figures."""
from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Set, Tuple

import paddle
import paddle.nn as nn
from paddle.pir_utils import DygraphOldIrGuard
from paddle.static import InputSpec

from ..ops import depthwise_conv, hardswish
from ..utils.logging import get_logger

METHODS = ("auto", "custom_op", "onednn")
# Only these ops get oneDNN kernels; see the module docstring for why not more.
ONEDNN_OP_TYPES = ("depthwise_conv2d",)
# glibc mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
RETAINED_BYTES = 1 << 30


def onednn_unavailable_reason() -> Optional[str]:
    """Why the oneDNN path cannot run in this process, or None when it can."""
    if not paddle.device.get_device().startswith("cpu"):
        return f"the model runs on {paddle.device.get_device()}, oneDNN is for CPU"
    if not paddle.base.core.is_compiled_with_onednn():
        return "this Paddle build has no oneDNN"
    return None


def keep_freed_memory() -> bool:
    """Tell glibc to keep freed blocks below 1 GiB instead of returning them to the OS.

    Paddle frees and re-allocates every activation each step; by default glibc maps large blocks
    afresh, so each step pays tens of thousands of page faults (2-5% of a CPU step here). The
    cost is that the process keeps its peak memory. Process-wide; returns False where the C library
    has no `mallopt` (not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, RETAINED_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, RETAINED_BYTES))


class OneDNNDepthwiseForward:
    """A layer's `forward` replaced by a static program whose depthwise convolutions run on oneDNN.

    In: images [N, C, H, W] float32, with any N and W (one program per (C, H) and train/eval mode,
    built for [None, C, H, None]); out: what the layer's own forward returns, with gradients for
    all its parameters. Installing it sets `layer.forward` on the instance, so parameters and
    state_dict keys are untouched; `restore()` puts the original forward back. Inside another
    `to_static` trace (export) the original forward runs."""

    def __init__(self, layer: nn.Layer):
        self.layer = layer
        self.original_forward = layer.forward
        self.programs: Dict[Tuple[int, int], Callable] = {}
        self.marked: Set[Tuple[int, int, bool]] = set()
        layer.forward = self

    def __call__(self, images: paddle.Tensor) -> paddle.Tensor:
        if not paddle.in_dynamic_mode() or images.ndim != 4:
            return self.original_forward(images)
        with DygraphOldIrGuard():
            return self._marked_function(images)(images)

    def program_for(self, images: paddle.Tensor) -> paddle.static.Program:
        """The (legacy-IR) forward program that runs for `images` in the layer's current mode."""
        with DygraphOldIrGuard():
            return self._marked_function(images).get_concrete_program(images)[0].main_program

    def _marked_function(self, images: paddle.Tensor) -> Callable:
        """The static function for images of this (C, H), its program for the layer's current
        mode marked for oneDNN; call only under DygraphOldIrGuard."""
        channels, height = int(images.shape[1]), int(images.shape[2])
        function = self.programs.get((channels, height))
        if function is None:
            spec = [InputSpec([None, channels, height, None], "float32", "images")]
            function = paddle.jit.to_static(self.original_forward, input_spec=spec, full_graph=True)
            self.programs[(channels, height)] = function
        key = (channels, height, self.layer.training)
        if key not in self.marked:
            # Mark before the first run: the gradient ops copy the attribute, and the kernels are
            # chosen when the program first executes.
            concrete_program, _ = function.get_concrete_program(images)
            for op in concrete_program.main_program.global_block().ops:
                if op.type in ONEDNN_OP_TYPES and op.has_attr("use_mkldnn"):
                    op._set_attr("use_mkldnn", True)
            self.marked.add(key)
        return function

    def restore(self) -> None:
        self.layer.forward = self.original_forward


# Forwards that accelerate_model installs; restore_model removes them.
SWITCHED_FORWARDS = (OneDNNDepthwiseForward, depthwise_conv.FastDepthwiseForward, hardswish.FastHardswishForward)


def _install_onednn(model: nn.Layer) -> Optional[str]:
    """Install `OneDNNDepthwiseForward` on `model.backbone`; None when done, else why not."""
    backbone = getattr(model, "backbone", None)
    reason = onednn_unavailable_reason()
    if reason is None and not isinstance(backbone, nn.Layer):
        reason = "the model has no `backbone` layer"
    if reason is None and isinstance(backbone.forward, OneDNNDepthwiseForward):
        reason = "already installed"
    if reason is None and not any(depthwise_conv.is_plain_depthwise(layer) for layer in backbone.sublayers()):
        reason = "the backbone has no depthwise convolution"
    if reason is None:
        OneDNNDepthwiseForward(backbone)
    return reason


def accelerate_model(model: nn.Layer, method: str = "auto") -> Optional[str]:
    """Switch the model's depthwise convolutions (and, with "custom_op", its hard-swish
    ConvBNLayers) to faster CPU kernels, in place.

    `method`: "custom_op", "onednn" or "auto" (the first of those that works; see the module
    docstring). Returns the method installed, or None (logging why) on GPU, when nothing can be
    built, when the model has no depthwise convolution or when it is already accelerated. The
    neck and head are unchanged (under "onednn" they stay dygraph: the legacy-IR tracer cannot
    capture nn.LSTM)."""
    if method not in METHODS:
        raise ValueError(f"accelerate_model: method must be one of {', '.join(METHODS)}, got {method!r}")
    logger = get_logger()
    if any(isinstance(layer.forward, SWITCHED_FORWARDS) for layer in model.sublayers(include_self=True)):
        logger.info("fast training step: the model is already accelerated")
        return None
    reasons = []
    if method in ("auto", "custom_op"):
        count, reason = depthwise_conv.install(model)
        if count:
            activations, _ = hardswish.install(model)
            logger.info(f"fast training step: {count} depthwise convolutions and {activations} hard-swish "
                        f"activations use ppcrnn's C++ operators")
            return "custom_op"
        reasons.append(f"custom_op: {reason}")
    if method in ("auto", "onednn"):
        reason = _install_onednn(model)
        if reason is None:
            logger.info("fast training step: the backbone runs as a static program with oneDNN depthwise "
                        "convolutions")
            return "onednn"
        reasons.append(f"onednn: {reason}")
    logger.info(f"fast training step not used ({'; '.join(reasons)})")
    return None


def restore_model(model: nn.Layer) -> None:
    """Undo `accelerate_model` (no-op when it was not installed)."""
    depthwise_conv.uninstall(model)
    hardswish.uninstall(model)
    forward = getattr(getattr(model, "backbone", None), "forward", None)
    if isinstance(forward, OneDNNDepthwiseForward):
        forward.restore()


@dataclass
class StepResult:
    """What a `TrainStep` returns: the loss value, infeasible labels, logits [N, T, C] (detached)."""

    loss: float
    infeasible: int
    logits: paddle.Tensor


class TrainStep:
    """One optimisation step: forward, loss, backward, optimizer step, clear_grad.

    `images` float32 [N, 3, H, W], `labels` int [N, L] (0-padded), `lengths` int [N]; returns a
    `StepResult` with the loss as a float, the loss's `infeasible` count and the logits [N, T, C]
    (detached). With `to_static` the model is first passed to `accelerate_model(model, method)`;
    `.accelerated` is the method installed or None."""

    def __init__(self, model: nn.Layer, loss_fn: nn.Layer, optimizer: paddle.optimizer.Optimizer,
                 to_static: bool = True, method: str = "auto"):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.accelerated = accelerate_model(model, method) if to_static else None

    def __call__(self, images, labels, lengths) -> StepResult:
        logits = self.model(images)
        losses = self.loss_fn(logits, [images, labels, lengths])
        loss = losses["loss"]
        loss.backward()
        self.optimizer.step()
        self.optimizer.clear_grad()
        return StepResult(float(loss), int(losses.get("infeasible", 0)), logits.detach())


def build_train_step(model: nn.Layer, loss_fn: nn.Layer, optimizer: paddle.optimizer.Optimizer,
                     to_static: bool = True, method: str = "auto") -> TrainStep:
    """`TrainStep(model, loss_fn, optimizer, to_static, method)`; see `TrainStep`."""
    return TrainStep(model, loss_fn, optimizer, to_static, method)
