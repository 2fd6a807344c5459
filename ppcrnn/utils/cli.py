"""What every command-line tool does with a user error: one `error: ...` line, exit status 1."""
from __future__ import annotations

import sys
from typing import Callable, Tuple, Type

from ..errors import CheckpointError, ConfigError, DataError, TrainingDiverged

USER_ERRORS: Tuple[Type[BaseException], ...] = (ConfigError, DataError, CheckpointError, TrainingDiverged,
                                                FileNotFoundError)


def run_tool(action: Callable[[], object], extra_errors: Tuple[Type[BaseException], ...] = ()) -> int:
    """Run `action`; errors the user can fix (bad config, data, checkpoint, missing file) are
    printed without a traceback. Returns the process exit status."""
    try:
        action()
    except USER_ERRORS + tuple(extra_errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
