"""PaddleOCR-schema YAML configs: loading, `-o a.b.c=value` overrides, and validation at load time.

`load_config(path, overrides)` returns a plain dict with the sections `Global`, `Architecture`,
`Loss`, `Optimizer`, `PostProcess`, `Metric`, `Train`, `Eval`. Every error names the file and the
key path. Components are checked against the registries, so `import ppcrnn` must have happened."""
from __future__ import annotations

import argparse
import copy
import os
import re
from typing import Any, Dict, Optional, Sequence

import yaml

from . import registry as R
from .errors import ConfigError

SECTIONS = ("Global", "Architecture", "Loss", "Optimizer", "PostProcess", "Metric", "Train", "Eval",
            "profiler_options", "wandb")

# Global keys ppcrnn reads: key -> (types, default). Unknown Global keys are allowed (PaddleOCR
# configs carry many, and Global is merged into every transform) but reported once.
GLOBAL_KEYS: Dict[str, tuple] = {
    "use_gpu": ((bool,), False), "epoch_num": ((int,), None), "log_smooth_window": ((int,), 20),
    "print_batch_step": ((int,), 10), "save_model_dir": ((str,), "./output/rec/"),
    "save_epoch_step": ((int,), 1), "eval_batch_step": ((int, list), [0, 2000]),
    "eval_batch_epoch": ((int, float), None),
    "cal_metric_during_train": ((bool,), False), "pretrained_model": ((str,), None),
    "checkpoints": ((str,), None), "save_inference_dir": ((str,), None),
    "use_visualdl": ((bool,), False), "infer_img": ((str,), None),
    "character_dict_path": ((str,), None), "max_text_length": ((int,), 25),
    "infer_mode": ((bool,), False), "use_space_char": ((bool,), False),
    "save_res_path": ((str,), "./output/rec/predicts_rec.txt"), "seed": ((int,), 1024),
    "use_amp": ((bool,), False), "amp_level": ((str,), "O2"), "amp_dtype": ((str,), "float16"),
    "scale_loss": ((int, float), 1.0), "use_dynamic_loss_scaling": ((bool,), False),
    "amp_custom_black_list": ((list,), []), "amp_custom_white_list": ((list,), []),
    "model_name": ((str,), None), "pdx_model_name": ((str,), None),
    "export_with_pir": ((bool,), True), "distributed": ((bool,), False),
    "max_nan_steps": ((int,), 10), "fast_step": ((bool,), False), "character_type": ((str,), None),
    "cpu_processes": ((int,), 1),
}
LOADER_KEYS = {"shuffle": (bool,), "batch_size_per_card": (int,), "drop_last": (bool,),
               "num_workers": (int,), "use_shared_memory": (bool,), "collate_fn": (str, dict),
               "regroup_by_width": (int,), "random_pad_prob": (int, float)}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(node: Any, where: str) -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{where}.{i}") for i, v in enumerate(node)]
    if isinstance(node, str):
        def replace(match):
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where.lstrip('.')}: environment variable ${{{name}}} is not set")
            return os.environ[name]
        return _ENV.sub(replace, node)
    return node


def parse_override(text: str) -> tuple:
    """`a.b.c=value` -> (['a','b','c'], YAML-parsed value)."""
    if "=" not in text:
        raise ConfigError(f"-o {text}: expected key=value")
    key, raw = text.split("=", 1)
    return key.strip().split("."), yaml.safe_load(raw)


def apply_overrides(config: dict, overrides: Sequence[str]) -> dict:
    for text in overrides or ():
        keys, value = parse_override(text)
        if keys[0] not in config and keys[0] not in SECTIONS:
            raise ConfigError(f"-o {text}: unknown section '{keys[0]}'; known: {', '.join(SECTIONS)}")
        node: Any = config
        for depth, key in enumerate(keys[:-1]):
            path = ".".join(keys[:depth + 1])
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ConfigError(f"-o {text}: {path}: not an index of a {len(node)}-item list")
                node = node[int(key)]
            elif isinstance(node, dict):
                if node.get(key) is None:
                    node[key] = {}
                node = node[key]
            else:
                raise ConfigError(f"-o {text}: {path} is not a mapping")
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif isinstance(node.get(last), dict) and isinstance(value, dict):
            node[last].update(value)
        else:
            node[last] = value
    return config


def with_global(options: Optional[dict], global_config: dict) -> dict:
    """PaddleOCR's merge: transforms and post-processors see `{**options, **Global}`."""
    merged = dict(options or {})
    merged.update(global_config)
    return merged


def _check_types(section: dict, schema: Dict[str, tuple], where: str) -> None:
    for key, value in section.items():
        if key in schema and value is not None:
            types = schema[key][0] if isinstance(schema[key][0], tuple) else schema[key]
            if isinstance(value, bool) and bool not in types:
                ok = False
            else:
                ok = isinstance(value, types) or (float in types and isinstance(value, int))
            if not ok:
                names = " or ".join(t.__name__ for t in types)
                raise ConfigError(f"{where}.{key}: expected {names}, got {type(value).__name__} {value!r}")


def _validate_component(reg: R.Registry, section: Any, where: str, passthrough: bool = False) -> None:
    if not isinstance(section, dict) or "name" not in section:
        raise ConfigError(f"{where}: expected a mapping with a 'name' key, got {section!r}")
    options = {k: v for k, v in section.items() if k != "name"}
    reg.validate(section["name"], options, where, passthrough)


def validate_transform_entry(entry: Any, where: str) -> tuple:
    """Check one `{OpName: {params} | None}` entry of a transforms list; returns (name, params)."""
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ConfigError(f"{where}: each transform is a one-key mapping, got {entry!r}")
    name, params = next(iter(entry.items()))
    if params is not None and not isinstance(params, dict):
        raise ConfigError(f"{where}.{name}: expected a mapping of options, got {params!r}")
    R.TRANSFORMS.validate(name, params or {}, f"{where}.{name}")
    return name, params or {}


def _validate_dataset(dataset: Any, where: str) -> None:
    """A dataset config with its transforms; a MixedDataSet's children one by one."""
    if not isinstance(dataset, dict):
        raise ConfigError(f"{where}: expected a mapping with name, data_dir, transforms")
    dataset = dict(dataset)
    if dataset.get("name") == "MixedDataSet":
        children = dataset.get("datasets")
        if not isinstance(children, list) or not children:
            raise ConfigError(f"{where}.datasets: expected a list of dataset configs")
        for i, child in enumerate(children):
            _validate_dataset(child, f"{where}.datasets[{i}]")
        _validate_component(R.DATASETS, dataset, where)
        return
    transforms = dataset.pop("transforms", None)
    _validate_component(R.DATASETS, dataset, where)
    if not isinstance(transforms, list) or not transforms:
        raise ConfigError(f"{where}.transforms: expected a list of one-key mappings")
    for i, op in enumerate(transforms):
        validate_transform_entry(op, f"{where}.transforms.{i}")


def _validate_split(config: dict, split: str) -> None:
    section = config[split]
    if not isinstance(section, dict) or not isinstance(section.get("dataset"), dict):
        raise ConfigError(f"{split}.dataset: missing (a mapping with name, data_dir, transforms)")
    _validate_dataset(section["dataset"], f"{split}.dataset")
    loader = section.get("loader") or {}
    if not isinstance(loader, dict):
        raise ConfigError(f"{split}.loader: expected a mapping")
    _check_types(loader, {k: (v,) for k, v in LOADER_KEYS.items()}, f"{split}.loader")


def validate_config(config: dict) -> dict:
    """Raise ConfigError for the first problem found; fill Global defaults. Returns `config`."""
    for key in config:
        if key not in SECTIONS:
            raise ConfigError(f"{key}: unknown top-level section; known: {', '.join(SECTIONS)}")
    global_config = config.setdefault("Global", {}) or {}
    config["Global"] = global_config
    if not isinstance(global_config, dict):
        raise ConfigError("Global: expected a mapping")
    _check_types(global_config, GLOBAL_KEYS, "Global")
    for key, (_, default) in GLOBAL_KEYS.items():
        global_config.setdefault(key, copy.deepcopy(default))
    arch = config.get("Architecture")
    if not isinstance(arch, dict):
        raise ConfigError("Architecture: missing (a mapping with Backbone, Neck, Head)")
    if arch.get("model_type", "rec") != "rec":
        raise ConfigError(f"Architecture.model_type: ppcrnn builds 'rec' models, got {arch['model_type']!r}")
    for part, reg in (("Backbone", R.BACKBONES), ("Neck", R.NECKS), ("Head", R.HEADS)):
        if part == "Backbone" and not arch.get(part):
            raise ConfigError("Architecture.Backbone: missing")
        if arch.get(part):
            _validate_component(reg, arch[part], f"Architecture.{part}")
    if arch.get("Transform"):
        raise ConfigError("Architecture.Transform: ppcrnn has no rectification (TPS) module; leave it empty")
    for name, reg, passthrough in (("Loss", R.LOSSES, False), ("PostProcess", R.POSTPROCESSES, True),
                                   ("Metric", R.METRICS, False)):
        if config.get(name):
            _validate_component(reg, config[name], name, passthrough)
    optimizer = config.get("Optimizer")
    if optimizer:
        _validate_component(R.OPTIMIZERS, optimizer, "Optimizer")
        lr = optimizer.get("lr")
        if isinstance(lr, dict) and lr.get("name"):
            _validate_component(R.LR_SCHEDULES, lr, "Optimizer.lr")
    for split in ("Train", "Eval"):
        if config.get(split):
            _validate_split(config, split)
    return config


def load_config(path: str, overrides: Sequence[str] = ()) -> dict:
    """Read, override and validate a config; errors are prefixed with the file name."""
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: config file not found")
    if os.path.splitext(path)[1] not in (".yml", ".yaml"):
        raise ConfigError(f"{path}: configs are YAML files (.yml or .yaml)")
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
        if not isinstance(config, dict):
            raise ConfigError("the file must hold a mapping of sections")
        config = _expand_env(config, "")
        apply_overrides(config, overrides)
        return validate_config(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None


def arg_parser(description: str) -> argparse.ArgumentParser:
    """The `-c CFG -o key=value ...` command line every tool shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-c", "--config", required=True, help="YAML config (PaddleOCR schema)")
    parser.add_argument("-o", "--opt", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override config values, e.g. -o Global.epoch_num=3")
    parser.add_argument("-p", "--profiler_options", default=None, help="accepted for compatibility")
    return parser


def dump_config(config: dict, path: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle, default_flow_style=False, allow_unicode=True, sort_keys=False)

