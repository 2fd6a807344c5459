"""Registered components of this kind."""
from .ctc_head import CTCHead  # noqa: F401  (registers CTCHead)
