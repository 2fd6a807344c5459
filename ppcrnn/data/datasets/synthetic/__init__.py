"""The built-in synthetic text-image generator."""
from .dataset import SyntheticDataSet  # noqa: F401
