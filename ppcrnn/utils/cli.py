"""What every command-line tool does with a user error: one `error: ...` line, exit status 1."""
from __future__ import annotations

import sys
from typing import Callable, Tuple, Type

from ..errors import CheckpointError, ConfigError, DataError, TrainingDiverged

USER_ERRORS: Tuple[Type[BaseException], ...] = (ConfigError, DataError, CheckpointError, TrainingDiverged,
                                                FileNotFoundError)


def run_tool(action: Callable[[], object], extra_errors: Tuple[Type[BaseException], ...] = ()) -> int:
    """Run `action`; errors the user can fix (bad config, data, checkpoint, missing file) are
    printed without a traceback. Returns the process exit status: 1 for those errors, else the
    action's result when it is an exit status (an int), else 0."""
    try:
        result = action()
    except USER_ERRORS + tuple(extra_errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
