"""Optimizers under PaddleOCR's names: `Adam`, `AdamW`, `Momentum`, `RMSProp`.

Each registered class holds the `Optimizer` section of a config (typed, so the config validator
checks it) and `.build(model, epochs, step_each_epoch)` returns `(paddle optimizer, lr)` where
`lr` is the float or LRScheduler from `Optimizer.lr`. Shared options, as in PaddleOCR:
`regularizer: {name: L2|L1, factor}` (L2 becomes the optimizer's float `weight_decay`, L1 a
`paddle.regularizer.L1Decay`), or a plain `weight_decay`; `clip_norm` (per tensor) or
`clip_norm_global` (over all gradients). Per-parameter regularizers (CTCHead's `fc_decay`) win."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import paddle

from ..errors import ConfigError
from ..registry import OPTIMIZERS
from .lr import Schedule, build_lr_scheduler

LrConfig = Union[dict, float]


class OptimizerBuilder:
    """The options every optimizer shares; subclasses add theirs and implement `_create`."""

    def __init__(self, lr: Optional[LrConfig], regularizer: Optional[dict], weight_decay: Optional[float],
                 clip_norm: Optional[float], clip_norm_global: Optional[float]):
        if clip_norm is not None and clip_norm_global is not None:
            raise ConfigError("Optimizer: set clip_norm or clip_norm_global, not both")
        if regularizer is not None and weight_decay is not None:
            raise ConfigError("Optimizer: set regularizer or weight_decay, not both")
        self.lr_config = lr
        self.regularizer = regularizer
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.clip_norm_global = clip_norm_global

    def build(self, model: paddle.nn.Layer, epochs: int,
              step_each_epoch: int) -> Tuple[paddle.optimizer.Optimizer, Schedule]:
        """The Paddle optimizer over the model's trainable parameters, and its learning rate."""
        learning_rate = build_lr_scheduler(self.lr_config, epochs, step_each_epoch)
        named = [(n, p) for n, p in model.named_parameters() if p.trainable]
        optimizer = self._create(learning_rate, self._decay(), self._grad_clip(), named)
        return optimizer, learning_rate

    def _create(self, learning_rate, weight_decay, grad_clip, named_parameters):
        """The Paddle optimizer; `named_parameters` is [(structured name, parameter)]."""
        raise NotImplementedError

    def _decay(self):
        if self.regularizer is None:
            return self.weight_decay
        options = dict(self.regularizer)
        name = str(options.pop("name", "")).replace("Decay", "")
        factor = options.pop("factor", 0.0)
        if options:
            raise ConfigError(f"Optimizer.regularizer.{next(iter(options))}: unknown option; known: name, factor")
        if not isinstance(factor, (int, float)) or isinstance(factor, bool):
            raise ConfigError(f"Optimizer.regularizer.factor: expected a number, got {factor!r}")
        if name == "L2":
            return float(factor)
        if name == "L1":
            return paddle.regularizer.L1Decay(float(factor))
        raise ConfigError(f"Optimizer.regularizer.name: unknown regularizer {name!r}; known: L1, L2")

    def _grad_clip(self):
        if self.clip_norm is not None:
            return paddle.nn.ClipGradByNorm(clip_norm=float(self.clip_norm))
        if self.clip_norm_global is not None:
            return paddle.nn.ClipGradByGlobalNorm(clip_norm=float(self.clip_norm_global))
        return None


@OPTIMIZERS.register
class Adam(OptimizerBuilder):
    """Adam (`beta1`, `beta2`, `epsilon`, `lazy_mode`) with L2 coupled into the gradient."""

    def __init__(self, lr: Optional[LrConfig] = None, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, lazy_mode: bool = False, regularizer: Optional[dict] = None,
                 weight_decay: Optional[float] = None, clip_norm: Optional[float] = None,
                 clip_norm_global: Optional[float] = None):
        super().__init__(lr, regularizer, weight_decay, clip_norm, clip_norm_global)
        self.beta1, self.beta2, self.epsilon, self.lazy_mode = beta1, beta2, epsilon, lazy_mode

    def _create(self, learning_rate, weight_decay, grad_clip, named_parameters):
        return paddle.optimizer.Adam(learning_rate=learning_rate, beta1=self.beta1, beta2=self.beta2,
                                     epsilon=self.epsilon, parameters=[p for _, p in named_parameters],
                                     weight_decay=weight_decay,
                                     grad_clip=grad_clip, lazy_mode=self.lazy_mode)


@OPTIMIZERS.register
class AdamW(OptimizerBuilder):
    """AdamW: decoupled float `weight_decay` (default 0.01, or an L2 regularizer's factor);
    `no_weight_decay_name` (space-separated name fragments) and `one_dim_param_no_weight_decay`
    exempt parameters from it."""

    def __init__(self, lr: Optional[LrConfig] = None, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, lazy_mode: bool = False, regularizer: Optional[dict] = None,
                 weight_decay: Optional[float] = None, clip_norm: Optional[float] = None,
                 clip_norm_global: Optional[float] = None, no_weight_decay_name: Optional[str] = None,
                 one_dim_param_no_weight_decay: bool = False):
        super().__init__(lr, regularizer, weight_decay, clip_norm, clip_norm_global)
        self.beta1, self.beta2, self.epsilon, self.lazy_mode = beta1, beta2, epsilon, lazy_mode
        self.no_decay_fragments = (no_weight_decay_name or "").split()
        self.one_dim_no_decay = one_dim_param_no_weight_decay

    def _create(self, learning_rate, weight_decay, grad_clip, named_parameters):
        if weight_decay is None:
            weight_decay = 0.01
        if not isinstance(weight_decay, float):
            raise ConfigError("Optimizer.regularizer: AdamW takes a decoupled L2 factor, not L1")
        # Matched against structured names (`head.fc.bias`), as PaddleOCR does.
        exempt = {p.name for n, p in named_parameters
                  if any(f in n for f in self.no_decay_fragments)
                  or (self.one_dim_no_decay and len(p.shape) == 1)}
        return paddle.optimizer.AdamW(learning_rate=learning_rate, beta1=self.beta1, beta2=self.beta2,
                                      epsilon=self.epsilon, parameters=[p for _, p in named_parameters],
                                      weight_decay=weight_decay,
                                      apply_decay_param_fun=lambda name: name not in exempt,
                                      grad_clip=grad_clip, lazy_mode=self.lazy_mode)


@OPTIMIZERS.register
class Momentum(OptimizerBuilder):
    """SGD with `momentum` (and optional Nesterov)."""

    def __init__(self, lr: Optional[LrConfig] = None, momentum: float = 0.9, use_nesterov: bool = False,
                 regularizer: Optional[dict] = None, weight_decay: Optional[float] = None,
                 clip_norm: Optional[float] = None, clip_norm_global: Optional[float] = None):
        super().__init__(lr, regularizer, weight_decay, clip_norm, clip_norm_global)
        self.momentum, self.use_nesterov = momentum, use_nesterov

    def _create(self, learning_rate, weight_decay, grad_clip, named_parameters):
        return paddle.optimizer.Momentum(learning_rate=learning_rate, momentum=self.momentum,
                                         use_nesterov=self.use_nesterov,
                                         parameters=[p for _, p in named_parameters],
                                         weight_decay=weight_decay, grad_clip=grad_clip)


@OPTIMIZERS.register
class RMSProp(OptimizerBuilder):
    """RMSProp (`rho`, `epsilon`, `momentum`, `centered`)."""

    def __init__(self, lr: Optional[LrConfig] = None, rho: float = 0.95, epsilon: float = 1e-6,
                 momentum: float = 0.0, centered: bool = False, regularizer: Optional[dict] = None,
                 weight_decay: Optional[float] = None, clip_norm: Optional[float] = None,
                 clip_norm_global: Optional[float] = None):
        super().__init__(lr, regularizer, weight_decay, clip_norm, clip_norm_global)
        self.rho, self.epsilon, self.momentum, self.centered = rho, epsilon, momentum, centered

    def _create(self, learning_rate, weight_decay, grad_clip, named_parameters):
        return paddle.optimizer.RMSProp(learning_rate=learning_rate, rho=self.rho, epsilon=self.epsilon,
                                        momentum=self.momentum, centered=self.centered,
                                        parameters=[p for _, p in named_parameters],
                                        weight_decay=weight_decay,
                                        grad_clip=grad_clip)


def build_optimizer(optimizer_config: dict, model: paddle.nn.Layer, epochs: int,
                    step_each_epoch: int) -> Tuple[paddle.optimizer.Optimizer, Schedule]:
    """`Optimizer` section -> (paddle optimizer, float or LRScheduler to step every iteration)."""
    if not optimizer_config:
        raise ConfigError("Optimizer: missing (e.g. {name: Adam, lr: {learning_rate: 0.0005}})")
    builder = OPTIMIZERS.build(optimizer_config, "Optimizer")
    return builder.build(model, epochs, step_each_epoch)
