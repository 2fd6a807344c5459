"""VisualDL scalars under `save_model_dir/vdl` when `Global.use_visualdl` is on."""
from __future__ import annotations

import os
from typing import Dict


class VisualDLWriter:
    """Writes `{tag: value}` scalars at a global step; `prefix` groups them (TRAIN/, EVAL/).

    VisualDL is an optional dependency, imported only when this writer is created."""

    def __init__(self, save_model_dir: str):
        try:
            from visualdl import LogWriter
        except ImportError as exc:
            raise ImportError("Global.use_visualdl is True but visualdl is not installed: "
                              "`pip install visualdl` (or set Global.use_visualdl: False)") from exc
        self.log_dir = os.path.join(save_model_dir, "vdl")
        self.writer = LogWriter(logdir=self.log_dir)

    def scalars(self, values: Dict[str, float], step: int, prefix: str) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag=f"{prefix}/{tag}", value=float(value), step=step)

    def close(self) -> None:
        self.writer.close()
