"""KeepKeys: the sample dict -> the list of fields the model and loss read."""
from __future__ import annotations

from typing import List

from ...errors import ConfigError
from ...registry import TRANSFORMS


@TRANSFORMS.register
class KeepKeys:
    """Turn the sample dict into `[data[k] for k in keep_keys]` (e.g. image, label, length); the
    DataLoader batches each position, so the order here is the order of the batch list."""

    def __init__(self, keep_keys: List[str] = ("image", "label", "length")):
        if not keep_keys:
            raise ConfigError("KeepKeys.keep_keys: expected a non-empty list of keys")
        self.keep_keys = list(keep_keys)

    def __call__(self, data: dict):
        missing = [key for key in self.keep_keys if key not in data]
        if missing:
            raise KeyError(f"KeepKeys: sample has no {', '.join(missing)} (it has {', '.join(data)})")
        return [data[key] for key in self.keep_keys]
