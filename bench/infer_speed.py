"""Inference throughput (img/s) and latency (p50/p95) of an exported recognizer, as ratios to ONNX
Runtime, for Paddle Inference (oneDNN on and off), ONNX Runtime and dygraph, at every thread count x
batch size x input width; plus the FLOPs per image and the share of the CPU's fp32 peak reached
(bench/flops.py says how both are counted), and with --knobs the Paddle Inference settings at the
largest batch (bench/infer_engines.py lists the variants and builds their engines).

A call is what the engine costs a caller: copy a float32 batch [N, 3, H, W] in, run, copy the
probabilities out (no image decoding or resizing). Every variant runs in its own child process
(threads, oneDNN caches and allocators are process-wide), one child per variant, thread count and
round, in the order A B C A B C ... (bench/common.py) so that load from other processes hits all
alike; in each child every cell gets warm-up calls, then calls for --seconds (at least
--min_calls). img/s is the batch over the median latency ("per CPU s": over the median process CPU
time, what an uncontended core gives); p50/p95 over all timed calls of all rounds. "max dp" is the
largest absolute difference of any output probability from ONNX Runtime's on the same input.

The model: an export of -c/--config (default configs/rec_mv3_none_bilstm_ctc.yml, PaddleOCR's
MobileNetV3 large x0.5 + BiLSTM 96 + CTC) with --weights, or random weights (seed 0; speed does not
depend on them), made in a temporary folder; or --model_dir, an existing export (-c must then name
its config: dygraph and the FLOP count build the model from it; dygraph runs random weights unless
--weights names the export's, and its "max dp" is then meaningless).

    python bench/infer_speed.py                       # ~8 min on 2 cores
    python bench/infer_speed.py --knobs               # also the Paddle Inference knobs (~5 min more)
    python bench/infer_speed.py --knobs "MKL default" # only that knob beside the knob table's baseline
    python bench/infer_speed.py --quick               # a smoke run (~30 s)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from common import REPO, Timing, format_number, print_machine_info, print_table, ratio_text, usable_cores
from flops import count_flops, peak_flops
from infer_engines import BASELINE, ENGINES, KNOBS, KNOBS_ALWAYS, VARIANTS, build_model, make_engine

DEFAULT_CONFIG = os.path.join(REPO, "configs", "rec_mv3_none_bilstm_ctc.yml")


def cell_input(batch: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(batch * 1000 + width).uniform(-1, 1, (batch, 3, height, width)).astype("float32")


def run_child(args: argparse.Namespace) -> dict:
    """Time one variant on every cell in this process; {cell: {'wall': [...], 'cpu': [...]}}."""
    variant = VARIANTS[args.child]
    engine = make_engine(variant, args.work, args.config, args.threads[0])
    results = {}
    for cell in args.cells:
        batch, width = (int(v) for v in cell.split("x"))
        inputs = cell_input(batch, args.height, width)
        np.save(output_file(args.work, args.child, cell), engine(inputs))
        for _ in range(args.warmup):
            engine(inputs)
        timing, started = Timing(), time.perf_counter()
        while len(timing.wall) < args.min_calls or time.perf_counter() - started < args.seconds:
            wall, cpu = time.perf_counter(), time.process_time()
            engine(inputs)
            timing.cpu.append(time.process_time() - cpu)
            timing.wall.append(time.perf_counter() - wall)
        results[cell] = {"wall": timing.wall, "cpu": timing.cpu}
    return results


def output_file(work: str, name: str, cell: str) -> str:
    return os.path.join(work, f"out_{name.replace(' ', '_')}_{cell}.npy")


def spawn(name: str, threads: int, args: argparse.Namespace, cells: List[str]) -> dict:
    """`run_child` for `name` in a fresh process; {'error': ...} when it fails."""
    command = [sys.executable, os.path.abspath(__file__), "--child", name, "--work", args.work,
               "--config", args.config, "--threads", str(threads), "--height", str(args.height),
               "--seconds", str(args.seconds), "--min_calls", str(args.min_calls), "--warmup", str(args.warmup),
               "--cells", *cells]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              env={**os.environ, **VARIANTS[name].env})
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip() and "[Hint" not in line]
    return {"error": (lines[-1] if lines else f"exit status {done.returncode}")[:100]}


Job = Tuple[str, int]  # (variant, threads)


def measure(jobs: List[Job], args: argparse.Namespace, cells: List[str]) -> Dict[Job, dict]:
    """Interleave the jobs for --rounds rounds; {job: {cell: Timing} or {'error': ...}}."""
    merged: Dict[Job, dict] = {job: {} for job in jobs}
    for round_number in range(args.rounds):
        for job in jobs:
            result = spawn(*job, args, cells)
            if "error" in result:
                merged[job] = {"error": result["error"]}
            elif "error" not in merged[job]:
                for cell, timing in result.items():
                    merged[job].setdefault(cell, Timing()).add(Timing(timing["wall"], timing["cpu"]))
        print(f"# round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    return merged


def max_difference(work: str, name: str, cell: str) -> Optional[float]:
    paths = [output_file(work, variant, cell) for variant in (name, BASELINE)]
    if not all(os.path.isfile(path) for path in paths):
        return None
    ours, reference = (np.load(path) for path in paths)
    return float(np.abs(ours - reference).max()) if ours.shape == reference.shape else None


def prepare_models(args: argparse.Namespace, need_legacy: bool):
    """Fill args.work with pir/ (program + inference.onnx), legacy/ and weights.pdparams."""
    import paddle
    from ppcrnn.config import load_config
    from ppcrnn.inference import export_model, export_onnx
    from ppcrnn.weights import save_weights
    paddle.set_device("cpu")
    config = load_config(args.config, [])
    model = build_model(config)
    pir_dir = os.path.join(args.work, "pir")
    weights = args.weights or (None if args.model_dir else save_weights(model, os.path.join(args.work, "random")))
    if weights:  # dygraph's weights
        shutil.copy(weights if weights.endswith(".pdparams") else weights + ".pdparams",
                    os.path.join(args.work, "weights.pdparams"))
    if args.model_dir:
        shutil.copytree(args.model_dir, pir_dir)
    else:
        export_model(config, pir_dir, weights)
        if need_legacy:
            config["Global"]["export_with_pir"] = False
            export_model(config, os.path.join(args.work, "legacy"), weights)
    if not os.path.isfile(os.path.join(pir_dir, "inference.onnx")):
        export_onnx(pir_dir)
    return model


def rate(timing: Optional[Timing], batch: int, cpu: bool = False) -> Optional[float]:
    """Images per second of the median call (wall-clock, or process CPU time)."""
    if timing is None:
        return None
    seconds = timing.cpu_median if cpu else timing.wall_median
    return batch / seconds if seconds > 0 else None


def main_table(results: Dict[Job, dict], cells: List[str], args, flops: Dict[int, int], peak: float) -> None:
    rows = []
    for cell in cells:
        batch, width = (int(v) for v in cell.split("x"))
        for (name, threads), timings in results.items():
            timing, base = timings.get(cell), results.get((BASELINE, threads), {}).get(cell)
            if timing is None:
                rows.append([name, threads, batch, width, *["-"] * 9, timings.get("error", "")])
                continue
            wall, cpu = rate(timing, batch), rate(timing, batch, cpu=True)
            achieved = wall * flops[width]
            difference = max_difference(args.work, name, cell) if name != BASELINE else None
            rows.append([name, threads, batch, width, format_number(wall), ratio_text(wall, rate(base, batch)),
                         format_number(cpu), ratio_text(cpu, rate(base, batch, cpu=True)),
                         format_number(1000 * np.percentile(timing.wall, 50), 2),
                         format_number(1000 * np.percentile(timing.wall, 95), 2), format_number(achieved / 1e9, 1),
                         f"{100 * achieved / (min(threads, usable_cores()) * peak):.1f} %" if peak else "-",
                         "-" if difference is None else f"{difference:.1e}", f"{len(timing.wall)} calls"])
    print_table(f"Inference speed, {args.rounds} interleaved rounds (vs onnxruntime: same threads; > 1 is faster)",
                ["engine", "threads", "batch", "width", "img/s", "vs onnxruntime", "img/s per CPU s",
                 "vs onnxruntime", "p50 ms", "p95 ms", "GFLOP/s", "of peak", "max dp", "note"], rows)


def goal_lines(results: Dict[Job, dict], cells: List[str]) -> None:
    """Paddle Inference (PaddleEngine) over ONNX Runtime at the largest batch, per width and threads."""
    largest = max(int(cell.split("x")[0]) for cell in cells)
    for (name, threads), timings in results.items():
        if name != "paddle oneDNN":
            continue
        for cell in (c for c in cells if int(c.split("x")[0]) == largest):
            base = results.get((BASELINE, threads), {}).get(cell)
            ratios = [ratio_text(rate(timings.get(cell), largest, cpu), rate(base, largest, cpu)) for cpu in (0, 1)]
            print(f"# goal (Paddle Inference >= ONNX Runtime at batch {largest}), width {cell.split('x')[1]}, "
                  f"{threads} threads: {ratios[0]} wall, {ratios[1]} per CPU second")
    print()


def knob_table(results: Dict[Job, dict], cells: List[str], threads: int, work: str) -> None:
    header, rows = ["variant", "what"], []
    for cell in cells:
        header += [f"b{cell.replace('x', ' w')} img/s", "vs ort", "img/s per CPU s", "vs ort"]
    for (name, job_threads), timings in results.items():
        row = [name, VARIANTS[name].description]
        for cell in cells:
            batch, timing = int(cell.split("x")[0]), timings.get(cell)
            base = results.get((BASELINE, threads), {}).get(cell)
            for cpu in (False, True):
                value = rate(timing, batch, cpu)
                row += [format_number(value) if value else "-", ratio_text(value, rate(base, batch, cpu))]
        difference = max_difference(work, name, cells[0]) if name != BASELINE and cells[0] in timings else None
        rows.append(row + ["-" if difference is None else f"{difference:.1e}", timings.get("error", "")])
    print_table(f"Paddle Inference knobs, each on top of PaddleEngine's settings, {threads} thread(s) unless "
                f"named (vs ONNX Runtime with {threads})", header + ["max dp", "error"], rows)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="training config of the model")
    parser.add_argument("--weights", help=".pdparams to export / for dygraph (default: random weights, seed 0)")
    parser.add_argument("--model_dir", help="an existing export instead (inference.onnx is made if missing)")
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--widths", type=int, nargs="+", default=[100, 320])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--threads", type=int, nargs="+", default=sorted({1, usable_cores()}),
                        help="CPU thread counts (default: 1 and the usable cores)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per cell per round")
    parser.add_argument("--min_calls", type=int, default=5, help="timed calls per cell per round, at least")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--knobs", nargs="*", metavar="NAME", choices=list(KNOBS),
                        help="also time the Paddle Inference knobs: all, or the NAMEs given (beside "
                             f"{', '.join(KNOBS_ALWAYS)})")
    parser.add_argument("--knob_threads", type=int, default=1, help="threads of the knob table (default 1)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, width 100, batches 1 and 4")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per child process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--height", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cells", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.min_calls, args.warmup = 1, 0.2, 3, 1
        args.widths, args.batch_sizes = [100], [1, 4]
    return args


def knob_names(chosen: Optional[List[str]]) -> List[str]:
    """The knob variants to time: none (no --knobs), all (a bare --knobs), or the chosen ones after
    the rows every knob table keeps."""
    if chosen is None:
        return []
    return list(dict.fromkeys([*KNOBS_ALWAYS, *chosen])) if chosen else list(KNOBS)


def main() -> None:
    args = parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return
    from ppcrnn.inference import InferenceConfig
    with tempfile.TemporaryDirectory(prefix="ppcrnn-infer-speed-") as work:
        args.work = work
        knobs = knob_names(args.knobs)
        model = prepare_models(args, need_legacy=any(KNOBS[name].program == "legacy" for name in knobs))
        args.height = InferenceConfig.load(os.path.join(work, "pir")).image_shape[1]
        kinds = {width: count_flops(model, args.height, width) for width in args.widths}
        flops = {width: sum(kinds[width].values()) for width in args.widths}
        peak = peak_flops()
        source = f"export of {args.model_dir}" if args.model_dir else (
            f"{os.path.relpath(args.config, REPO)} with {args.weights or 'random weights (seed 0)'}")
        print_machine_info({"model": source, "input": f"float32 [N, 3, {args.height}, W], uniform in [-1, 1]",
                            "peak fp32": f"{peak.derivation}; x threads (at most the usable cores)" if peak
                            else "unknown"})
        print_table("FLOPs per image (2 per multiply-add of the matrix products)",
                    ["width", "conv MFLOP", "LSTM MFLOP", "linear MFLOP", "total MFLOP"],
                    [[w, *(format_number(kinds[w][k] / 1e6) for k in ("conv", "lstm", "linear")),
                      format_number(flops[w] / 1e6)] for w in args.widths])
        cells = [f"{b}x{w}" for b in args.batch_sizes for w in args.widths]
        jobs = [(name, threads) for threads in args.threads for name in dict.fromkeys([BASELINE, *args.engines])]
        results = measure(jobs, args, cells)
        main_table(results, cells, args, flops, peak.per_core if peak else 0.0)
        goal_lines(results, cells)
        if knobs:
            knob_cells = [f"{max(args.batch_sizes)}x{w}" for w in args.widths]
            knob_jobs = [(name, KNOBS[name].threads or args.knob_threads) for name in knobs]
            knob_table(measure(knob_jobs, args, knob_cells), knob_cells, args.knob_threads, work)


if __name__ == "__main__":
    main()
