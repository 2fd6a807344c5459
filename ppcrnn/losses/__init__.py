"""Registered components of this kind."""
from .ctc_loss import CTCLoss  # noqa: F401
from .feasibility import count_infeasible, ctc_min_length, infeasible_mask  # noqa: F401
