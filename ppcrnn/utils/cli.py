"""What every command-line tool does with a user error (one `error: ...` line, exit status 1), and
the decoding flags the tools that run a Recognizer share."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Dict, Tuple, Type

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


def add_decoding_arguments(parser: argparse.ArgumentParser, title: str = "decoding") -> None:
    """The Recognizer's decoding options as command-line flags (`decoding_options` reads them back)."""
    group = parser.add_argument_group(title)
    group.add_argument("--decode", default="greedy", choices=("greedy", "beam", "lexicon"))
    group.add_argument("--beam_width", type=int, default=10)
    group.add_argument("--lexicon_path", help="for --decode lexicon: one word per line, or word<TAB>zipf "
                                              "(a bundled list by name: words_en_wordfreq.txt)")
    group.add_argument("--max_edit_distance", type=int, default=2)
    group.add_argument("--oov_penalty", type=float, help="with --decode lexicon: keep the greedy text unless a word "
                                                         "is within this many nats of its log-probability "
                                                         "(default: always a word)")
    group.add_argument("--frequency_weight", type=float, default=0.0,
                       help="with --decode lexicon: rank words by log-probability + this x ln(10) x log10 frequency")


def decoding_options(args: argparse.Namespace) -> Dict[str, Any]:
    """Recognizer keyword arguments from the flags of `add_decoding_arguments`."""
    return dict(mode=args.decode, beam_width=args.beam_width, lexicon_path=args.lexicon_path,
                max_edit_distance=args.max_edit_distance, oov_penalty=args.oov_penalty,
                frequency_weight=args.frequency_weight)
