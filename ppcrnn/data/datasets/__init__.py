"""Registered datasets: PaddleOCR's SimpleDataSet and LMDBDataSet, our SyntheticDataSet, and
MixedDataSet, which draws from several of them."""
from .base import RecDataset, SampleError  # noqa: F401
from .lmdb_dataset import LMDBDataSet  # noqa: F401
from .mixed_dataset import MixedDataSet  # noqa: F401
from .simple_dataset import SimpleDataSet  # noqa: F401
from .synthetic import SyntheticDataSet  # noqa: F401
