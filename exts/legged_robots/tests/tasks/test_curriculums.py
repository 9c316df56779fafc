"""reward_weight_linear on a fake reward manager."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from legged_robots.tasks.mdp.curriculums import reward_weight_linear


def _env(weight: float):
  term = SimpleNamespace(weight=weight)
  manager = SimpleNamespace(active_terms=["alive"], get_term_cfg=lambda name: term)
  return SimpleNamespace(reward_manager=manager, common_step_counter=0), term


def test_linear_ramp_then_hold():
  env, term = _env(1.0)
  params = {"term_name": "alive", "weight": 0.2, "num_steps": 100}
  schedule = reward_weight_linear(SimpleNamespace(params=params), env)
  for step, expected in ((0, 1.0), (25, 0.8), (50, 0.6), (100, 0.2), (400, 0.2)):
    env.common_step_counter = step
    logged = schedule(env, None, **params)
    assert term.weight == pytest.approx(expected)
    assert isinstance(logged, float) and logged == term.weight


def test_unknown_term_is_named():
  env, _ = _env(1.0)
  params = {"term_name": "alvie", "weight": 0.2, "num_steps": 10}
  with pytest.raises(ValueError, match=r"'alvie'.*\['alive'\]"):
    reward_weight_linear(SimpleNamespace(params=params), env)
