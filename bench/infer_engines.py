"""The variants bench/infer_speed.py times and how each engine is built in a child process.

`make_engine(variant, work, config_path, threads)` returns a callable: float32 [N, 3, H, W] numpy in,
probabilities [N, W/4, C] numpy out. ONNX Runtime and Paddle Inference are ppcrnn's own
`OnnxEngine` / `PaddleEngine` over the exports in `work` (pir/ with inference.json and
inference.onnx, legacy/ with inference.pdmodel); a Paddle "knob" is one more Paddle Inference config
call on top of PaddleEngine's settings; dygraph is the config's model in eval mode under no_grad,
with `work/weights.pdparams` when present."""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np

BASELINE = "onnxruntime"
# Paddle Inference config calls tried with --knobs; applied on top of PaddleEngine's own settings.
KNOB_CALLS = {
    "cache_unbounded": lambda config: config.set_mkldnn_cache_capacity(0),
    "ir_optim_off": lambda config: config.switch_ir_optim(False),
    "memory_optim": lambda config: config.enable_memory_optim(),
    "old_executor": lambda config: config.enable_new_executor(False),
    "level_3": lambda config: config.set_optimization_level(3),
    "bf16": lambda config: config.enable_mkldnn_bfloat16(),
}


@dataclass
class Variant:
    description: str
    engine: str                  # onnxruntime | paddle | dygraph
    mkldnn: bool = True
    threads: Optional[int] = None  # None: --threads
    knobs: Tuple[str, ...] = ()
    program: str = "pir"         # pir (inference.json) | legacy (inference.pdmodel)
    env: Dict[str, str] = field(default_factory=dict)  # set in the child's environment


ENGINES = {
    "onnxruntime": Variant("ONNX Runtime, CPUExecutionProvider (baseline)", "onnxruntime"),
    "paddle oneDNN": Variant("Paddle Inference, oneDNN on (PaddleEngine default)", "paddle"),
    "paddle no oneDNN": Variant("Paddle Inference, oneDNN off", "paddle", mkldnn=False),
    "dygraph": Variant("paddle dygraph, eval mode, no_grad", "dygraph"),
}
KNOBS = {
    "onnxruntime": ENGINES["onnxruntime"],
    "paddle oneDNN": ENGINES["paddle oneDNN"],
    "onnxruntime 2 threads": Variant("intra_op_num_threads=2", "onnxruntime", threads=2),
    "paddle 2 threads": Variant("cpu_math_library_num_threads=2", "paddle", threads=2),
    "cache unbounded": Variant("set_mkldnn_cache_capacity(0) instead of 10", "paddle", knobs=("cache_unbounded",)),
    "ir optim off": Variant("switch_ir_optim(False): no fusion passes", "paddle", knobs=("ir_optim_off",)),
    "memory optim": Variant("enable_memory_optim()", "paddle", knobs=("memory_optim",)),
    "old executor": Variant("enable_new_executor(False)", "paddle", knobs=("old_executor",)),
    "legacy program": Variant("inference.pdmodel (export_with_pir=false)", "paddle", program="legacy"),
    "optimization level 3": Variant("set_optimization_level(3) (default 2)", "paddle", knobs=("level_3",)),
    "bf16": Variant("enable_mkldnn_bfloat16() (AMX/AVX-512 bf16; other numerics)", "paddle", knobs=("bf16",)),
    # MKL's own code-path choice, its SSE path on AMD CPUs (ppcrnn/utils/mkl_dispatch.py)
    "MKL default": Variant("MKL_DEBUG_CPU_TYPE empty instead of ppcrnn's 5 on AMD", "paddle",
                           env={"MKL_DEBUG_CPU_TYPE": ""}),
}
KNOBS_ALWAYS = ("onnxruntime", "paddle oneDNN")  # the knob table's baseline and PaddleEngine as it is
VARIANTS = {**ENGINES, **KNOBS}


class DygraphEngine:
    """The config's model in dygraph: float32 [N, 3, H, W] numpy -> probabilities numpy."""

    def __init__(self, config_path: str, weights: Optional[str], threads: int):
        import paddle
        from ppcrnn.config import load_config
        from ppcrnn.weights import load_pretrained
        paddle.set_device("cpu")
        paddle.base.core.set_num_threads(threads)
        self.paddle = paddle
        self.model = build_model(load_config(config_path, []))
        if weights:
            load_pretrained(self.model, weights)
        self.model.eval()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self.paddle.no_grad():
            return self.model(self.paddle.to_tensor(batch)).numpy()


def build_model(config: dict):
    """The config's architecture with the head sized for its dictionary (as export_model does)."""
    import paddle
    import ppcrnn
    from ppcrnn.character import CharacterSet
    architecture = copy.deepcopy(config["Architecture"])
    architecture.setdefault("Head", {})["out_channels"] = CharacterSet.from_config(config["Global"]).num_classes
    paddle.seed(0)
    return ppcrnn.build_model(architecture)


def make_engine(variant: Variant, work: str, config_path: str, threads: int):
    from ppcrnn.inference.engines import OnnxEngine, PaddleEngine
    threads = variant.threads or threads
    if variant.engine == "onnxruntime":
        return OnnxEngine(os.path.join(work, "pir"), threads)
    if variant.engine == "dygraph":
        weights = os.path.join(work, "weights.pdparams")
        return DygraphEngine(config_path, weights if os.path.isfile(weights) else None, threads)
    model_dir = os.path.join(work, variant.program)
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"no {variant.program} export (needs -c/--weights, not --model_dir)")
    import paddle.inference as paddle_infer
    create = paddle_infer.create_predictor

    def create_with_knobs(config):
        for knob in variant.knobs:
            KNOB_CALLS[knob](config)
        return create(config)

    # PaddleEngine builds its config and predictor in one go; wrapping create_predictor applies
    # the knobs on top of exactly its settings.
    paddle_infer.create_predictor = create_with_knobs
    try:
        return PaddleEngine(model_dir, threads, variant.mkldnn, use_gpu=False)
    finally:
        paddle_infer.create_predictor = create
