"""MixedDataSet: several datasets drawn from in one epoch, e.g. synthetic words plus real crops."""
from __future__ import annotations

import bisect
from typing import List, Optional

from ...errors import ConfigError
from ...registry import DATASETS
from ..width_batches import predictor_width


def batch_layout(dataset) -> tuple:
    """What samples must share to be batched: each resize's image_shape and predictor width."""
    shapes = tuple(tuple(op.image_shape) for op in getattr(dataset, "ops", []) if hasattr(op, "image_shape"))
    return shapes, predictor_width(dataset)


@DATASETS.register
class MixedDataSet:
    """One epoch holds every sample of each dataset in `datasets` (each a dataset config with its
    own transforms) `repeats[i]` times; the loader's sampler shuffles them together, so a batch
    mixes the sources in proportion to len x repeats. Items are the children's (KeepKeys' list,
    the same keys and predictor resize in every child, checked here). Per-epoch variation, skip
    counts and label-scan reports are the children's. build_dataset passes `mode`, `seed`,
    `shuffle`, `global_config` and `key_prefix`; they go to every child."""

    def __init__(self, datasets: List[dict], repeats: Optional[List[int]] = None, mode: str = "train",
                 seed: Optional[int] = None, shuffle: bool = False, global_config: Optional[dict] = None,
                 key_prefix: str = "dataset"):
        if not datasets or not isinstance(datasets, list):
            raise ConfigError(f"{key_prefix}.datasets: expected a list of dataset configs")
        repeats = [1] * len(datasets) if repeats is None else list(repeats)
        if len(repeats) != len(datasets) or any(type(r) is not int or r < 1 for r in repeats):
            raise ConfigError(f"{key_prefix}.repeats: expected {len(datasets)} whole numbers >= 1, got {repeats}")
        self.children = []
        for i, child in enumerate(datasets):
            where = f"{key_prefix}.datasets[{i}]"
            if isinstance(child, dict) and child.get("name") == "MixedDataSet":
                raise ConfigError(f"{where}: a MixedDataSet inside a MixedDataSet; list the datasets flat")
            self.children.append(DATASETS.build(child, where, mode=mode, seed=seed, shuffle=shuffle,
                                                global_config=global_config, key_prefix=where))
        first = self.children[0]
        for i, child in enumerate(self.children[1:], 1):
            if child.keep_keys != first.keep_keys or batch_layout(child) != batch_layout(first):
                raise ConfigError(f"{key_prefix}.datasets[{i}]: its KeepKeys / RecResizeImg differ from "
                                  f"datasets[0]'s; a batch must hold alike samples")
        self.repeats = repeats
        self.ops, self.rules, self.keep_keys = first.ops, first.rules, first.keep_keys
        self.ends = []
        total = 0
        for child, repeat in zip(self.children, repeats):
            total += len(child) * repeat
            self.ends.append(total)

    def describe(self) -> str:
        parts = [f"{child.describe()} x{repeat}" for child, repeat in zip(self.children, self.repeats)]
        return f"MixedDataSet({' + '.join(parts)})"

    def __len__(self) -> int:
        return self.ends[-1]

    def __getitem__(self, index: int):
        which = bisect.bisect_right(self.ends, index)
        start = self.ends[which - 1] if which else 0
        child = self.children[which]
        return child[(index - start) % len(child)]

    def set_epoch(self, epoch: int) -> None:
        for child in self.children:
            child.set_epoch(epoch)

    def scan_report(self) -> str:
        return "\n".join(child.scan_report() for child in self.children)

    def skip_report(self, reset: bool = True) -> str:
        return "\n".join(filter(None, (child.skip_report(reset) for child in self.children)))
