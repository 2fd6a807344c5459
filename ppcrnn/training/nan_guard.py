"""Non-finite losses: the step is skipped and counted; too many in a row stop training."""
from __future__ import annotations

from ..errors import TrainingDiverged  # noqa: F401  (re-exported: raised here)


class NanGuard:
    """Counts non-finite losses (`total`, `in_a_row`); `check(step, loss)` returns True when the
    step may proceed, False when it must be skipped, and raises TrainingDiverged once
    `max_in_a_row` steps in a row were non-finite (0 disables the stop)."""

    def __init__(self, max_in_a_row: int, logger):
        self.max_in_a_row = max_in_a_row
        self.logger = logger
        self.total = 0
        self.in_a_row = 0

    def check(self, global_step: int, loss_value: float, finite: bool) -> bool:
        if finite:
            self.in_a_row = 0
            return True
        self.total += 1
        self.in_a_row += 1
        self.logger.warning(f"global_step {global_step}: loss is {loss_value}; step skipped "
                            f"({self.in_a_row} in a row, {self.total} in total)")
        if self.max_in_a_row and self.in_a_row >= self.max_in_a_row:
            raise TrainingDiverged(
                f"training diverged: {self.in_a_row} steps in a row had a non-finite loss (last at "
                f"global_step {global_step}). Lower Optimizer.lr.learning_rate, add a warm-up "
                f"(Optimizer.lr.warmup_epoch), or set Optimizer.clip_norm_global; check the data for "
                f"broken labels. (Global.max_nan_steps = {self.max_in_a_row})")
        return False
