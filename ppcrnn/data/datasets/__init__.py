"""Registered datasets: PaddleOCR's SimpleDataSet and LMDBDataSet, and our SyntheticDataSet."""
from .base import RecDataset, SampleError  # noqa: F401
from .lmdb_dataset import LMDBDataSet  # noqa: F401
from .simple_dataset import SimpleDataSet  # noqa: F401
from .synthetic import SyntheticDataSet  # noqa: F401
