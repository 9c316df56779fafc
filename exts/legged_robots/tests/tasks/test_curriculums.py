"""Curriculum terms on fakes: reward_weight_linear and the terrain curriculum (against mjlab's)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from mjlab.tasks.velocity.mdp.curriculums import terrain_levels_vel as mjlab_terrain_levels_vel
from torch.profiler import ProfilerActivity, profile

from legged_robots.tasks.mdp.curriculums import reward_weight_linear, terrain_levels_vel


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


class _Terrain:
  """Tile levels and types of 4 envs on 3 terrain types; levels move as in mjlab."""

  def __init__(self) -> None:
    self.cfg = SimpleNamespace(
      terrain_generator=SimpleNamespace(size=(8.0, 8.0), sub_terrains=dict.fromkeys("abc"))
    )
    self.terrain_origins = torch.zeros(10, 3, 3)
    self.terrain_levels = torch.tensor([2, 2, 1, 0])
    self.terrain_types = torch.tensor([0, 1, 1, 2])

  def update_env_origins(self, env_ids, move_up, move_down) -> None:
    self.terrain_levels[env_ids] += 1 * move_up - 1 * move_down


class _Scene(dict):
  terrain: _Terrain
  env_origins: torch.Tensor


def _terrain_env():
  scene = _Scene(robot=SimpleNamespace(data=SimpleNamespace(root_link_pos_w=torch.zeros(4, 3))))
  scene.terrain, scene.env_origins = _Terrain(), torch.zeros(4, 3)
  # Walked 5 m, 1 m, 3 m, 0 m; commands ask for 10 m, 10 m, 4 m, 0 m in 20 s.
  scene["robot"].data.root_link_pos_w[:, 0] = torch.tensor([5.0, 1.0, 3.0, 0.0])
  command = torch.tensor([[0.5, 0.0, 0.0], [0.3, 0.4, 0.0], [0.2, 0.0, 0.0], [0.0, 0.0, 0.0]])
  env = SimpleNamespace(scene=scene, max_episode_length_s=20.0, common_step_counter=10)
  env.command_manager = SimpleNamespace(get_command=lambda name: command)
  return env


@pytest.mark.parametrize("func", [terrain_levels_vel, mjlab_terrain_levels_vel])
def test_terrain_levels_move_and_report_per_type_means(func):
  env = _terrain_env()
  stats = func(env, torch.arange(4), command_name="c")
  # Env 0 walked over half a tile (4 m): up. Env 1 walked under half of 10 m: down.
  # Env 2 walked 3 m of 4 m asked: stays. Env 3 was asked nothing: stays.
  assert env.scene.terrain.terrain_levels.tolist() == [3, 1, 1, 0]
  expected = {"mean": 1.25, "max": 3.0, "a": 3.0, "b": 1.0, "c": 0.0}
  assert {k: float(v) for k, v in stats.items()} == expected


def test_terrain_levels_freeze_on_the_first_reset():
  env = _terrain_env()
  env.common_step_counter = 0
  terrain_levels_vel(env, torch.arange(4), command_name="c")
  assert env.scene.terrain.terrain_levels.tolist() == [2, 2, 1, 0]


def test_terrain_levels_never_sync_with_the_device():
  env, ids = _terrain_env(), torch.arange(4)
  with profile(activities=[ProfilerActivity.CPU]) as prof:
    terrain_levels_vel(env, ids, command_name="c")
  names = {e.name for e in prof.events()}
  assert not names & {"aten::nonzero", "aten::_local_scalar_dense", "aten::is_nonzero", "aten::masked_select"}
