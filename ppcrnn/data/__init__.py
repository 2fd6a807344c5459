"""Data pipeline: PaddleOCR transforms and datasets (registered), a synthetic generator, loaders.

Public entry points: `build_dataset(config, mode, seed=None)`, `build_synthetic_dataset(config,
mode)`, `build_dataloader(config, mode, seed=None, distributed=False)`, `set_epoch(loader, epoch)`,
`create_operators(op_list, Global)`, `transform(data, ops)`, `PadCollate`. Datasets report skipped
samples with `scan_report()` (at construction) and `skip_report()` / `reset_skips()` (per epoch,
across worker processes)."""
from . import datasets, transforms  # noqa: F401  (registration side effects)
from .collate import PadCollate
from .loader import build_dataloader, build_dataset, build_synthetic_dataset, set_epoch
from .transforms import create_operators, transform

__all__ = ["build_dataset", "build_synthetic_dataset", "build_dataloader", "set_epoch", "create_operators",
           "transform", "PadCollate"]
