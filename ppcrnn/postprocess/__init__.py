"""Registered components of this kind."""
from .ctc_label_decode import CTCLabelDecode  # noqa: F401
