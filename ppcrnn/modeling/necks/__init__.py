"""Registered components of this kind."""
from .sequence_encoder import SequenceEncoder  # noqa: F401  (registers SequenceEncoder)
