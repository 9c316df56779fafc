"""SkrlVecEnvWrapper: which group is which, shapes and dtypes, clamp, time-outs, AMP windows."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from legged_robots.rl.skrl.env import SkrlVecEnvWrapper, group_size


def test_groups_shapes_and_order(fake_mjlab_env):
  env = fake_mjlab_env(num_envs=4)
  wrapped = SkrlVecEnvWrapper(env, amp_group="amp")
  assert wrapped.observation_space.shape == (5,) and wrapped.state_space.shape == (7,)
  assert wrapped.amp_observation_space.shape == (4,) and wrapped.action_space.shape == (3,)
  assert wrapped.num_envs == 4 and wrapped.unwrapped is env
  obs, _ = wrapped.reset()
  # Group offsets are 0 (actor), 100 (critic), 200 (amp); env i adds i / 10.
  torch.testing.assert_close(obs[:, 0], torch.tensor([0.0, 0.1, 0.2, 0.3]))
  torch.testing.assert_close(wrapped.state()[:, 0], torch.tensor([100.0, 100.1, 100.2, 100.3]))
  obs, reward, terminated, truncated, infos = wrapped.step(torch.zeros(4, 3))
  assert obs.shape == (4, 5) and wrapped.state().shape == (4, 7) and infos["amp_obs"].shape == (4, 4)
  assert reward.shape == terminated.shape == truncated.shape == (4, 1)
  assert terminated.dtype == truncated.dtype == torch.bool
  torch.testing.assert_close(obs[:, 0], torch.tensor([1.0, 1.1, 1.2, 1.3]))  # after the step
  torch.testing.assert_close(infos["amp_obs"][:, 0], torch.tensor([201.0, 201.1, 201.2, 201.3]))
  torch.testing.assert_close(wrapped.state()[:, 0], torch.tensor([101.0, 101.1, 101.2, 101.3]))


def test_time_outs_are_truncations_and_the_log_is_passed_on(fake_mjlab_env):
  wrapped = SkrlVecEnvWrapper(fake_mjlab_env(num_envs=2))
  wrapped.step(torch.zeros(2, 3))
  _, _, terminated, truncated, infos = wrapped.step(torch.zeros(2, 3))
  assert truncated[:, 0].tolist() == [True, False] and not terminated.any()
  assert float(infos["log"]["Episode_Reward/alive"]) == 0.5
  assert "amp_obs" not in infos


def test_finite_horizon_time_outs_are_terminations(fake_mjlab_env):
  wrapped = SkrlVecEnvWrapper(fake_mjlab_env(num_envs=2, finite_horizon=True))
  wrapped.step(torch.zeros(2, 3))
  _, _, terminated, truncated, _ = wrapped.step(torch.zeros(2, 3))
  assert terminated[:, 0].tolist() == [True, False] and not truncated.any()


def test_clip_actions_clamps_before_the_env(fake_mjlab_env):
  env = fake_mjlab_env(num_envs=2)
  wrapped = SkrlVecEnvWrapper(env, clip_actions=0.5)
  assert wrapped.action_space.high.tolist() == [0.5] * 3
  wrapped.step(torch.tensor([[2.0, -3.0, 0.25], [0.0, 0.6, -0.6]]))
  torch.testing.assert_close(env.received[0], torch.tensor([[0.5, -0.5, 0.25], [0.0, 0.5, -0.5]]))


def test_unknown_group_names_the_groups(fake_mjlab_env):
  with pytest.raises(KeyError, match=r"no observation group 'policy'.*'actor', 'amp', 'critic'"):
    group_size(fake_mjlab_env(), "policy")


def test_random_episode_lengths_stay_below_the_episode_length(fake_mjlab_env):
  env = fake_mjlab_env(num_envs=64)
  SkrlVecEnvWrapper(env).randomize_episode_lengths()
  assert int(env.episode_length_buf.min()) >= 0 and int(env.episode_length_buf.max()) < 100
  assert len(set(env.episode_length_buf.tolist())) > 10


def test_real_amp_task_groups_and_expert_windows():
  """On Amp-Flat-G1: the wrapper hands skrl the env's actor/critic/amp groups unchanged."""
  from legged_robots.tasks.registry import make_env

  with contextlib.redirect_stdout(io.StringIO()):
    env = make_env("Amp-Flat-G1", num_envs=2)
  try:
    wrapped = SkrlVecEnvWrapper(env, amp_group="amp")
    dims = env.observation_manager.group_obs_dim
    assert wrapped.observation_space.shape == dims["actor"] and wrapped.state_space.shape == dims["critic"]
    seen = {}
    step = env.step

    def spy(actions):
      seen["obs"] = (out := step(actions))[0]
      return out

    env.step = spy
    obs, reward, *_, infos = wrapped.step(torch.zeros(2, env.action_manager.total_action_dim))
    assert obs is seen["obs"]["actor"] and wrapped.state() is seen["obs"]["critic"]
    assert infos["amp_obs"] is seen["obs"]["amp"] and reward.shape == (2, 1)
    expert = wrapped.collect_reference_motions(16)
    assert expert.shape == (16, dims["amp"][0]) and bool(torch.isfinite(expert).all())
  finally:
    env.close()
