"""Building ppcrnn's C++ CPU operators (depthwise_conv.cc, hardswish.cc) into one Paddle extension.

They are compiled on first use with the machine's C++ compiler (paddle.utils.cpp_extension, about
20 s; later processes load the cached build in a few seconds) into $PPCRNN_CACHE_DIR or
~/.cache/ppcrnn/ops/<key>, where the key covers the sources, the Paddle version and the CPU's
instruction sets (the build uses -march=native). A file lock keeps concurrent processes
(data-parallel ranks, test workers) from building at the same time."""
from __future__ import annotations

import fcntl
import hashlib
import os
from typing import Callable, Optional, Tuple

import paddle

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = [os.path.join(HERE, name) for name in ("depthwise_conv.cc", "hardswish.cc")]
COMPILE_FLAGS = ["-O3", "-march=native", "-fopenmp-simd"]

_loaded: dict = {}


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next((line for line in handle if line.startswith("flags")), "")
    except OSError:
        return ""


def build_directory() -> str:
    digest = hashlib.sha256()
    for source in SOURCES:
        with open(source, "rb") as handle:
            digest.update(handle.read())
    digest.update(f"{paddle.__version__}|{' '.join(COMPILE_FLAGS)}|{_cpu_flags()}".encode())
    root = os.environ.get("PPCRNN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "ppcrnn")
    return os.path.join(root, "ops", digest.hexdigest()[:16])


def load_operators() -> Tuple[Optional[object], Optional[str]]:
    """(module with `ppcrnn_depthwise_conv2d` and `ppcrnn_hardswish`, None), or (None, why they
    cannot be had: GPU, no compiler, ...). Built once per process."""
    if "result" in _loaded:
        return _loaded["result"]
    if not paddle.device.get_device().startswith("cpu"):
        result = (None, f"the model runs on {paddle.device.get_device()}; the operators are CPU-only")
    else:
        try:
            from paddle.utils.cpp_extension import load
            folder = build_directory()
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "build.lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                module = load(name="ppcrnn_ops", sources=SOURCES, extra_cxx_cflags=COMPILE_FLAGS,
                              build_directory=folder, verbose=False)
            result = (module, None)
        except Exception as error:  # no compiler, headers or permissions: the caller falls back
            result = (None, f"building the C++ operators failed: {str(error).strip()[:300]}")
    _loaded["result"] = result
    return result


def switch_forwards(model, wanted: Callable, forward_class: type, nothing: str) -> Tuple[int, Optional[str]]:
    """Put `forward_class(layer, operators)` on every sublayer of `model` for which `wanted(layer)`
    holds and which is not switched yet. Returns (layers switched, None) or (0, why not): `nothing`
    when no layer qualifies, else why the operators cannot be loaded."""
    layers = [layer for layer in model.sublayers(include_self=True)
              if wanted(layer) and not isinstance(layer.forward, forward_class)]
    if not layers:
        return 0, nothing
    operators, reason = load_operators()
    if operators is None:
        return 0, reason
    for layer in layers:
        forward_class(layer, operators)
    return len(layers), None


def restore_forwards(model, forward_class: type) -> int:
    """Undo `switch_forwards` for `forward_class`; returns how many layers were restored."""
    switched = [layer for layer in model.sublayers(include_self=True)
                if isinstance(layer.forward, forward_class)]
    for layer in switched:
        layer.forward.restore()
    return len(switched)
