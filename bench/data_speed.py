"""Data pipeline speed: is data ever the bottleneck?

`python bench/data_speed.py [-c CFG] [--split Train] [--seconds 5] [--workers 0 4] [--json out.json]`

Measures, in this process: (1) the synthetic generator alone (renders/s), (2) the whole Train
pipeline per worker (samples/s of `dataset[i]`: read or render + all transforms), and, for each
`--workers` count > 0, (3) a paddle DataLoader's batches as a trainer would see them (images/s).
Without `-c` it uses a SyntheticDataSet with the rec_mv3_none_bilstm_ctc transforms plus RecAug."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ppcrnn  # noqa: E402,F401  (registers components)
from ppcrnn.config import load_config  # noqa: E402
from ppcrnn.data import build_dataloader, build_dataset  # noqa: E402

DEFAULT_CONFIG = {
    "Global": {"max_text_length": 25, "character_dict_path": None, "use_space_char": False, "seed": 1024},
    "Train": {"dataset": {"name": "SyntheticDataSet", "num_samples": 100000, "transforms": [
        {"DecodeImage": {"img_mode": "BGR", "channel_first": False}}, {"RecAug": None}, {"CTCLabelEncode": None},
        {"RecResizeImg": {"image_shape": [3, 32, 100]}}, {"KeepKeys": {"keep_keys": ["image", "label", "length"]}}]},
        "loader": {"shuffle": True, "batch_size_per_card": 256, "drop_last": True, "num_workers": 4}},
}


def rate(step, seconds: float) -> float:
    """Calls of `step(i)` per second over about `seconds` (after one warm-up call)."""
    step(0)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += 1
        step(count)
    return count / (time.perf_counter() - start)


def loader_rate(config: dict, split: str, workers: int, seconds: float) -> float:
    config[split]["loader"]["num_workers"] = workers
    loader = build_dataloader(config, split)
    images, start, first = 0, None, True
    for batch in loader:
        if first:  # worker start-up is not throughput
            first, start = False, time.perf_counter()
            continue
        images += batch[0].shape[0]
        if time.perf_counter() - start >= seconds:
            break
    return images / max(time.perf_counter() - start, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", help="YAML config (default: built-in synthetic Train set)")
    parser.add_argument("--split", default="Train", choices=["Train", "Eval"])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="DataLoader worker counts to try")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    config = load_config(args.config) if args.config else json.loads(json.dumps(DEFAULT_CONFIG))
    dataset = build_dataset(config, args.split)
    size = len(dataset)
    results = {"config": args.config or "built-in SyntheticDataSet", "split": args.split,
               "cpu_count": os.cpu_count()}
    if hasattr(dataset, "render"):
        results["synthetic_renders_per_s"] = rate(lambda i: dataset.render(i % size), args.seconds)
    results["pipeline_samples_per_s_per_worker"] = rate(lambda i: dataset[i % size], args.seconds)
    for workers in args.workers:
        if workers > 0:
            results[f"loader_images_per_s_{workers}_workers"] = loader_rate(config, args.split, workers, args.seconds)
    for key, value in results.items():
        print(f"{key}: {value:.1f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
