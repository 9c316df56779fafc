"""Command-line overrides of the env and agent dataclass configs, in hydra's grammar.

hydra-core parses and composes them: ``key=value``, ``+key=value`` (add a key),
``++key=value`` (add or set), ``~key`` (delete), lists ``[1, 2]``, mappings ``{a: 1}``,
``null``, quoted strings, ``${..}`` interpolations and YAML 1.2 numbers at every depth
(``1e-3`` is a float, also inside lists). The configs become hydra's config as plain
containers (``cfg_node``: functions and classes as ``module:qualname`` strings, enums as
their names, tuples as lists), composed by hydra's own config loader.

What hydra does not do is ours: before composing, every key is checked against the
dataclasses (an unknown key names the closest valid keys; ``+`` only adds to mappings of
plain values, ``~`` only deletes mapping entries); after composing, every changed value is
written back into the dataclasses checked against the field's declared type (the expected
type is named), elements of lists and mappings included (``rl/override_values.py``).
Setting a term of a term dict (``env.rewards.<name>``) to ``null`` or deleting it
(``~env.rewards.<name>``) removes it.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException, OverrideParseException
from omegaconf import DictConfig, OmegaConf

from legged_robots.rl.errors import OverrideError
from legged_robots.rl.override_values import cfg_node, merge_composed
from legged_robots.rl.st_gym_names import st_gym_hint

__all__ = ["Override", "apply_overrides", "cfg_node", "compose", "parse_overrides"]

# mjlab's pose/velocity range mappings (``_sample_se3_range``) read these keys, ignore others.
_SE3_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")
_EXAMPLE = "env.rewards.alive.weight=2.0 or agent.algorithm.learning_rate=3e-4"
_names = itertools.count()


def parse_overrides(args: list[str], roots: tuple[str, ...]) -> list[Override]:
  """Parse override strings with hydra's grammar; the first key component must be a root.

  Sweeps (``a=1,2``) are refused: ``--multirun`` expands them into one run each.
  """
  parser = OverridesParser.create()
  parsed = []
  for text in args:
    try:
      (override,) = parser.parse_overrides([text])
    except OverrideParseException as e:
      reason = str(e).splitlines()[-1].strip()
      raise OverrideError(
        f"cannot read override {text!r} ({reason}): write key=value, e.g. {_EXAMPLE}"
      ) from None
    if override.is_sweep_override():
      raise OverrideError(
        f"override {text!r} is a sweep: add --multirun to run one training per value, write a "
        f"list as [a,b], or quote a string ('a,b')"
      )
    path = override.key_or_group.split(".")
    if path[0] not in roots:
      close = difflib.get_close_matches(path[0], roots, n=1, cutoff=0.4)
      hint = f" Did you mean {close[0]}.{'.'.join(path[1:])}?" if close else ""
      raise OverrideError(f"override {text!r}: key must start with one of {list(roots)}.{hint}")
    parsed.append(override)
  return parsed


def compose(node: dict[str, Any], overrides: list[str]) -> DictConfig:
  """Hydra's composition of ``node`` (registered with its ConfigStore) with overrides."""
  from hydra._internal.config_loader_impl import ConfigLoaderImpl
  from hydra._internal.utils import create_config_search_path
  from hydra.types import RunMode

  name = f"st_gym_overrides_{next(_names)}"
  store = ConfigStore.instance()
  store.store(name=name, node=node)
  loader = ConfigLoaderImpl(config_search_path=create_config_search_path(None))
  try:
    return loader.load_configuration(name, overrides, RunMode.RUN)
  except HydraException as e:
    raise OverrideError(f"overrides {' '.join(overrides)}: {str(e).strip()}") from None
  finally:  # hydra deep-copies the whole store on every load: left there, each config slows the next
    store.repo.pop(f"{name}.yaml", None)


def apply_overrides(roots: dict[str, Any], overrides: list[Override]) -> None:
  """Check the overrides' keys, compose them with hydra, write the changes back typed;
  raise OverrideError on the first bad one (the configs may then be partly changed)."""
  if not overrides:
    return
  removed: list[str] = []  # keys an earlier override sets to null or deletes
  for override in overrides:
    key = override.key_or_group
    gone = next((r for r in removed if key.startswith(f"{r}.")), None)
    if gone is not None:
      raise OverrideError(
        f"override {override.input_line!r}: {gone} is null (removed); it has no fields to set."
      )
    _check_key(roots, override)
    if override.is_delete() or override.value() is None:
      removed.append(key)
  composed = compose({k: cfg_node(v) for k, v in roots.items()}, [str(o.input_line) for o in overrides])
  for key, obj in roots.items():
    new = OmegaConf.to_container(composed[key], resolve=True)
    roots[key] = merge_composed(obj, new, key)


def _check_key(roots: dict[str, Any], override: Override) -> None:
  """The override's key exists (``+``: its parent does, it does not), before composing."""
  path = override.key_or_group.split(".")
  node = roots[path[0]]
  for depth, key in enumerate(path[1:-1], start=1):
    node = _child(node, key, override, depth)
  last, depth = path[-1], len(path) - 1
  exists = len(path) == 1 or last in _keys(node)
  where = override.key_or_group
  if override.type == OverrideType.ADD or (override.type == OverrideType.FORCE_ADD and not exists):
    if exists:
      raise OverrideError(
        f"override {override.input_line!r}: {where} already exists; drop the + to change it ({where}=...)"
      )
    problem = _add_problem(node, last)
    if problem is not None:
      raise OverrideError(
        f"override {override.input_line!r}: cannot add {last!r}, {'.'.join(path[:-1])} {problem}."
      )
  elif not exists:
    raise _unknown_key(node, last, override, depth)
  elif override.type == OverrideType.CHANGE and isinstance(value := override.value(), dict):
    target = node if len(path) == 1 else _child(node, last, override, depth)
    _check_merged_keys(target, value, override, where)
  elif override.type == OverrideType.DEL and (len(path) == 1 or not isinstance(node, dict)):
    raise OverrideError(
      f"override {override.input_line!r}: {where} is a field of {type(node).__name__}, it cannot be "
      f"deleted; ~ deletes mapping entries (e.g. ~env.rewards.<term>). Set it instead ({where}=...)."
    )


def _check_merged_keys(node: Any, value: dict, override: Override, where: str) -> None:
  """hydra merges a mapping value into the mapping it sets: its keys must exist there."""
  if node is None:  # a null field takes the mapping whole; its type is checked after composing
    return
  for key, item in value.items():
    if str(key) not in _keys(node):
      keys = _keys(node)
      close = difflib.get_close_matches(str(key), keys, n=3, cutoff=0.5)
      known = (
        f"closest valid keys: {', '.join(f'{where}.{k}' for k in close)}" if close else f"keys: {keys[:12]}"
      )
      add = f"; to add it write ++{override.input_line}" if _add_problem(node, str(key)) is None else ""
      raise OverrideError(
        f"override {override.input_line!r}: a mapping value is merged into {where}, which has no key "
        f"{str(key)!r} ({known}){add}"
      )
    child = (
      getattr(node, str(key))
      if dataclasses.is_dataclass(node)
      else node[str(key)]
      if isinstance(node, dict)
      else None
    )
    if isinstance(item, dict) and child is not None and not isinstance(child, (str, int, float)):
      _check_merged_keys(child, item, override, f"{where}.{key}")


def _keys(node: Any) -> list[str]:
  if dataclasses.is_dataclass(node):
    return [f.name for f in dataclasses.fields(node)]
  if isinstance(node, dict):
    return [str(k) for k in node]
  if isinstance(node, (list, tuple)):
    return [str(i) for i in range(len(node))]
  return []


def _child(node: Any, key: str, override: Override, depth: int) -> Any:
  path = override.key_or_group.split(".")
  if dataclasses.is_dataclass(node) and key in _keys(node):
    return getattr(node, key)
  if isinstance(node, dict) and key in _keys(node):
    key = next(k for k in node if str(k) == key)  # mjlab has int keys too (base com ranges)
    if node[key] is None:
      raise OverrideError(
        f"override {override.input_line!r}: {'.'.join(path[: depth + 1])} is null (removed); "
        "it has no fields to set."
      )
    return node[key]
  if isinstance(node, (list, tuple)) and key.isdigit() and int(key) < len(node):
    return node[int(key)]
  raise _unknown_key(node, key, override, depth)


def _unknown_key(node: Any, key: str, override: Override, depth: int) -> OverrideError:
  path = override.key_or_group.split(".")
  prefix = ".".join(path[:depth])
  keys = _keys(node)
  if not keys:
    return OverrideError(
      f"override {override.input_line!r}: {prefix} is a {type(node).__name__} value "
      f"({node!r}), it has no key {key!r}. Set {prefix}=<value> instead."
    )
  close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
  shown = close or keys[:12]
  label = "closest valid keys" if close else "valid keys"
  more = "" if close or len(keys) <= 12 else f" (and {len(keys) - 12} more)"
  addable = depth == len(path) - 1 and _add_problem(node, key) is None
  add_hint = f"; to add the key write +{override.input_line}" if addable else ""
  full = ".".join(path[: depth + 1])
  return OverrideError(
    f"unknown override key {full!r} in {override.input_line!r}; {label}: "
    f"{', '.join(f'{prefix}.{k}' for k in shown)}{more}{add_hint}{st_gym_hint(full)}"
  )


def _add_problem(node: Any, key: str) -> str | None:
  """Why ``key`` cannot be added to node, or None when it can."""
  if not isinstance(node, dict):
    return f"is a {type(node).__name__}, only mappings take new keys"
  if any(dataclasses.is_dataclass(v) for v in node.values()):
    return "holds term configs; add a term in the task's cfg factory, not on the command line"
  if node and set(map(str, node)) <= set(_SE3_KEYS) and key not in _SE3_KEYS:
    return f"is a pose/velocity range; mjlab reads only the keys {list(_SE3_KEYS)}"
  return None
