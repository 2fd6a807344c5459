"""PaddleOCR's recognition transforms (registered in TRANSFORMS) and the helpers that chain them."""
from __future__ import annotations

from typing import Any, List, Optional

from ...config import validate_transform_entry, with_global
from ...errors import ConfigError
from ...registry import TRANSFORMS
from .ctc_label_encode import CTCLabelEncode
from .decode_image import DecodeImage
from .keep_keys import KeepKeys
from .rec_aug import RecAug
from .rec_resize_img import RecResizeImg, fixed_width_resize, predictor_resize

__all__ = ["CTCLabelEncode", "DecodeImage", "KeepKeys", "RecAug", "RecResizeImg", "create_operators",
           "transform", "fixed_width_resize", "predictor_resize"]


def create_operators(op_list: List[Any], global_config: Optional[dict] = None,
                     key_path: str = "transforms") -> list:
    """Build the ops of a `transforms:` list; each entry is a one-key `{OpName: {params} | None}`.

    As in PaddleOCR every op receives `{**params, **Global}` (Global wins); keys an op does not
    take are ignored for Global but an unknown key in the op's own params is a ConfigError."""
    if not isinstance(op_list, list) or not op_list:
        raise ConfigError(f"{key_path}: expected a non-empty list of one-key mappings")
    ops = []
    for i, entry in enumerate(op_list):
        where = f"{key_path}.{i}"
        name, params = validate_transform_entry(entry, where)
        merged = with_global(params, global_config or {})
        try:
            ops.append(TRANSFORMS.build({"name": name, **merged}, f"{where}.{name}", passthrough=True))
        except ConfigError as exc:  # raised by the op's own checks, which name only the option
            raise ConfigError(f"{where}: {exc}") from None
    return ops


def transform(data: Any, ops: list):
    """Run `ops` in order; None as soon as one drops the sample."""
    for op in ops:
        data = op(data)
        if data is None:
            return None
    return data
