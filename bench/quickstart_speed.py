"""Training throughput of the quickstart (`configs/rec.yml`) as `tools/train.py` runs it, per way
of using a 2-core CPU, as ratios to one process padding each batch to its widest crop.

Each variant is a real `tools/train.py` run (one epoch, no evaluation, its own output folder);
img/s is read from the log lines after the first (start-up and worker spawn excluded), summed over
processes for data-parallel runs. The variants run one after another, so run it on an idle machine.

    python bench/quickstart_speed.py                 # ~5 min on 2 cores
    python bench/quickstart_speed.py --samples 1600  # quicker, noisier
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

from common import REPO, print_machine_info, print_ratio_table

BASELINE = "1 process, batches padded to their widest"
VARIANTS: Dict[str, List[str]] = {
    BASELINE: ["Global.cpu_processes=1", "Train.loader.regroup_by_width=0", "Train.loader.num_workers=2"],
    "1 process, regroup_by_width 8": ["Global.cpu_processes=1", "Train.loader.regroup_by_width=8",
                                      "Train.loader.num_workers=2"],
    "2 processes, regroup 8, 1 loader worker each": [
        "Global.cpu_processes=2", "Train.loader.regroup_by_width=8", "Train.loader.num_workers=1"],
    "2 processes, regroup 8, rendering in-process (quickstart)": [
        "Global.cpu_processes=2", "Train.loader.regroup_by_width=8", "Train.loader.num_workers=0"],
}
IPS = re.compile(r"global_step: \d+,.* ips: ([0-9.]+) samples/s")


def measure(overrides: List[str], samples: int, config: str, work_dir: Path) -> Optional[float]:
    """img/s of one short run: mean of its log lines after the first, times the process count."""
    processes = 2 if "Global.cpu_processes=2" in overrides else 1
    command = [sys.executable, "tools/train.py", "-c", config, "-o", "Global.epoch_num=1",
               f"Train.dataset.num_samples={samples}", "Global.print_batch_step=10",
               "Global.eval_batch_epoch=100", f"Global.save_model_dir={work_dir}", *overrides]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    log = work_dir / ("launch_logs/workerlog.0" if processes > 1 else "train.log")
    rates = [float(m.group(1)) for m in IPS.finditer(log.read_text() if log.is_file() else "")][1:]
    if result.returncode != 0 or not rates:
        print(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    return processes * sum(rates) / len(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/rec.yml")
    parser.add_argument("--samples", type=int, default=6400, help="samples in the measured epoch")
    args = parser.parse_args()
    print_machine_info({"config": args.config, "samples per run": str(args.samples)})
    values = {}
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, overrides) in enumerate(VARIANTS.items()):
            values[name] = measure(overrides, args.samples, args.config, Path(tmp) / str(index))
            print(f"{name}: {values[name]} img/s", flush=True)
    print_ratio_table("Quickstart training throughput", "img/s", values, BASELINE)
    return 0 if all(values.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
