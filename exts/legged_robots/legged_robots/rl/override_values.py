"""Writing hydra's composed config back into the dataclass configs, typed.

``cfg_node`` turns a config into the plain containers hydra composes; ``merge_composed``
writes the composed result back: unchanged leaves keep their objects (tuples, functions,
int dict keys), dataclasses and mappings are updated in place, and every changed value is
checked against the field's declared type, or without one against the type of the value
it replaces (elements of lists and mappings included). The key checks that run before
composing are in ``legged_robots.rl.overrides``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

from legged_robots.rl.errors import OverrideError

__all__ = ["cfg_node", "merge_composed"]

_NO_HINT = object()


def cfg_node(obj: Any) -> Any:
  """A config as plain containers for hydra: dataclasses and dicts become mappings, tuples
  lists, enums their names, anything else not plain (functions, classes) ``module:qualname``."""
  if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
    return {f.name: cfg_node(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
  if isinstance(obj, dict):
    return {str(k): cfg_node(v) for k, v in obj.items()}
  if isinstance(obj, (list, tuple)):
    return [cfg_node(v) for v in obj]
  if isinstance(obj, enum.Enum):
    return obj.name
  if obj is None or isinstance(obj, (bool, int, float, str)):
    return obj
  module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
  return f"{module}:{qual}" if module and qual else repr(obj)


def _merge(current: Any, new: Any, hint: Any, where: str, removable: bool) -> Any:
  """Write the composed value ``new`` into ``current``; return the value to store.

  Unchanged leaves keep their object (a tuple, a function); dataclasses and mappings are
  updated in place; a changed leaf is checked against ``hint`` (the field's declared type)
  or, without one, against the type of the value it replaces.
  """
  if dataclasses.is_dataclass(current) and isinstance(new, dict):
    for f in dataclasses.fields(current):
      value = getattr(current, f.name)
      setattr(
        current,
        f.name,
        _merge(value, new[f.name], _field_hint(type(current), f.name), f"{where}.{f.name}", False),
      )
    return current
  if isinstance(current, dict) and isinstance(new, dict) and _is_plain_dict_hint(hint):
    keys = {str(k): k for k in current}  # the composed config has str keys
    for name in set(keys) - set(new):
      del current[keys[name]]  # ~key
    siblings = [v for v in current.values() if v is not None]
    for name, value in new.items():
      if name in keys:
        current[keys[name]] = _merge(current[keys[name]], value, _NO_HINT, f"{where}.{name}", removable=True)
      else:  # +key: typed like the entries beside it when they all have one shape
        kinds = {_kind(v) for v in siblings}
        current[name] = (
          _coerce_like(value, siblings[0], f"{where}.{name}", False) if len(kinds) == 1 else value
        )
    return current
  if (
    isinstance(current, list)
    and isinstance(new, list)
    and len(current) == len(new)
    and any(dataclasses.is_dataclass(v) for v in current)
  ):
    return [
      _merge(c, n, _NO_HINT, f"{where}.{i}", False) for i, (c, n) in enumerate(zip(current, new, strict=True))
    ]
  if cfg_node(current) == new and _kind_equal(cfg_node(current), new):
    return current
  return _coerce(new, hint, current, where, removable)


def _is_plain_dict_hint(hint: Any) -> bool:
  return hint is _NO_HINT or hint is Any or hint is dict or typing.get_origin(hint) is dict


def _kind_equal(a: Any, b: Any) -> bool:
  """``==`` plus the same bool-ness: ``True == 1`` must still be a change to check."""
  if isinstance(a, list) and isinstance(b, list):
    return all(_kind_equal(x, y) for x, y in zip(a, b, strict=True))
  if isinstance(a, dict) and isinstance(b, dict):
    return all(_kind_equal(a[k], b[k]) for k in a)
  return isinstance(a, bool) == isinstance(b, bool) and (a is None) == (b is None)


def _kind(value: Any) -> Any:
  """A value's shape for comparing siblings: type, and length of sequences."""
  if isinstance(value, (list, tuple)):
    return (type(value), len(value), tuple(_kind(v) for v in value))
  return float if isinstance(value, int) and not isinstance(value, bool) else type(value)


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
  if isinstance(hint, type) and issubclass(hint, enum.Enum) and value in hint.__members__:
    return hint[value]  # enums are written by their member names (cfg_node)
  raise _type_error(where, value, _name(hint))


def _name(hint: Any) -> str:
  return getattr(hint, "__name__", None) or str(hint)


def merge_composed(current: Any, new: Any, where: str) -> Any:
  """Write the composed value ``new`` of the config root ``where`` into ``current``."""
  return _merge(current, new, _NO_HINT, where, removable=False)
