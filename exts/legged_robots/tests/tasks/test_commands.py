"""The sync-free velocity command against mjlab's: same update, same distribution, no syncs."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import pytest
import torch
from mjlab.envs import ManagerBasedRlEnv
from mjlab.tasks.velocity.mdp.velocity_command import UniformVelocityCommandCfg as MjlabCommandCfg
from torch.profiler import ProfilerActivity, profile

from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.mdp import UniformVelocityCommand, UniformVelocityCommandCfg

STATE = (
  "vel_command_b",
  "vel_command_w",
  "heading_target",
  "is_heading_env",
  "is_standing_env",
  "is_world_env",
)


@pytest.fixture(scope="module")
def env():
  cfg = load_env_cfg("Flat-G1")
  cfg.scene.num_envs = 4
  env = ManagerBasedRlEnv(cfg, device="cpu")
  env.reset()
  env.step(torch.zeros(4, env.action_manager.total_action_dim))
  yield env
  env.close()


def _terms(env, **overrides):
  ours = env.command_manager.get_term("base_velocity")
  assert isinstance(ours, UniformVelocityCommand)
  cfg = replace(ours.cfg, **overrides)
  fields = {k: getattr(cfg, k) for k in asdict(cfg) if k != "motion_command"}  # ours only
  return cfg.build(env), MjlabCommandCfg(**fields).build(env)


def _set_state(term, **state) -> None:
  for name, value in state.items():
    getattr(term, name).copy_(value)


def test_update_matches_mjlab_heading_world_and_standing_envs(env):
  ours, theirs = _terms(env, rel_world_envs=0.5)
  state = {
    "vel_command_b": torch.tensor([[0.5, 0.2, 0.9], [0.3, -0.1, 0.4], [0.8, 0.3, -0.2], [-0.4, 0.1, 0.1]]),
    "vel_command_w": torch.tensor([[0.1, 0.7, 0.0], [0.6, -0.3, 0.0], [0.2, 0.2, 0.0], [0.0, 0.4, 0.0]]),
    "heading_target": torch.tensor([3.0, -3.0, 0.5, 1.0]),
    "is_heading_env": torch.tensor([True, True, False, False]),
    "is_standing_env": torch.tensor([False, False, False, True]),
    "is_world_env": torch.tensor([False, True, True, False]),
  }
  for term in (ours, theirs):
    _set_state(term, **state)
    term._update_command(None)
  for name in STATE:
    torch.testing.assert_close(getattr(ours, name), getattr(theirs, name), msg=name)
  # By hand for env 0: wz = clip(0.5 * wrap(3.0 - heading)), vx, vy untouched.
  heading = env.scene["robot"].data.heading_w[0].item()
  wz = min(max(0.5 * math.remainder(3.0 - heading, 2 * math.pi), -1.0), 1.0)
  torch.testing.assert_close(ours.vel_command_b[0], torch.tensor([0.5, 0.2, wz]))
  assert not ours.vel_command_b[3].any()  # Standing.


def test_resample_draws_mjlab_ranges_and_env_kinds(env):
  ours, _ = _terms(env)
  n = 3000
  draws = {
    name: [] for name in ("vel_command_b", "time_left", "heading_target", "is_heading_env", "is_standing_env")
  }
  for _ in range(n):
    ours._resample_where(torch.ones(4, dtype=torch.bool))
    for name, out in draws.items():
      out.append(getattr(ours, name).clone())
  cmd = torch.cat(draws["vel_command_b"])
  for axis, (lo, hi) in enumerate([(-0.5, 1.0), (-0.3, 0.3), (-1.0, 1.0)]):
    assert lo <= cmd[:, axis].min() and cmd[:, axis].max() <= hi
    assert cmd[:, axis].mean() == pytest.approx((lo + hi) / 2, abs=0.03)
  timer = torch.cat(draws["time_left"])
  assert timer.min() >= 5.0 and timer.max() <= 10.0
  assert torch.cat(draws["heading_target"]).abs().max() <= math.pi
  assert torch.cat(draws["is_heading_env"]).float().mean() == pytest.approx(0.3, abs=0.02)
  assert torch.cat(draws["is_standing_env"]).float().mean() == pytest.approx(0.05, abs=0.01)


def test_resample_touches_only_due_envs_and_forward_envs_walk_straight(env):
  ours, _ = _terms(env, rel_forward_envs=1.0)
  before = ours.vel_command_b.clone()
  counter = ours.command_counter.clone()
  ours._resample_where(torch.tensor([True, False, True, False]))
  torch.testing.assert_close(ours.vel_command_b[[1, 3]], before[[1, 3]])
  assert (ours.vel_command_b[[0, 2], 0] >= 0.3).all() and not ours.vel_command_b[[0, 2], 1:].any()
  assert (ours.command_counter - counter).tolist() == [1, 0, 1, 0]


def test_reset_logs_episode_errors_and_resamples(env):
  ours, _ = _terms(env)
  ours.metrics["error_vel_xy"].copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
  ours.time_left.fill_(-1.0)
  extras = ours.reset(torch.tensor([1, 3]))
  assert extras["error_vel_xy"].item() == pytest.approx(0.3)
  assert ours.metrics["error_vel_xy"].tolist() == pytest.approx([0.1, 0.0, 0.3, 0.0])
  assert (ours.time_left[[1, 3]] >= 5.0).all() and (ours.time_left[[0, 2]] == -1.0).all()


def test_step_and_reset_never_sync_with_the_device(env):
  term = env.command_manager.get_term("base_velocity")
  term.time_left[:2] = -1.0  # Two envs resample in this step.
  reset_ids = torch.tensor([0, 2])
  with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    term.compute(dt=env.step_dt)
    term.reset(reset_ids)
  syncs = [e.name for e in prof.events() if e.name in ("aten::nonzero", "aten::_local_scalar_dense")]
  from_lists = [e for e in prof.events() if e.name == "aten::lift_fresh" and e.input_shapes[0]]
  assert not syncs and not from_lists


def test_init_velocity_is_refused_with_the_alternative_named(env):
  cfg = env.command_manager.get_term("base_velocity").cfg
  with pytest.raises(ValueError, match=r"init_velocity_prob=0\.5.*mjlab\.tasks\.velocity\.mdp"):
    replace(cfg, init_velocity_prob=0.5).build(env)
  assert isinstance(cfg, UniformVelocityCommandCfg)
