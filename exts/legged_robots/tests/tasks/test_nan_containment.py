"""NaN containment: one env whose state, observation or reward goes NaN/Inf is reset alone,
booked under the ``non_finite`` termination term, and training goes on (tasks/env.py)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.rl import RslRlVecEnvWrapper
from rsl_rl.utils import check_nan

from legged_robots.tasks import load_env_cfg, task_ids
from legged_robots.tasks.env import NON_FINITE_TERM, StGymRlEnv

NUM_ENVS = 4
SICK = 1  # the env that goes NaN; the others must not notice


def _env(cfg=None) -> StGymRlEnv:
  cfg = cfg or load_env_cfg("Flat-G1")
  cfg.scene.num_envs = NUM_ENVS
  cfg.seed = 0
  cfg.events.pop("push_robot", None)
  cfg.events.pop("external_force_torque", None)
  return StGymRlEnv(cfg, device="cpu")


def _steps(env: StGymRlEnv, n: int):
  for _ in range(n):
    out = env.step(torch.zeros(NUM_ENVS, env.action_manager.total_action_dim))
  return out


def _assert_contained(env: StGymRlEnv, out, before: torch.Tensor) -> None:
  """Only SICK was reset, as a time-out of the non_finite term, and everything is finite."""
  obs, reward, terminated, truncated, extras = out
  check_nan(obs, reward, terminated)  # what ended training: rsl_rl raises on NaN
  for group in obs.values():
    assert torch.isfinite(group).all()
  assert torch.isfinite(reward).all()
  assert truncated.tolist() == [i == SICK for i in range(NUM_ENVS)]
  assert not terminated.any()
  assert env.episode_length_buf[SICK] == 0
  others = [i for i in range(NUM_ENVS) if i != SICK]
  assert (env.episode_length_buf[others] == before[others] + 1).all()
  assert extras["log"][f"Episode_Termination/{NON_FINITE_TERM}"] == 1
  assert env.termination_manager.get_term(NON_FINITE_TERM).tolist() == [i == SICK for i in range(NUM_ENVS)]
  assert torch.isfinite(env.sim.data.qpos).all() and torch.isfinite(env.sim.data.qvel).all()


def test_every_locomotion_task_has_the_non_finite_termination():
  for task in task_ids():
    terms = load_env_cfg(task).terminations
    assert terms[NON_FINITE_TERM].time_out, task  # no termination penalty for a blow-up


def test_nan_in_one_envs_physics_state_resets_that_env_only():
  env = _env()
  try:
    env.reset()
    _steps(env, 3)
    before = env.episode_length_buf.clone()
    env.sim.data.qvel[SICK] = float("nan")  # the physics of env SICK blew up
    _assert_contained(env, _steps(env, 1), before)
    obs, reward, *_ = _steps(env, 3)  # and it goes on
    assert torch.isfinite(obs["actor"]).all() and torch.isfinite(reward).all()
  finally:
    env.close()


def _nan_push(env, env_ids: torch.Tensor) -> None:
  """A push event that writes NaN velocities into env SICK, after the termination check."""
  if SICK in env_ids.tolist():
    env.sim.data.qvel[SICK, :6] = float("nan")


def test_nan_written_after_the_termination_check_is_caught_before_rsl_rl_sees_it():
  cfg = load_env_cfg("Flat-G1")
  step_dt = cfg.sim.mujoco.timestep * cfg.decimation
  cfg.events["nan_push"] = EventTermCfg(
    func=_nan_push, mode="interval", interval_range_s=(3.5 * step_dt, 3.5 * step_dt)
  )
  env = _env(cfg)
  try:
    env.reset()
    _steps(env, 3)
    before = env.episode_length_buf.clone()
    _assert_contained(env, _steps(env, 1), before)
  finally:
    env.close()


_POISON: dict[str, float] = {}


def _poisoned_reward(env) -> torch.Tensor:
  """A reward term that returns NaN (or +inf) in env SICK once armed (the env copies its cfg)."""
  value = torch.zeros(env.num_envs)
  if "value" in _POISON:
    value[SICK] = _POISON.pop("value")
  return value


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_non_finite_reward_resets_that_env_only(poison):
  cfg = load_env_cfg("Flat-G1")
  cfg.rewards["poisoned"] = RewardTermCfg(func=_poisoned_reward, weight=1.0)
  env = _env(cfg)
  try:
    env.reset()
    _steps(env, 2)
    before = env.episode_length_buf.clone()
    _POISON["value"] = poison
    out = _steps(env, 1)
    _assert_contained(env, out, before)
    assert out[1][SICK] == 0.0
  finally:
    env.close()


@pytest.mark.slow
def test_training_goes_on_when_one_env_goes_nan_mid_run(tmp_path):
  from legged_robots.rl.runner import StRlOnPolicyRunner
  from legged_robots.tasks.config.g1.agents.st_rl_ppo_cfg import g1_flat_ppo_cfg

  cfg = load_env_cfg("Flat-G1")
  step_dt = cfg.sim.mujoco.timestep * cfg.decimation
  cfg.events["nan_push"] = EventTermCfg(
    func=_nan_push, mode="interval", interval_range_s=(step_dt, 5 * step_dt)
  )
  env = _env(cfg)
  agent = g1_flat_ppo_cfg()
  agent.num_steps_per_env, agent.max_iterations, agent.save_interval = 8, 2, 100
  try:
    wrapped = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
    runner = StRlOnPolicyRunner(wrapped, asdict(agent), "Flat-G1", str(tmp_path), "cpu")
    counts = []
    original_step = wrapped.step

    def counting_step(actions):
      out = original_step(actions)
      counts.append(out[3]["log"].get(f"Episode_Termination/{NON_FINITE_TERM}", 0))
      return out

    wrapped.step = counting_step
    runner.learn(num_learning_iterations=2)  # rsl_rl's NaN check raised here before
    assert sum(counts) >= 2, counts
    actor = runner.alg.get_policy().state_dict()
    assert all(torch.isfinite(v).all() for v in actor.values() if v.is_floating_point())
  finally:
    env.close()


def test_nan_detection_is_mjlabs_mask_in_fewer_ops():
  """Our leaner term against the hand-made expectation and against mjlab's own NanGuard."""
  from types import SimpleNamespace

  from mjlab.utils.nan_guard import NanGuard
  from torch.overrides import TorchFunctionMode

  from legged_robots.tasks.mdp.terminations import nan_detection

  class Count(TorchFunctionMode):
    calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
      Count.calls += 1
      return func(*args, **(kwargs or {}))

  shapes = {"qpos": 5, "qvel": 4, "qacc": 4, "qacc_warmstart": 4, "sensordata": 3}
  data = SimpleNamespace(**{name: torch.zeros(NUM_ENVS, n) for name, n in shapes.items()})
  data.qvel[1, 2] = float("nan")
  data.sensordata[3, 0] = float("-inf")
  data.qacc_warmstart[3, 1] = float("inf")
  env = SimpleNamespace(sim=SimpleNamespace(data=data))
  with Count():
    got = nan_detection(env)  # pyright: ignore[reportArgumentType]
  ours, Count.calls = Count.calls, 0
  with Count():
    expected = NanGuard.detect_nans(data)  # pyright: ignore[reportArgumentType]
  assert got.tolist() == [False, True, False, True]
  assert torch.equal(got, expected)
  # ours: 5 x (isfinite, all) + 4 and + 1 not; mjlab's: .shape, .device, zeros + 5 x (isnan,
  # any, isinf, any, or, in-place or): torch calls, i.e. kernel launches on a GPU
  assert (ours, Count.calls) == (15, 33)
  cfg = load_env_cfg("Flat-G1")
  assert cfg.terminations[NON_FINITE_TERM].func is nan_detection  # the tasks use ours
