"""Convert an exported inference directory to `inference.onnx` with paddle2onnx.

`export_onnx(model_dir)` reads `inference.json` (or `.pdmodel`) + `inference.pdiparams` and
writes `model_dir/inference.onnx` (opset 14 by default, input `x` [N, 3, H, W] with dynamic N and
W, output probabilities [N, W/4, C]); `inference.yml` stays valid for it, so PaddleX can run the
folder with `engine="onnxruntime"`. paddle2onnx's post-conversion optimisers are not used: they
install packages at run time."""
from __future__ import annotations

import os
from typing import Optional

from ..utils.logging import get_logger
from .engines import program_file

MIN_OPSET = 14  # BiLSTM -> ONNX LSTM; older opsets lack ops the converter needs


def _drop_dead_constants(onnx, path: str) -> None:
    """Remove Constant nodes nothing reads (paddle2onnx leaves some; ONNX Runtime warns about
    each one at load time)."""
    model = onnx.load(path)
    read = {name for node in model.graph.node for name in node.input} | {o.name for o in model.graph.output}
    dead = [node for node in model.graph.node if node.op_type == "Constant" and not set(node.output) & read]
    for node in dead:
        model.graph.node.remove(node)
    if dead:
        onnx.save(model, path)


def export_onnx(model_dir: str, save_file: Optional[str] = None, opset_version: int = MIN_OPSET,
                logger=None) -> str:
    """Write the ONNX model (default `model_dir/inference.onnx`) and return its path."""
    logger = logger or get_logger()
    if opset_version < MIN_OPSET:
        raise ValueError(f"opset_version: must be at least {MIN_OPSET}, got {opset_version}")
    try:
        import onnx
        import paddle2onnx
    except ImportError:
        raise ImportError("ONNX export needs paddle2onnx and onnx: pip install paddle2onnx onnx") from None
    program = program_file(model_dir)
    params = os.path.join(model_dir, "inference.pdiparams")
    if not os.path.isfile(params):
        raise FileNotFoundError(f"{params}: not found")
    save_file = save_file or os.path.join(model_dir, "inference.onnx")
    if os.path.exists(save_file):
        os.remove(save_file)  # paddle2onnx logs failures instead of raising; never keep a stale file
    paddle2onnx.export(program, params, save_file, opset_version=opset_version, auto_upgrade_opset=False,
                       enable_onnx_checker=True, optimize_tool="None")
    if not os.path.isfile(save_file):
        raise RuntimeError(f"paddle2onnx failed to convert {program} (see its log above)")
    _drop_dead_constants(onnx, save_file)
    onnx.checker.check_model(save_file)
    logger.info(f"wrote {save_file} (opset {opset_version})")
    return save_file
