"""Runtimes for an exported model directory. Each engine is called with a float32 batch
[N, 3, H, W] and returns the model's softmax probabilities [N, W/4, num_classes] as numpy.

`PaddleEngine` runs `inference.json` (or legacy `inference.pdmodel`) + `inference.pdiparams` with
Paddle Inference; `OnnxEngine` runs `inference.onnx` (see `ppcrnn.inference.onnx`) with ONNX
Runtime. Both are optional at import time: a missing runtime raises a message saying what to
install."""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

ENGINES = ("paddle", "onnxruntime")


def gpu_available() -> bool:
    import paddle

    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def program_file(model_dir: str) -> str:
    # PaddleX's rule: the PIR program wins when both formats are present.
    for name in ("inference.json", "inference.pdmodel"):
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{model_dir}: no inference.json or inference.pdmodel; export the model first")


class PaddleEngine:
    """Paddle Inference predictor: CPU threads and oneDNN, or a GPU when `use_gpu`."""

    def __init__(self, model_dir: str, cpu_threads: int = 4, enable_mkldnn: bool = True,
                 use_gpu: bool = False, gpu_id: int = 0):
        import paddle.inference as paddle_infer

        params = os.path.join(model_dir, "inference.pdiparams")
        if not os.path.isfile(params):
            raise FileNotFoundError(f"{params}: not found")
        config = paddle_infer.Config(program_file(model_dir), params)
        if use_gpu:
            if not gpu_available():
                raise RuntimeError("use_gpu=True but this Paddle build sees no CUDA GPU")
            config.enable_use_gpu(256, gpu_id)
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(cpu_threads)
            if enable_mkldnn:
                config.enable_mkldnn()
                # Every new input width is a new oneDNN shape; bound the primitive cache.
                config.set_mkldnn_cache_capacity(10)
            else:
                config.disable_mkldnn()
        config.disable_glog_info()
        self.predictor = paddle_infer.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.input.reshape(list(batch.shape))
        self.input.copy_from_cpu(np.ascontiguousarray(batch, dtype=np.float32))
        self.predictor.run()
        return self.output.copy_to_cpu()


class OnnxEngine:
    """ONNX Runtime session over `inference.onnx`."""

    def __init__(self, model_dir: str, cpu_threads: int = 4, use_gpu: bool = False):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ImportError("engine='onnxruntime' needs ONNX Runtime: pip install onnxruntime") from None
        path = os.path.join(model_dir, "inference.onnx")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: not found; convert with tools/export_onnx.py first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        providers = ["CPUExecutionProvider"]
        if use_gpu:
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("use_gpu=True but this onnxruntime has no CUDAExecutionProvider")
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(path, options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)})[0]


def build_engine(model_dir: str, engine: str = "paddle", cpu_threads: int = 4, enable_mkldnn: bool = True,
                 use_gpu: Optional[bool] = None):
    """An engine by name; `use_gpu=None` means "a GPU if Paddle sees one" (Paddle engine only).
    `cpu_threads` is capped at the machine's cores: more threads than cores made ONNX Runtime's
    spinning pool run at half its 1-thread speed (bench/RESULTS.md, Inference speed)."""
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    cpu_threads = max(1, min(cpu_threads, os.cpu_count() or cpu_threads))
    if engine == "paddle":
        return PaddleEngine(model_dir, cpu_threads, enable_mkldnn, gpu_available() if use_gpu is None else use_gpu)
    return OnnxEngine(model_dir, cpu_threads, bool(use_gpu))
