"""Training, evaluation and checkpoints; importing this package registers the optimizers and LR
schedules (OPTIMIZERS, LR_SCHEDULES) that config validation checks `Optimizer` against."""
from . import lr, optimizer  # noqa: F401  (registration side effects)
from .optimizer import build_optimizer
from .lr import build_lr_scheduler

__all__ = ["build_optimizer", "build_lr_scheduler"]
