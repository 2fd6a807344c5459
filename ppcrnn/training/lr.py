"""Learning-rate schedules under PaddleOCR's names, each a factory returning a Paddle scheduler.

All schedules are step-based: the trainer calls `scheduler.step()` after every iteration, and
`epochs` / `step_each_epoch` are injected by `build_lr_scheduler`. `warmup_epoch` (may be
fractional) wraps any schedule in a linear ramp from 0 to the schedule's first value over
`round(warmup_epoch * step_each_epoch)` steps, as PaddleOCR does."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional, Union

from paddle.optimizer import lr as paddle_lr

from ..errors import ConfigError
from ..registry import LR_SCHEDULES

Schedule = Union[float, paddle_lr.LRScheduler]


def with_warmup(schedule: Schedule, first_lr: float, warmup_epoch: float, step_each_epoch: int,
                last_epoch: int = -1) -> Schedule:
    """`schedule` behind a linear warm-up from 0 to `first_lr`, or unchanged without warm-up."""
    warmup_steps = round(warmup_epoch * step_each_epoch)
    if warmup_steps <= 0:
        return schedule
    return paddle_lr.LinearWarmup(learning_rate=schedule, warmup_steps=warmup_steps, start_lr=0.0,
                                  end_lr=first_lr, last_epoch=last_epoch)


def _total_steps(epochs: int, step_each_epoch: int) -> int:
    if epochs < 1 or step_each_epoch < 1:
        raise ConfigError(f"Optimizer.lr: need epochs >= 1 and steps per epoch >= 1, got {epochs} and "
                          f"{step_each_epoch}")
    return epochs * step_each_epoch


@LR_SCHEDULES.register
def Const(learning_rate: float, epochs: int = 1, step_each_epoch: int = 1, warmup_epoch: float = 0,
          last_epoch: int = -1) -> Schedule:
    """Constant `learning_rate` (a float, so nothing to step) unless a warm-up is asked for."""
    return with_warmup(float(learning_rate), learning_rate, warmup_epoch, step_each_epoch, last_epoch)


@LR_SCHEDULES.register
def Cosine(learning_rate: float, epochs: int, step_each_epoch: int, warmup_epoch: float = 0,
           last_epoch: int = -1) -> Schedule:
    """Cosine annealing from `learning_rate` to 0 over all training steps."""
    schedule = paddle_lr.CosineAnnealingDecay(learning_rate, T_max=_total_steps(epochs, step_each_epoch),
                                              last_epoch=last_epoch)
    return with_warmup(schedule, learning_rate, warmup_epoch, step_each_epoch, last_epoch)


@LR_SCHEDULES.register
def Piecewise(decay_epochs: List[int], values: List[float], step_each_epoch: int, epochs: int = 1,
              warmup_epoch: float = 0, last_epoch: int = -1) -> Schedule:
    """`values[i]` until epoch `decay_epochs[i]` (one more value than boundaries)."""
    if len(values) != len(decay_epochs) + 1:
        raise ConfigError(f"Optimizer.lr.values: needs len(decay_epochs) + 1 = {len(decay_epochs) + 1} "
                          f"values, got {len(values)}")
    boundaries = [int(step_each_epoch * e) for e in decay_epochs]
    schedule = paddle_lr.PiecewiseDecay(boundaries, [float(v) for v in values], last_epoch=last_epoch)
    return with_warmup(schedule, values[0], warmup_epoch, step_each_epoch, last_epoch)


@LR_SCHEDULES.register
def Step(learning_rate: float, step_size: float, step_each_epoch: int, epochs: int = 1,
         gamma: float = 0.1, warmup_epoch: float = 0, last_epoch: int = -1) -> Schedule:
    """Multiply by `gamma` every `step_size` epochs."""
    schedule = paddle_lr.StepDecay(learning_rate, step_size=max(1, round(step_size * step_each_epoch)),
                                   gamma=gamma, last_epoch=last_epoch)
    return with_warmup(schedule, learning_rate, warmup_epoch, step_each_epoch, last_epoch)


@LR_SCHEDULES.register
def Linear(learning_rate: float, epochs: int, step_each_epoch: int, end_lr: float = 0.0,
           power: float = 1.0, warmup_epoch: float = 0, last_epoch: int = -1) -> Schedule:
    """Polynomial decay from `learning_rate` to `end_lr` over all training steps (power 1: linear)."""
    schedule = paddle_lr.PolynomialDecay(learning_rate, decay_steps=_total_steps(epochs, step_each_epoch),
                                         end_lr=end_lr, power=power, last_epoch=last_epoch)
    return with_warmup(schedule, learning_rate, warmup_epoch, step_each_epoch, last_epoch)


@LR_SCHEDULES.register
def OneCycle(max_lr: float, epochs: int, step_each_epoch: int, divide_factor: float = 25.0,
             end_lr: float = 0.0001, phase_pct: float = 0.3, anneal_strategy: str = "cos",
             three_phase: bool = False, warmup_epoch: float = 0, last_epoch: int = -1) -> Schedule:
    """One-cycle policy: up from `max_lr / divide_factor` to `max_lr`, then down to `end_lr`."""
    if anneal_strategy not in ("cos", "linear"):
        raise ConfigError(f"Optimizer.lr.anneal_strategy: 'cos' or 'linear', got {anneal_strategy!r}")
    schedule = paddle_lr.OneCycleLR(max_learning_rate=max_lr, total_steps=_total_steps(epochs, step_each_epoch),
                                    divide_factor=divide_factor, end_learning_rate=end_lr,
                                    phase_pct=phase_pct, anneal_strategy=anneal_strategy,
                                    three_phase=three_phase, last_epoch=last_epoch)
    return with_warmup(schedule, max_lr / divide_factor, warmup_epoch, step_each_epoch, last_epoch)


def require_options(target: Callable, options: Dict[str, Any], key_path: str) -> None:
    """ConfigError naming the first required constructor argument missing from `options`."""
    for name, param in inspect.signature(target).parameters.items():
        if param.default is param.empty and param.kind is param.POSITIONAL_OR_KEYWORD and name not in options:
            raise ConfigError(f"{key_path}.{name}: missing (required by {getattr(target, '__name__', target)})")


def build_lr_scheduler(lr_config: Optional[Union[dict, float]], epochs: int, step_each_epoch: int) -> Schedule:
    """`Optimizer.lr` -> a float (constant, no warm-up) or a Paddle LRScheduler.

    Without `name` the block is a constant `learning_rate` (PaddleOCR's default), with optional
    `warmup_epoch`."""
    if lr_config is None:
        raise ConfigError("Optimizer.lr: missing (e.g. {learning_rate: 0.0005})")
    if isinstance(lr_config, (int, float)) and not isinstance(lr_config, bool):
        lr_config = {"learning_rate": float(lr_config)}
    if not isinstance(lr_config, dict):
        raise ConfigError(f"Optimizer.lr: expected a mapping or a number, got {lr_config!r}")
    if not lr_config.get("name"):
        lr_config = {**lr_config, "name": "Const"}
    injected = {"epochs": epochs, "step_each_epoch": step_each_epoch}
    require_options(LR_SCHEDULES.get(lr_config["name"], "Optimizer.lr"), {**lr_config, **injected}, "Optimizer.lr")
    return LR_SCHEDULES.build(lr_config, "Optimizer.lr", **injected)
