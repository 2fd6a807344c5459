"""Skip accounting: every dropped sample is counted with its reason and where it came from.

Counts must survive DataLoader worker processes, so each process appends one JSON line per skip
to its own file in a private temporary folder (skips are rare; appends of whole lines from one
process never interleave). The main process sums the files; `reset` remembers the file sizes so
the next report covers only what came after (one report per epoch)."""
from __future__ import annotations

import collections
import json
import os
import shutil
import tempfile
import weakref
from typing import Dict, List, Tuple

# Reasons a sample is dropped, in report order, with the words used in reports.
REASONS = {
    "malformed_line": "malformed label line",
    "missing_image": "missing image",
    "corrupt_image": "corrupt image",
    "missing_label": "missing label",
    "empty_label": "empty label",
    "too_long": "label longer than max_text_length",
    "oov_only": "no character in the dictionary",
    "infeasible": "label needs more CTC frames than the image width gives (length + repeats > W/4)",
    "transform_failed": "transform failed",
}
EXAMPLES_PER_REASON = 3


def format_counts(counts: Dict[str, int], examples: Dict[str, List[str]], total: int = 0) -> str:
    """'n skipped (reason: k, first: ...; ...)' lines, one per reason, most important first."""
    lines = []
    for reason in sorted(counts, key=lambda r: list(REASONS).index(r) if r in REASONS else len(REASONS)):
        first = "; ".join(examples.get(reason, [])[:EXAMPLES_PER_REASON])
        lines.append(f"  {REASONS.get(reason, reason)}: {counts[reason]}" + (f" (first: {first})" if first else ""))
    head = f"{sum(counts.values())} skipped" + (f" of {total}" if total else "")
    return head + ("\n" + "\n".join(lines) if lines else "")


def _remove(folder: str, owner: int) -> None:
    if os.getpid() == owner:  # forked workers inherit the finaliser; only the creator cleans up
        shutil.rmtree(folder, ignore_errors=True)


class SkipLog:
    """Cross-process skip counter: `record` anywhere, `counts`/`report`/`reset` in the main process."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="ppcrnn-skips-")
        self._owner = os.getpid()
        self._offsets: Dict[str, int] = {}
        self._finalizer = weakref.finalize(self, _remove, self.folder, self._owner)

    def __getstate__(self):  # picklable for spawn-started workers; the finaliser stays behind
        state = dict(self.__dict__)
        state.pop("_finalizer", None)
        return state

    def record(self, reason: str, source: str, detail: str = "") -> None:
        path = os.path.join(self.folder, f"{os.getpid()}.jsonl")
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps([reason, source, detail], ensure_ascii=False) + "\n")

    def _files(self) -> List[str]:
        if not os.path.isdir(self.folder):
            return []
        return sorted(os.path.join(self.folder, n) for n in os.listdir(self.folder) if n.endswith(".jsonl"))

    def events(self) -> List[Tuple[str, str, str]]:
        """(reason, source, detail) of every skip since the last reset, all processes."""
        found = []
        for path in self._files():
            with open(path, "rb") as handle:
                handle.seek(self._offsets.get(path, 0))
                for line in handle.read().decode("utf-8").splitlines():
                    if line.strip():
                        found.append(tuple(json.loads(line)))
        return found

    def counts(self) -> Tuple[Dict[str, int], Dict[str, List[str]]]:
        """Distinct samples skipped per reason (a sample met twice in an epoch counts once), and
        the first examples of each."""
        counts: Dict[str, int] = collections.Counter()
        examples: Dict[str, List[str]] = collections.defaultdict(list)
        seen = set()
        for reason, source, detail in self.events():
            if (reason, source) in seen:
                continue
            seen.add((reason, source))
            counts[reason] += 1
            if len(examples[reason]) < EXAMPLES_PER_REASON:
                examples[reason].append(f"{source}{': ' + detail if detail else ''}")
        return dict(counts), dict(examples)

    def reset(self) -> None:
        self._offsets = {path: os.path.getsize(path) for path in self._files()}
