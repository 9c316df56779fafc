"""Hydra-style ``key=value`` overrides applied to the env and agent dataclass configs.

``env.rewards.alive.weight=2.0 agent.algorithm.learning_rate=3e-4 env.events.push=null``:
the key is a dotted path from a root (``env`` or ``agent``) through dataclass fields,
dict keys and list indices; the value is parsed as YAML (``null``, ``true``, ``[1, 2]``).
Every override is checked against the config before anything is built: an unknown key
names the closest valid keys (difflib), a value of the wrong type names the expected one.
Setting a term of a term dict (``env.rewards.<name>``) to ``null`` removes that term.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

import yaml

from legged_robots.rl.errors import OverrideError

_NO_HINT = object()


@dataclass(frozen=True)
class Override:
  """One parsed ``key=value`` argument."""

  path: tuple[str, ...]
  value: Any
  text: str


def parse_overrides(args: list[str], roots: tuple[str, ...]) -> list[Override]:
  """Parse ``key=value`` strings; the first path component must be one of ``roots``."""
  parsed = []
  for text in args:
    key, sep, raw = text.partition("=")
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
    parsed.append(Override(path=path, value=value, text=text))
  return parsed


def _parse_value(raw: str, text: str) -> Any:
  try:
    value = yaml.safe_load(raw) if raw.strip() else ""
  except yaml.YAMLError as e:
    raise OverrideError(f"override {text!r}: value is not valid YAML ({e})") from e
  if isinstance(value, str):
    # YAML 1.1 reads "3e-4" (no dot) as a string; hydra and users mean a float.
    try:
      return float(value)
    except ValueError:
      return value
  return value


def apply_overrides(roots: dict[str, Any], overrides: list[Override]) -> None:
  """Check and apply overrides in place; raise OverrideError on the first bad one."""
  for override in overrides:
    node = roots[override.path[0]]
    for depth, key in enumerate(override.path[1:-1], start=1):
      node = _child(node, key, override, depth)
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
  return OverrideError(
    f"unknown override key {'.'.join(override.path[: depth + 1])!r} in "
    f"{override.text!r}; {label}: {', '.join(f'{prefix}.{k}' for k in shown)}{more}"
  )


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
  return _coerce_hint(value, hint, where)


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
  return _coerce_hint(value, type(current), where)


def _coerce_hint(value: Any, hint: Any, where: str) -> Any:
  origin = typing.get_origin(hint)
  args = typing.get_args(hint)
  if origin in (typing.Union, types.UnionType):
    for option in args:
      try:
        return _coerce_hint(value, option, where)
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
    else:
      items = list(value)
    return tuple(items) if (origin or hint) is tuple else items
  if origin is dict or hint is dict:
    if not isinstance(value, dict):
      raise _type_error(where, value, "a mapping")
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
