"""Registered components of this kind."""
from .rec_metric import RecMetric  # noqa: F401
