"""One `ppcrnn` logger for every module: console always, plus a file when the trainer asks."""
from __future__ import annotations

import logging
import os
import sys
from typing import Optional

_FORMAT = "[%(asctime)s] %(name)s %(levelname)s: %(message)s"


def get_logger(log_file: Optional[str] = None, rank: int = 0) -> logging.Logger:
    """The package logger; `log_file` adds a file handler once (rank 0 only writes files)."""
    logger = logging.getLogger("ppcrnn")
    if not getattr(logger, "_ppcrnn_ready", False):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(_FORMAT, "%Y/%m/%d %H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if rank == 0 else logging.ERROR)
        logger.propagate = False
        logger._ppcrnn_ready = True
    if log_file and rank == 0:
        path = os.path.abspath(log_file)
        if not any(getattr(h, "baseFilename", None) == path for h in logger.handlers):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            file_handler = logging.FileHandler(path, encoding="utf-8")
            file_handler.setFormatter(logging.Formatter(_FORMAT, "%Y/%m/%d %H:%M:%S"))
            logger.addHandler(file_handler)
    return logger
