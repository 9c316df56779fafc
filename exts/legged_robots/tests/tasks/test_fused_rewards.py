"""FusedRewardManager gives mjlab RewardManager's numbers, with its bookkeeping fused."""

from __future__ import annotations

import pytest
import torch
from mjlab.managers.reward_manager import RewardManager, RewardTermCfg

from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.env import FusedRewardManager, StGymRlEnv
from legged_robots.tasks.registry import env_class

NUM_ENVS = 4


def _nan_for_env_0(env) -> torch.Tensor:
  value = torch.ones(env.num_envs)
  value[0] = float("nan")
  return value


def _never_called(env) -> torch.Tensor:
  raise AssertionError("a reward term with weight 0 was evaluated")


@pytest.fixture(scope="module")
def env():
  cfg = load_env_cfg("Flat-G1")
  cfg.scene.num_envs = NUM_ENVS
  cfg.seed = 3
  # A term that yields NaN for env 0 and one with weight 0 whose function must not run.
  cfg.rewards["nan_term"] = RewardTermCfg(func=_nan_for_env_0, weight=2.0)
  cfg.rewards["off_term"] = RewardTermCfg(func=_never_called, weight=0.0)
  env = StGymRlEnv(cfg, device="cpu")
  env.reset()
  yield env
  env.close()


def test_st_gym_tasks_get_the_fused_manager_and_mjlab_tasks_keep_theirs(env):
  assert isinstance(env.reward_manager, FusedRewardManager)
  assert env_class("Flat-G1") is StGymRlEnv
  assert env_class("Mjlab-Velocity-Flat-Unitree-G1").__name__ == "ManagerBasedRlEnv"


def test_curriculum_schedules_change_the_weights_the_fused_manager_uses(env):
  schedules = [cfg.func for cfg in env.curriculum_manager._term_cfgs if hasattr(cfg.func, "_term_cfg")]
  assert schedules, "Flat-G1 has reward weight schedules"
  for schedule in schedules:
    assert any(schedule._term_cfg is cfg for cfg in env.reward_manager._term_cfgs)


def test_a_task_without_reward_terms_gets_zero_reward(env):
  fused = FusedRewardManager.from_manager(RewardManager({}, env))
  fused._reward_buf.fill_(3.0)
  assert (fused.compute(env.step_dt) == 0).all()
  assert fused.reset() == {}


def test_compute_and_reset_match_mjlab_reward_manager(env):
  # Two managers over the same env, each with its own term instances, fed the same states.
  ref = RewardManager(env.cfg.rewards, env, scale_by_dt=env.cfg.scale_rewards_by_dt)
  fused = FusedRewardManager.from_manager(RewardManager(env.cfg.rewards, env))
  names = fused.active_terms
  assert names == ref.active_terms
  gen = torch.Generator().manual_seed(0)
  dt = env.step_dt
  for step in range(12):
    action = torch.rand(NUM_ENVS, env.action_manager.total_action_dim, generator=gen) * 2 - 1
    env.step(action)
    for a, b in zip(ref._term_cfgs, fused._term_cfgs, strict=True):
      a.weight = b.weight  # The env's curriculum moves the weights of neither.
    expected = ref.compute(dt).clone()
    got = fused.compute(dt)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused._step_reward, ref._step_reward, rtol=1e-5, atol=1e-6)
    for name in names:
      torch.testing.assert_close(fused._episode_sums[name], ref._episode_sums[name], rtol=1e-5, atol=1e-6)
    if step == 5:
      ids = torch.tensor([1, 3])
      want, have = ref.reset(ids), fused.reset(ids)
      assert want.keys() == have.keys()
      for key in want:
        torch.testing.assert_close(have[key], want[key], rtol=1e-5, atol=1e-6)
      assert (fused._episode_sums[names[0]][ids] == 0).all()
  # Hand-checked pieces: NaN is zeroed, the weight-0 term contributes nothing, and the
  # step reward of the NaN term is its weight (2.0) for the other envs.
  column = names.index("nan_term")
  assert fused._step_reward[0, column] == 0.0
  torch.testing.assert_close(fused._step_reward[1:, column], torch.full((NUM_ENVS - 1,), 2.0))
  assert (fused._step_reward[:, names.index("off_term")] == 0).all()
  torch.testing.assert_close(fused._reward_buf, fused._step_reward.sum(dim=1) * dt, rtol=1e-5, atol=1e-6)
  # A full reset logs the mean episode sum per second of episode and zeroes every sum.
  sums = fused._sums.clone()
  extras = fused.reset()
  torch.testing.assert_close(
    extras["Episode_Reward/nan_term"], sums[:, column].mean() / env.max_episode_length_s
  )
  assert (fused._sums == 0).all()
