"""Building datasets and paddle DataLoaders from the Train / Eval sections of a config."""
from __future__ import annotations

from typing import Optional

from paddle.io import BatchSampler, DataLoader, DistributedBatchSampler

from ..errors import ConfigError, DataError
from ..registry import DATASETS
from .collate import PadCollate
from .datasets import MixedDataSet, SyntheticDataSet
from .width_batches import WidthRegroupedLoader, predictor_width

# Names accepted for `loader.collate_fn`; PadCollate is also the default.
COLLATE_FUNCTIONS = {"PadCollate": PadCollate}


def _split_name(mode: str) -> str:
    split = {"train": "Train", "eval": "Eval"}.get(str(mode).lower())
    if split is None:
        raise ConfigError(f"mode: expected 'Train' or 'Eval', got {mode!r}")
    return split


def _section(config: dict, split: str) -> dict:
    section = config.get(split)
    if not isinstance(section, dict) or not isinstance(section.get("dataset"), dict):
        raise ConfigError(f"{split}.dataset: missing (a mapping with name, data_dir, transforms)")
    return section


def _seed(config: dict, seed: Optional[int]) -> int:
    return (config.get("Global") or {}).get("seed", 1024) if seed is None else seed


def build_dataset(config: dict, mode: str, seed: Optional[int] = None):
    """The dataset of `config[mode]` ('Train' or 'Eval'), its transforms built with Global merged.

    `seed` (default Global.seed) fixes SimpleDataSet's line sampling/shuffle and LMDBDataSet's
    shuffle; PaddleOCR passes the epoch here when a ratio_list < 1 asks for a new subset."""
    split = _split_name(mode)
    section = _section(config, split)
    global_config = config.get("Global") or {}
    loader = section.get("loader") or {}
    return DATASETS.build(section["dataset"], f"{split}.dataset", mode=split.lower(),
                          seed=_seed(config, seed), shuffle=bool(loader.get("shuffle", False)),
                          global_config=global_config, key_prefix=f"{split}.dataset")


def build_synthetic_dataset(config: dict, mode: str) -> SyntheticDataSet:
    """The SyntheticDataSet of `config[mode]`: the dataset itself or a MixedDataSet's first one."""
    dataset = build_dataset(config, mode)
    children = dataset.children if isinstance(dataset, MixedDataSet) else [dataset]
    synthetic = next((d for d in children if isinstance(d, SyntheticDataSet)), None)
    if synthetic is None:
        raise ConfigError(f"{_split_name(mode)}.dataset: holds no SyntheticDataSet")
    return synthetic


def _collate(name, where: str):
    if name is None:
        return PadCollate()
    key = name.get("name") if isinstance(name, dict) else name
    if key not in COLLATE_FUNCTIONS:
        raise ConfigError(f"{where}: unknown collate_fn {key!r}; known: {', '.join(COLLATE_FUNCTIONS)}")
    return COLLATE_FUNCTIONS[key]()


def build_dataloader(config: dict, mode: str, seed: Optional[int] = None,
                     distributed: bool = False, dataset=None) -> DataLoader:
    """A paddle DataLoader over `build_dataset(config, mode, seed)` (or the given `dataset`).

    Loader keys (PaddleOCR's): batch_size_per_card (required), shuffle, drop_last, num_workers,
    use_shared_memory (default True), collate_fn (default PadCollate: right-pads varying widths),
    and ppcrnn's regroup_by_width: N (Train, RecResizeImg eval_mode) which pools N batches of
    varying-width crops and re-cuts them sorted by width, so each pads little (WidthRegroupedLoader),
    with `random_pad_prob: p` padding a fraction p of those batches wider again, as PaddleOCR's
    file-order inference batches pad short words.
    Train uses a DistributedBatchSampler when `distributed`; otherwise a BatchSampler. Batches are
    lists in KeepKeys order, e.g. [images float32 [N, 3, 32, W], labels int64 [N, 25], lengths [N]]."""
    split = _split_name(mode)
    loader = _section(config, split).get("loader") or {}
    if "batch_size_per_card" not in loader:
        raise ConfigError(f"{split}.loader.batch_size_per_card: missing")
    dataset = dataset if dataset is not None else build_dataset(config, split, seed)
    batch_size = loader["batch_size_per_card"]
    shuffle, drop_last = bool(loader.get("shuffle", False)), bool(loader.get("drop_last", False))
    sampler_class = DistributedBatchSampler if (split == "Train" and distributed) else BatchSampler
    batch_sampler = sampler_class(dataset=dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    data_loader = DataLoader(dataset, batch_sampler=batch_sampler, return_list=True,
                             num_workers=int(loader.get("num_workers", 0)),
                             use_shared_memory=bool(loader.get("use_shared_memory", True)),
                             collate_fn=_collate(loader.get("collate_fn"), f"{split}.loader.collate_fn"))
    pool = int(loader.get("regroup_by_width") or 0)
    if pool < 0:
        raise ConfigError(f"{split}.loader.regroup_by_width: expected a number of batches >= 0, got {pool}")
    min_width = predictor_width(dataset)
    regroup = split == "Train" and pool > 1 and min_width  # fixed-width crops have nothing to regroup
    pad_prob = float(loader.get("random_pad_prob") or 0)
    if pad_prob and not (regroup and 0 < pad_prob <= 1):
        raise ConfigError(f"{split}.loader.random_pad_prob: expected a probability in [0, 1] on a Train loader "
                          f"with regroup_by_width > 1 and RecResizeImg eval_mode, got {pad_prob}")
    if regroup:
        data_loader = WidthRegroupedLoader(data_loader, pool, min_width, pad_prob, _seed(config, seed))
    if split == "Train" and len(data_loader) == 0:
        raise DataError(f"{dataset.describe()}: {len(dataset)} usable samples make no batch of "
                        f"batch_size_per_card={batch_size} with drop_last; add data or lower the batch size")
    return data_loader


def set_epoch(data_loader: DataLoader, epoch: int) -> None:
    """Call before each epoch: reshuffles a DistributedBatchSampler, lets the dataset vary and
    re-seeds a WidthRegroupedLoader's padding draws."""
    if hasattr(data_loader, "set_epoch"):
        data_loader.set_epoch(epoch)
    if hasattr(data_loader.batch_sampler, "set_epoch"):
        data_loader.batch_sampler.set_epoch(epoch)
    if hasattr(data_loader.dataset, "set_epoch"):
        data_loader.dataset.set_epoch(epoch)
