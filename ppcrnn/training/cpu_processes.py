"""`Global.cpu_processes: N`: train data-parallel on N CPU processes from a plain `train.py` call.

Paddle's CPU kernels for this model run on one core whatever the thread settings (bench/RESULTS.md),
so one process leaves the other cores to the data workers. With N > 1, on CPU, and not already
started by `paddle.distributed.launch`, `tools/train.py` re-runs itself under
`python -m paddle.distributed.launch --nproc_per_node N` (gloo): batch_size_per_card is per process,
rank 0 logs, evaluates and saves, and the launcher shows rank 0's output."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

import paddle

from ..errors import ConfigError


def launched() -> bool:
    """True inside a process started by `paddle.distributed.launch`."""
    return "PADDLE_TRAINER_ID" in os.environ or int(os.environ.get("PADDLE_TRAINERS_NUM", "1")) > 1


def wanted_processes(global_config: dict) -> int:
    """How many CPU processes to start (1: train in this process)."""
    count = global_config.get("cpu_processes")
    count = 1 if count is None else count
    if count < 1:
        raise ConfigError(f"Global.cpu_processes: expected a number of processes >= 1, got {count}")
    gpu = bool(global_config.get("use_gpu")) and paddle.is_compiled_with_cuda() \
        and paddle.device.cuda.device_count() > 0
    if count == 1 or gpu or launched():
        return 1
    return min(count, os.cpu_count() or 1)


def relaunch(script: str, argv: List[str], global_config: dict) -> Optional[int]:
    """Run `script argv` under paddle.distributed.launch when Global.cpu_processes asks for more than
    one process; returns its exit status, or None when this process should train itself."""
    count = wanted_processes(global_config)
    if count == 1:
        return None
    log_dir = os.path.join(global_config.get("save_model_dir") or ".", "launch_logs")
    command = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(count),
               "--log_dir", log_dir, "--log_level", "WARNING", script, *argv]
    print(f"Global.cpu_processes: {count}; training data-parallel on {count} CPU processes "
          f"(per-process logs in {log_dir})", flush=True)
    return subprocess.call(command)
