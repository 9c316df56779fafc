"""Hydra-style ``key=value`` overrides applied to the env and agent dataclass configs.

``env.rewards.alive.weight=2.0 agent.algorithm.learning_rate=3e-4 env.events.push=null``:
the key is a dotted path from a root (``env`` or ``agent``) through dataclass fields,
dict keys and list indices; the value is parsed as YAML (``null``, ``true``, ``[1, 2]``)
with YAML 1.2 numbers at every depth (PyYAML's YAML 1.1 reads ``1e6``, ``1.0e6`` and
``3e-4`` as strings, also inside lists and mappings). Every override is checked against
the config before anything is built: an unknown key names the closest valid keys
(difflib), a value of the wrong type names the expected one, elements of lists and
mappings included. Setting a term of a term dict (``env.rewards.<name>``) to ``null``
removes that term; ``+key=value`` adds a key to a mapping of plain values (hydra's
grammar), e.g. ``+env.events.push_robot.params.velocity_range.z=[-0.1, 0.1]``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

import yaml

from legged_robots.rl.errors import OverrideError

_NO_HINT = object()
# YAML 1.2 core schema floats (PyYAML implements YAML 1.1, which wants a dot and a signed
# exponent), plus hydra's inf/nan spellings.
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?(inf|nan)", re.IGNORECASE)
# mjlab's pose/velocity range mappings (``_sample_se3_range``) read these keys, ignore others.
_SE3_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")


@dataclass(frozen=True)
class Override:
  """One parsed ``key=value`` argument."""

  path: tuple[str, ...]
  value: Any
  text: str
  add: bool = False
  """``+key=value``: add a key that the mapping does not have yet."""


def parse_overrides(args: list[str], roots: tuple[str, ...]) -> list[Override]:
  """Parse ``key=value`` strings; the first path component must be one of ``roots``."""
  parsed = []
  for text in args:
    key, sep, raw = text.partition("=")
    add = key.startswith("+")
    key = key.removeprefix("+")
    if not sep or not key:
      raise OverrideError(
        f"cannot read override {text!r}: write key=value, e.g. "
        "env.rewards.alive.weight=2.0 or agent.algorithm.learning_rate=3e-4"
      )
    path = tuple(key.split("."))
    if path[0] not in roots:
      close = difflib.get_close_matches(path[0], roots, n=1, cutoff=0.4)
      hint = f" Did you mean {close[0]}.{'.'.join(path[1:])}?" if close else ""
      raise OverrideError(f"override {text!r}: key must start with one of {list(roots)}.{hint}")
    value = _parse_value(raw, text)
    parsed.append(Override(path=path, value=value, text=text, add=add))
  return parsed


def _parse_value(raw: str, text: str) -> Any:
  try:
    value = yaml.safe_load(raw) if raw.strip() else ""
  except yaml.YAMLError as e:
    raise OverrideError(f"override {text!r}: value is not valid YAML ({e})") from e
  return _yaml12_numbers(value)


def _yaml12_numbers(value: Any) -> Any:
  """Strings that YAML 1.2 (and hydra) read as floats become floats, at every depth."""
  if isinstance(value, str):
    return float(value) if _FLOAT_RE.fullmatch(value) else value
  if isinstance(value, list):
    return [_yaml12_numbers(v) for v in value]
  if isinstance(value, dict):
    return {k: _yaml12_numbers(v) for k, v in value.items()}
  return value


def apply_overrides(roots: dict[str, Any], overrides: list[Override]) -> None:
  """Check and apply overrides in place; raise OverrideError on the first bad one."""
  for override in overrides:
    node = roots[override.path[0]]
    for depth, key in enumerate(override.path[1:-1], start=1):
      node = _child(node, key, override, depth)
    if override.add:
      _add(node, override.path[-1], override)
    else:
      _assign(node, override.path[-1], override)


def _keys(node: Any) -> list[str]:
  if dataclasses.is_dataclass(node):
    return [f.name for f in dataclasses.fields(node)]
  if isinstance(node, dict):
    return [str(k) for k in node]
  if isinstance(node, (list, tuple)):
    return [str(i) for i in range(len(node))]
  return []


def _unknown_key(node: Any, key: str, override: Override, depth: int) -> OverrideError:
  prefix = ".".join(override.path[:depth])
  keys = _keys(node)
  if not keys:
    return OverrideError(
      f"override {override.text!r}: {prefix} is a {type(node).__name__} value "
      f"({node!r}), it has no key {key!r}. Set {prefix}=<value> instead."
    )
  close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
  shown = close or keys[:12]
  label = "closest valid keys" if close else "valid keys"
  more = "" if close or len(keys) <= 12 else f" (and {len(keys) - 12} more)"
  addable = depth == len(override.path) - 1 and _add_problem(node, key) is None
  add_hint = f"; to add the key write +{override.text}" if addable else ""
  return OverrideError(
    f"unknown override key {'.'.join(override.path[: depth + 1])!r} in "
    f"{override.text!r}; {label}: {', '.join(f'{prefix}.{k}' for k in shown)}{more}{add_hint}"
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


def _add(node: Any, key: str, override: Override) -> None:
  """``+path=value``: a new key of a mapping of plain values, typed like its siblings."""
  where = ".".join(override.path)
  parent = ".".join(override.path[:-1])
  if isinstance(node, dict) and key in node:
    raise OverrideError(
      f"override {override.text!r}: {where} already exists; drop the + to change it ({where}=...)"
    )
  problem = _add_problem(node, key)
  if problem is not None:
    raise OverrideError(f"override {override.text!r}: cannot add {key!r}, {parent} {problem}.")
  siblings = [v for v in node.values() if v is not None]
  kinds = {_kind(v) for v in siblings}
  value = override.value
  if len(kinds) == 1:  # every entry has one shape: the new one must have it too
    value = _coerce_like(value, siblings[0], where, removable=False)
  node[key] = value


def _kind(value: Any) -> Any:
  """A value's shape for comparing siblings: type, and length of sequences."""
  if isinstance(value, (list, tuple)):
    return (type(value), len(value), tuple(_kind(v) for v in value))
  return float if isinstance(value, int) and not isinstance(value, bool) else type(value)


def _child(node: Any, key: str, override: Override, depth: int) -> Any:
  if dataclasses.is_dataclass(node) and key in _keys(node):
    return getattr(node, key)
  if isinstance(node, dict) and key in node:
    if node[key] is None:
      raise OverrideError(
        f"override {override.text!r}: {'.'.join(override.path[: depth + 1])} is "
        "null (removed); it has no fields to set."
      )
    return node[key]
  if isinstance(node, (list, tuple)) and key.isdigit() and int(key) < len(node):
    return node[int(key)]
  raise _unknown_key(node, key, override, depth)


def _assign(node: Any, key: str, override: Override) -> None:
  depth = len(override.path) - 1
  where = ".".join(override.path)
  if dataclasses.is_dataclass(node) and key in _keys(node):
    hint = _field_hint(type(node), key)
    value = _coerce(override.value, hint, getattr(node, key), where, removable=False)
    setattr(node, key, value)
  elif isinstance(node, dict) and key in node:
    # Dict entries have no annotation: the current value's type is the contract, and
    # null removes the entry's term (managers skip None terms).
    node[key] = _coerce(override.value, _NO_HINT, node[key], where, removable=True)
  elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
    node[int(key)] = _coerce(override.value, _NO_HINT, node[int(key)], where, False)
  elif isinstance(node, tuple):
    raise OverrideError(
      f"override {override.text!r}: {'.'.join(override.path[:-1])} is a tuple; "
      f"set it whole, e.g. {'.'.join(override.path[:-1])}=[...]"
    )
  else:
    raise _unknown_key(node, key, override, depth)


def _field_hint(cls: type, name: str) -> Any:
  try:
    return typing.get_type_hints(cls)[name]
  except Exception:
    # Unresolvable forward references: fall back to checking against the current
    # value's type, which is what dict entries use anyway.
    return _NO_HINT


def _type_error(where: str, value: Any, expected: str) -> OverrideError:
  return OverrideError(
    f"override {where}={value!r}: expected {expected}, got {type(value).__name__}. "
    f"Fix the value, e.g. {where}=<{expected}>."
  )


def _coerce(value: Any, hint: Any, current: Any, where: str, removable: bool) -> Any:
  if hint is _NO_HINT or hint is Any:
    return _coerce_like(value, current, where, removable)
  return _coerce_hint(value, hint, where, current)


def _coerce_like(value: Any, current: Any, where: str, removable: bool) -> Any:
  """Check value against the type of the value it replaces."""
  if value is None:
    if removable or current is None:
      return None
    raise _type_error(where, value, type(current).__name__)
  if current is None:
    return value
  if dataclasses.is_dataclass(current):
    raise OverrideError(
      f"override {where}={value!r}: {where} is a {type(current).__name__}; set its "
      f"fields ({where}.<field>=...) or {where}=null to remove it."
    )
  if isinstance(current, (int, float)) and not isinstance(current, bool):
    # An untyped number stays a number: 0 may stand for 0.0 and the other way round.
    return _coerce_hint(value, float if isinstance(value, float) else type(current), where)
  if isinstance(current, dict) and isinstance(value, dict):
    # Entries the mapping has keep their type; new entries are the term's own business.
    return {
      k: _coerce_like(v, current[k], f"{where}.{k}", removable=False) if k in current else v
      for k, v in value.items()
    }
  if isinstance(current, (list, tuple)) and isinstance(value, (list, tuple)):
    items = list(value)
    if len(current) == len(items):
      items = [
        _coerce_like(v, c, f"{where}[{i}]", False)
        for i, (v, c) in enumerate(zip(items, current, strict=True))
      ]
    elif current and len({_kind(c) for c in current}) == 1:
      items = [_coerce_like(v, current[0], f"{where}[{i}]", False) for i, v in enumerate(items)]
    return type(current)(items)
  return _coerce_hint(value, type(current), where)


def _coerce_hint(value: Any, hint: Any, where: str, current: Any = _NO_HINT) -> Any:
  origin = typing.get_origin(hint)
  args = typing.get_args(hint)
  if origin in (typing.Union, types.UnionType):
    for option in args:
      try:
        return _coerce_hint(value, option, where, current)
      except OverrideError:
        continue
    raise _type_error(where, value, " or ".join(_name(a) for a in args))
  if origin is typing.Literal:
    if value in args:
      return value
    raise OverrideError(f"override {where}={value!r}: expected one of {list(args)}")
  if hint is type(None):
    if value is None:
      return None
    raise _type_error(where, value, "null")
  if origin in (tuple, list) or hint in (tuple, list):
    if not isinstance(value, (list, tuple)):
      raise _type_error(where, value, _name(hint))
    if origin is tuple and args and args[-1] is not Ellipsis:
      if len(args) != len(value):
        raise _type_error(where, value, f"a list of {len(args)} items")
      pairs = enumerate(zip(value, args, strict=True))
      items = [_coerce_hint(v, a, f"{where}[{i}]") for i, (v, a) in pairs]
    elif args:
      items = [_coerce_hint(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    elif isinstance(current, (list, tuple)):
      items = list(_coerce_like(value, current, where, False))
    else:
      items = list(value)
    return tuple(items) if (origin or hint) is tuple else items
  if origin is dict or hint is dict:
    if not isinstance(value, dict):
      raise _type_error(where, value, "a mapping")
    value_hint = args[1] if len(args) == 2 else Any
    if value_hint is not Any:
      return {k: _coerce_hint(v, value_hint, f"{where}.{k}") for k, v in value.items()}
    if isinstance(current, dict):
      return _coerce_like(value, current, where, False)
    return value
  if hint is bool:
    if isinstance(value, bool):
      return value
    raise _type_error(where, value, "bool (true/false)")
  if hint is int:
    if isinstance(value, int) and not isinstance(value, bool):
      return value
    raise _type_error(where, value, "int")
  if hint is float:
    # YAML reads "3" as int; a float field accepts it as 3.0.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      return float(value)
    raise _type_error(where, value, "float")
  if hint is str:
    if isinstance(value, str):
      return value
    raise _type_error(where, value, "str")
  if isinstance(hint, type) and dataclasses.is_dataclass(hint):
    raise OverrideError(
      f"override {where}={value!r}: {where} is a {hint.__name__}; set its fields "
      f"({where}.<field>=...) instead."
    )
  if isinstance(hint, type) and isinstance(value, hint):
    return value
  raise _type_error(where, value, _name(hint))


def _name(hint: Any) -> str:
  return getattr(hint, "__name__", None) or str(hint)
