"""Config YAML round trip: functions, classes, enums, slices, tuples, lambdas."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import pytest

from legged_robots.rl.cfg_yaml import OpaqueValue, dump_cfg, find_opaque, load_cfg
from legged_robots.rl.errors import StRlError


class Mode(enum.Enum):
  FAST = "fast"
  SLOW = "slow"


@dataclass
class Inner:
  func: object = math.sqrt
  cls: object = dict
  ids: object = field(default_factory=lambda: slice(None))
  pair: tuple[float, float] = (0.5, 1.5)


@dataclass
class Outer:
  name: str = "x"
  mode: Mode = Mode.SLOW
  terms: dict = field(default_factory=lambda: {"a": Inner(), "b": None})
  hook: object = None


def test_round_trip_rebuilds_the_same_objects(tmp_path):
  cfg = Outer(terms={"a": Inner(ids=slice(1, 4, 2), pair=(2.0, 3.0)), "b": None})
  dump_cfg(cfg, tmp_path / "c.yaml")
  back = load_cfg(tmp_path / "c.yaml")
  assert back == cfg
  assert back.terms["a"].func is math.sqrt and back.mode is Mode.SLOW
  assert isinstance(back.terms["a"].pair, tuple)
  assert find_opaque(back) is None


def test_lambda_is_kept_as_opaque_and_found(tmp_path):
  dump_cfg(Outer(hook=lambda: 1), tmp_path / "c.yaml")
  back = load_cfg(tmp_path / "c.yaml")
  assert isinstance(back.hook, OpaqueValue)
  assert find_opaque(back) == "hook"


def test_unreadable_file_is_a_clear_error(tmp_path):
  path = tmp_path / "c.yaml"
  path.write_text("!cfg:not_a_module_xyz:Thing {a: 1}\n")
  with pytest.raises(StRlError, match="cannot read"):
    load_cfg(path)
  with pytest.raises(StRlError, match="does not exist"):
    load_cfg(tmp_path / "missing.yaml")


def test_mjlab_env_cfg_round_trips_except_its_lambda(tmp_path):
  import mjlab.tasks  # noqa: F401  (registers mjlab's own tasks)
  from mjlab.tasks.registry import load_env_cfg

  cfg = load_env_cfg("Mjlab-Velocity-Flat-Unitree-G1")
  dump_cfg(cfg, tmp_path / "env.yaml")
  back = load_cfg(tmp_path / "env.yaml")
  assert find_opaque(back) == "scene.terrain.spec_fn"  # mjlab's default is a lambda
  back.scene.terrain.spec_fn = cfg.scene.terrain.spec_fn
  assert back == cfg
