"""Intel MKL's AVX2 code path on AMD CPUs.

Paddle's CPU wheel ships MKL 2019 (`libmklml_intel.so`), which takes its slow SSE code path on any
CPU whose vendor is not Intel. On an AMD EPYC (Zen 3, AVX2) a CRNN training step (the 1x1
convolutions and the LSTM are matrix products) then takes 1.6-1.9x as long and Paddle Inference
2.5x (bench/train_speed.py, bench/infer_speed.py; bench/RESULTS.md). MKL up to 2020.0 takes its
AVX2 path on any CPU when `MKL_DEBUG_CPU_TYPE=5`; it reads the variable at its first dispatch, so
it has to be in the environment before the first matrix product. `import ppcrnn` sets it on AMD
CPUs that have AVX2, unless the variable is set already: any value, the empty one included, is
left as it is, so `MKL_DEBUG_CPU_TYPE= python ...` keeps MKL's own choice. Processes started
later inherit it."""
from __future__ import annotations

import os
from typing import MutableMapping, Optional

VARIABLE = "MKL_DEBUG_CPU_TYPE"
AVX2_PATH = "5"


def _cpu_vendor_and_flags(cpuinfo_path: str) -> tuple:
    """('AuthenticAMD', {'avx2', ...}) from the first processor in /proc/cpuinfo; ('', set()) when
    the file cannot be read (not Linux)."""
    vendor, flags = "", set()
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
                if vendor and flags:
                    break
    except OSError:
        pass
    return vendor, flags


def use_avx2_mkl_on_amd(environ: Optional[MutableMapping[str, str]] = None,
                        cpuinfo_path: str = "/proc/cpuinfo") -> bool:
    """Set `MKL_DEBUG_CPU_TYPE=5` in `environ` (default: this process's) when the CPU is AMD's with
    AVX2 and the variable is not set; returns whether it was set."""
    environ = os.environ if environ is None else environ
    if VARIABLE in environ:
        return False
    vendor, flags = _cpu_vendor_and_flags(cpuinfo_path)
    if vendor != "AuthenticAMD" or "avx2" not in flags:
        return False
    environ[VARIABLE] = AVX2_PATH
    return True


def avx2_path_note(environ: Optional[MutableMapping[str, str]] = None) -> Optional[str]:
    """A log line saying that MKL was told to take its AVX2 path, or None."""
    environ = os.environ if environ is None else environ
    if environ.get(VARIABLE) != AVX2_PATH:
        return None
    return f"{VARIABLE}={AVX2_PATH}: MKL takes its AVX2 code path on this CPU (ppcrnn/utils/mkl_dispatch.py)"
