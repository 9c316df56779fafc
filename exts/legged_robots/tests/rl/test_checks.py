"""rl.checks: the value checks that run before anything is built, on every task's defaults
and on hand-made configs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from legged_robots.rl.checks import check_agent_cfg, check_env_cfg, no_nan
from legged_robots.rl.errors import StRlError


@dataclass
class _Term:
  weight: float = 1.0
  params: dict = field(default_factory=dict)


@dataclass
class _Cfg:
  terms: dict = field(default_factory=dict)
  ranges: tuple = (0.0, 1.0)


def test_no_nan_names_the_key_of_the_first_nan():
  cfg = _Cfg(terms={"a": _Term(), "b": _Term(params={"std": [0.1, math.nan]})})
  with pytest.raises(StRlError, match=r"^env\.terms\.b\.params\.std\[1\] is nan: set it to a number\.$"):
    no_nan("env", cfg)


def test_no_nan_accepts_inf_and_finite_values_and_shared_nodes():
  shared = _Term(weight=-2.0)
  no_nan("env", _Cfg(terms={"a": shared, "b": shared}, ranges=(-math.inf, math.inf)))


@pytest.fixture
def g1_cfgs():
  from legged_robots.rl.task_cfg import load_task_cfgs

  return load_task_cfgs("Flat-G1", play=False)


def test_every_tasks_defaults_pass():
  """The shipped configs hold no NaN and finite weights (else every run would fail)."""
  from legged_robots.rl.task_cfg import load_task_cfgs
  from legged_robots.tasks.registry import task_ids

  ours = [t for t in task_ids() if not t.startswith("Mjlab-")]
  assert len(ours) >= 20
  for task in ours:
    for play in (False, True):
      cfgs = load_task_cfgs(task, play=play)
      check_env_cfg(cfgs.env)
      check_agent_cfg(cfgs.agent)


@pytest.mark.parametrize("weight", [math.nan, math.inf, -math.inf])
def test_a_reward_weight_must_be_finite(g1_cfgs, weight):
  g1_cfgs.env.rewards["alive"].weight = weight
  with pytest.raises(StRlError, match=r"env\.rewards\.alive\.weight (must be a finite number|is nan)"):
    check_env_cfg(g1_cfgs.env)


def test_a_nan_anywhere_in_the_agent_is_refused(g1_cfgs):
  g1_cfgs.agent.actor.distribution_cfg["init_std"] = math.nan
  with pytest.raises(StRlError, match=r"agent\.actor\.distribution_cfg\.init_std is nan"):
    check_agent_cfg(g1_cfgs.agent)
