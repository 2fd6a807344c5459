"""The one registry mechanism: components are registered under PaddleOCR's names and built from
config dicts. Building validates the options against the constructor's typed signature, so a typo
or a wrong type fails at load time naming the key path, and an unknown name lists the known ones."""
from __future__ import annotations

import inspect
import typing
from typing import Any, Callable, Dict, Optional

from .errors import ConfigError

_MISSING = inspect.Parameter.empty


def _type_ok(value: Any, annotation: Any) -> bool:
    """Loose runtime check of a YAML value against a constructor annotation."""
    if annotation is _MISSING or annotation is Any or value is None:
        return True
    if isinstance(annotation, str):  # unresolved forward reference: do not guess
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_type_ok(value, arg) for arg in typing.get_args(annotation))
    if origin in (list, tuple, typing.Sequence):
        return isinstance(value, (list, tuple))
    if origin is dict:
        return isinstance(value, dict)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _describe(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


class Registry:
    """A named table of classes (or factories) of one kind, e.g. backbones."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: Dict[str, Callable] = {}

    def register(self, obj: Optional[Callable] = None, *, name: Optional[str] = None):
        def add(target: Callable) -> Callable:
            key = name or target.__name__
            if key in self._items:
                raise KeyError(f"{self.kind} '{key}' is registered twice")
            self._items[key] = target
            return target

        return add(obj) if obj is not None else add

    def names(self) -> list:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def get(self, name: Any, key_path: str = "") -> Callable:
        if name not in self._items:
            where = f"{key_path}.name" if key_path else "name"
            raise ConfigError(
                f"{where}: unknown {self.kind} '{name}'; known: {', '.join(self.names())}"
            )
        return self._items[name]

    def validate(self, name: str, options: Dict[str, Any], key_path: str,
                 passthrough: bool = False) -> Callable:
        """Check `options` against the signature of `name`; returns the class.

        With `passthrough` (transforms, post-processors receive all of Global, as in PaddleOCR),
        keys the constructor does not name are accepted and ignored."""
        target = self.get(name, key_path)
        signature = inspect.signature(target)
        try:
            hints = typing.get_type_hints(target.__init__ if inspect.isclass(target) else target)
        except Exception:  # annotations that cannot be resolved are not checked
            hints = {}
        params = signature.parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        for key, value in options.items():
            if key not in params:
                if takes_any or passthrough:
                    continue
                known = [p for p in params if params[p].kind is not params[p].VAR_KEYWORD]
                raise ConfigError(
                    f"{key_path}.{key}: unknown option for {self.kind} '{name}'; "
                    f"known: {', '.join(known)}"
                )
            annotation = hints.get(key, params[key].annotation)
            if not _type_ok(value, annotation):
                raise ConfigError(
                    f"{key_path}.{key}: expected {_describe(annotation)}, "
                    f"got {type(value).__name__} {value!r}"
                )
        return target

    def build(self, config: Optional[Dict[str, Any]], key_path: str, passthrough: bool = False,
              **injected: Any):
        """Build from a `{name: ..., **options}` dict; `injected` values are added by the caller."""
        if not isinstance(config, dict) or "name" not in config:
            raise ConfigError(f"{key_path}: expected a mapping with a 'name' key, got {config!r}")
        options = {k: v for k, v in config.items() if k != "name"}
        options.update(injected)
        target = self.validate(config["name"], options, key_path, passthrough)
        if passthrough:
            accepted = inspect.signature(target).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
                options = {k: v for k, v in options.items() if k in accepted}
        return target(**options)


BACKBONES = Registry("backbone")
NECKS = Registry("neck")
HEADS = Registry("head")
LOSSES = Registry("loss")
POSTPROCESSES = Registry("post-process")
METRICS = Registry("metric")
TRANSFORMS = Registry("transform")
DATASETS = Registry("dataset")
OPTIMIZERS = Registry("optimizer")
LR_SCHEDULES = Registry("lr schedule")
