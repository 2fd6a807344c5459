"""Registered components of this kind."""
from .mobilenet_v3 import MobileNetV3  # noqa: F401  (registers MobileNetV3)
