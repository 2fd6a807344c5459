"""Where training runs: device (GPU or CPU fallback), data-parallel ranks, seeds, mixed precision."""
from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import paddle
import paddle.distributed as dist

from ..errors import ConfigError
from ..utils.mkl_dispatch import avx2_path_note


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Paddle, as PaddleOCR's `set_seed` does."""
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


class MixedPrecision:
    """`Global.use_amp` on a GPU: `auto_cast` at `amp_level` (O1/O2) and `amp_dtype`, a GradScaler
    starting at `scale_loss` (dynamic when `use_dynamic_loss_scaling`), O2 model decoration."""

    def __init__(self, global_config: dict):
        self.level = global_config.get("amp_level", "O2")
        if self.level not in ("O1", "O2"):
            raise ConfigError(f"Global.amp_level: O1 or O2, got {self.level!r}")
        self.dtype = global_config.get("amp_dtype", "float16")
        self.black_list = list(global_config.get("amp_custom_black_list") or [])
        self.white_list = list(global_config.get("amp_custom_white_list") or [])
        self.scaler = paddle.amp.GradScaler(
            init_loss_scaling=float(global_config.get("scale_loss", 1.0)),
            use_dynamic_loss_scaling=bool(global_config.get("use_dynamic_loss_scaling", False)))

    def autocast(self):
        return paddle.amp.auto_cast(level=self.level, custom_black_list=self.black_list,
                                    custom_white_list=self.white_list, dtype=self.dtype)

    def decorate(self, model, optimizer):
        if self.level != "O2":
            return model, optimizer
        return paddle.amp.decorate(models=model, optimizers=optimizer, level=self.level,
                                   master_weight=True, dtype=self.dtype)

    def backward_and_step(self, loss, optimizer) -> None:
        scaled = self.scaler.scale(loss)
        scaled.backward()
        self.scaler.minimize(optimizer, scaled)


@dataclass
class Environment:
    """The process's place in a (possibly data-parallel) run."""

    device: str
    rank: int
    world_size: int
    amp: Optional[MixedPrecision]

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        return self.amp.autocast() if self.amp else contextlib.nullcontext()

    def all_reduce_sum(self, values: List[float]) -> List[float]:
        """Element-wise sum over ranks (unchanged in a single process)."""
        if not self.distributed:
            return list(values)
        tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
        dist.all_reduce(tensor)
        return [float(v) for v in tensor.numpy()]


def setup_environment(global_config: dict, logger, for_training: bool = True) -> Environment:
    """Pick the device, join the data-parallel group when launched by `paddle.distributed.launch`
    (sets `Global.distributed`), and set up mixed precision."""
    world_size = dist.get_world_size()
    use_gpu = bool(global_config.get("use_gpu"))
    if use_gpu and not (paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0):
        logger.warning("Global.use_gpu is True but this Paddle build has no usable GPU; running on CPU "
                       "(install paddlepaddle-gpu for CUDA)")
        use_gpu = False
    device = f"gpu:{dist.ParallelEnv().dev_id}" if use_gpu else "cpu"
    paddle.set_device(device)
    mkl_note = None if use_gpu else avx2_path_note()
    if mkl_note:
        logger.info(mkl_note)
    global_config["use_gpu"] = use_gpu
    global_config["distributed"] = world_size > 1
    if world_size > 1 and for_training:
        dist.init_parallel_env()
    rank = dist.get_rank() if world_size > 1 else 0
    amp = None
    if global_config.get("use_amp"):
        if use_gpu:
            amp = MixedPrecision(global_config)
        else:
            logger.warning("Global.use_amp needs a GPU; training in float32 on CPU")
    return Environment(device=device, rank=rank, world_size=world_size, amp=amp)
