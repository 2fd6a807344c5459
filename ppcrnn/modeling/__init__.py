"""Model components; importing this package registers them."""
from . import backbones, heads, necks  # noqa: F401  (registration side effects)
from .base_model import BaseModel, build_model

__all__ = ["BaseModel", "build_model"]
