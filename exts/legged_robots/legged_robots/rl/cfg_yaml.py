"""Write resolved dataclass configs to YAML and read them back as the same dataclasses.

mjlab configs hold functions, classes, enums, slices and tuples besides plain data. They
are written with explicit tags so ``play.py`` rebuilds exactly what training used:

- ``!cfg:module:Qual {field: value}``  a dataclass instance
- ``!import module:qualname``          a function or class
- ``!enum module:Class.MEMBER``        an enum member
- ``!tuple [...]``, ``!slice [start, stop, step]``
- ``!opaque "<repr>"``                 a lambda or local function (mjlab uses some as
  defaults, e.g. terrain ``spec_fn``): it cannot be re-imported, so it reads back as an
  ``OpaqueValue`` and ``find_opaque`` lets a reader refuse subtrees that contain one.

Reading imports the modules named in the file, so only read params of runs you trust
(the same trust as ``torch.load`` of a checkpoint).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from legged_robots.rl.errors import StRlError


class _Dumper(yaml.SafeDumper):
  def ignore_aliases(self, data: Any) -> bool:
    # Repeated tuples would become &id/*id anchors; plain copies read better.
    return True


class _Loader(yaml.SafeLoader):
  pass


@dataclasses.dataclass(frozen=True)
class OpaqueValue:
  """A saved callable that cannot be re-imported (lambda or local function)."""

  text: str


def _importable(obj: Any) -> bool:
  qual = getattr(obj, "__qualname__", "<locals>")
  return "<lambda>" not in qual and "<locals>" not in qual


def _qualname(obj: Any) -> str:
  return f"{obj.__module__}:{obj.__qualname__}"


def find_opaque(obj: Any, path: str = "") -> str | None:
  """Return the dotted path of the first OpaqueValue inside obj, or None."""
  if isinstance(obj, OpaqueValue):
    return path
  if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
    items = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
  elif isinstance(obj, dict):
    items = [(str(k), v) for k, v in obj.items()]
  elif isinstance(obj, (list, tuple)):
    items = [(str(i), v) for i, v in enumerate(obj)]
  else:
    return None
  for key, value in items:
    found = find_opaque(value, f"{path}.{key}" if path else key)
    if found is not None:
      return found
  return None


def _resolve(text: str) -> Any:
  module, _, qual = text.partition(":")
  obj: Any = importlib.import_module(module)
  for part in qual.split("."):
    obj = getattr(obj, part)
  return obj


def _represent(dumper: yaml.SafeDumper, data: Any) -> yaml.Node:
  if dataclasses.is_dataclass(data) and not isinstance(data, type):
    mapping = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    return dumper.represent_mapping(f"!cfg:{_qualname(type(data))}", mapping)
  if isinstance(data, enum.Enum):
    return dumper.represent_scalar("!enum", f"{_qualname(type(data))}.{data.name}")
  if isinstance(data, tuple):
    return dumper.represent_sequence("!tuple", list(data), flow_style=True)
  if isinstance(data, slice):
    return dumper.represent_sequence("!slice", [data.start, data.stop, data.step], True)
  if isinstance(data, np.ndarray):
    return dumper.represent_list(data.tolist())
  if isinstance(data, np.generic):
    return dumper.represent_data(data.item())
  if callable(data) and _importable(data):
    return dumper.represent_scalar("!import", _qualname(data))
  if callable(data):
    return dumper.represent_scalar("!opaque", repr(data))
  raise StRlError(f"cannot write config value of type {type(data).__name__}: {data!r}")


_Dumper.add_multi_representer(object, _represent)
# SafeDumper's own representers beat the object fallback for these; re-route them.
_Dumper.add_representer(tuple, _represent)


def _construct_cfg(loader: Any, suffix: str, node: yaml.Node) -> Any:
  cls = _resolve(suffix.strip())
  assert isinstance(node, yaml.MappingNode)
  values = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
  init = {f.name for f in dataclasses.fields(cls) if f.init}
  obj = cls(**{k: v for k, v in values.items() if k in init})
  for key, value in values.items():
    # Fields computed in __post_init__ (init=False) are restored as saved.
    if key not in init:
      object.__setattr__(obj, key, value)
  return obj


def _scalar(loader: Any, node: yaml.Node) -> str:
  assert isinstance(node, yaml.ScalarNode)
  return str(loader.construct_scalar(node))


def _sequence(loader: Any, node: yaml.Node) -> list[Any]:
  assert isinstance(node, yaml.SequenceNode)
  return loader.construct_sequence(node, deep=True)


def _construct_enum(loader: Any, node: yaml.Node) -> Any:
  cls_text, _, member = _scalar(loader, node).rpartition(".")
  return _resolve(cls_text)[member]


_Loader.add_multi_constructor("!cfg:", _construct_cfg)
_Loader.add_constructor("!import", lambda ld, n: _resolve(_scalar(ld, n)))
_Loader.add_constructor("!enum", _construct_enum)
_Loader.add_constructor("!tuple", lambda ld, n: tuple(_sequence(ld, n)))
_Loader.add_constructor("!opaque", lambda ld, n: OpaqueValue(_scalar(ld, n)))
_Loader.add_constructor("!slice", lambda ld, n: slice(*_sequence(ld, n)))


def dump_cfg(cfg: Any, path: Path) -> None:
  """Write a config (dataclass or plain data) to ``path``."""
  path.parent.mkdir(parents=True, exist_ok=True)
  text = yaml.dump(cfg, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
  path.write_text(text)


def load_cfg(path: Path) -> Any:
  """Read a file written by dump_cfg back into the same objects."""
  if not path.is_file():
    raise StRlError(f"config file {path} does not exist: is this a st_rl run folder?")
  try:
    return yaml.load(path.read_text(), Loader=_Loader)
  except (yaml.YAMLError, ImportError, AttributeError, KeyError, TypeError) as e:
    raise StRlError(
      f"cannot read {path} ({type(e).__name__}: {e}); it was written by another "
      "st_gym version or edited by hand. Re-run training or fix the file."
    ) from e
