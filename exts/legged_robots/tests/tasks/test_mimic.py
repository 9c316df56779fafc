"""Mimic: the motion command's frame indices across steps and resets (hand-computed), the
joint-tracking rewards with adaptive sigma, the adaptive termination threshold, the goal
table a deployment replays, and bad joint groups."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.termination_manager import TerminationTermCfg

from legged_robots.deploy.motion_goals import goal_at
from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.env import StGymRlEnv
from legged_robots.tasks.mdp.mimic import UPPER_JOINTS, track_joint_exp, tracking_error_adaptive_termination
from legged_robots.tasks.motion import MotionDataCfg
from refmotion_manager import MotionClip, data_path

CLIP = data_path() / "g1_arm_wave.npz"  # 50 fps: clip time k * 0.02 s is frame k
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env():
  cfg = load_env_cfg("Mimic-Flat-G1")
  cfg.scene.num_envs = 2
  cfg.motion = MotionDataCfg(files=[str(CLIP)])
  cfg.commands["motion"].random_start = False
  cfg.events.pop("push_robot")
  env = StGymRlEnv(cfg, device="cpu")
  env.reset()
  yield env
  env.close()


@pytest.fixture(scope="module")
def clip():
  return MotionClip.load(CLIP)


def _upper(env) -> list[int]:
  return env.command_manager.get_term("motion").joint_ids


def _frame(env, clip, k: int) -> torch.Tensor:
  """Clip frame k's mimicked joint positions, looked up by name in the file itself."""
  names = [env.scene["robot"].joint_names[i] for i in _upper(env)]
  cols = [clip.joint_names.index(n) for n in names]
  return torch.tensor(clip.joint_pos[k, cols], dtype=torch.float32)


def test_frames_advance_one_per_step_and_restart_after_a_reset(env, clip):
  motion = env.command_manager.get_term("motion")
  ids = _upper(env)
  frame = lambda e: motion.reference["joint_pos"][e, ids]  # noqa: E731
  default = env.scene["robot"].data.default_joint_pos[0, ids]
  # After reset (start at clip time 0) the observation already shows frame 1.
  torch.testing.assert_close(frame(0), _frame(env, clip, 1), atol=1e-5, rtol=0)
  torch.testing.assert_close(env.observation_manager.compute()["actor"][0, -2 * len(ids) : -len(ids)],
                             _frame(env, clip, 1) - default, atol=1e-5, rtol=0)  # fmt: skip
  action = torch.zeros(2, env.action_manager.total_action_dim)
  env.step(action)
  env.step(action)
  for e in (0, 1):
    torch.testing.assert_close(frame(e), _frame(env, clip, 3), atol=1e-5, rtol=0)
  # Env 0 times out in the next step: its new episode shows frame 1 right away (no stale
  # frame of the old episode, no lag); env 1 goes on to frame 4.
  env.episode_length_buf[0] = env.max_episode_length - 1
  env.step(action)
  torch.testing.assert_close(frame(0), _frame(env, clip, 1), atol=1e-5, rtol=0)
  torch.testing.assert_close(frame(1), _frame(env, clip, 4), atol=1e-5, rtol=0)
  # The reset wrote the start frame (frame 0) into env 0's mimicked joints.
  assert motion.time[0].item() == pytest.approx(0.02) and motion.time[1].item() == pytest.approx(0.08)


def _set_upper_error(env, offset: float) -> None:
  """Put every mimicked joint ``offset`` rad away from the current reference frame."""
  robot, ids = env.scene["robot"], _upper(env)
  pos = robot.data.joint_pos.clone()
  pos[:, ids] = env.command_manager.get_term("motion").reference["joint_pos"][:, ids] + offset
  robot.write_joint_state_to_sim(pos, robot.data.joint_vel.clone())


def test_tracking_reward_and_adaptive_sigma(env):
  params = {"command_name": "motion", "joint_names": UPPER_JOINTS, "field": "joint_pos", "sigma": 0.25}
  fixed = track_joint_exp(RewardTermCfg(func=track_joint_exp, weight=1.0, params=params), env)
  adaptive_params = {**params, "sigma_range": (0.02, 0.5)}
  adaptive = track_joint_exp(RewardTermCfg(func=track_joint_exp, weight=1.0, params=adaptive_params), env)
  _set_upper_error(env, 0.0)
  assert torch.allclose(fixed(env, **params), torch.ones(2))
  _set_upper_error(env, 0.1)  # mse = 0.01 rad^2
  expected = math.exp(-0.01 / 0.25)
  assert torch.allclose(fixed(env, **params), torch.full((2,), expected), atol=1e-6)
  assert torch.allclose(fixed(env, **params), torch.full((2,), expected), atol=1e-6)  # fixed stays
  assert torch.allclose(adaptive(env, **adaptive_params), torch.full((2,), expected), atol=1e-6)
  sigma = 0.95 * 0.25 + 0.075 * 0.01  # 0.23825 after the first evaluation
  second = adaptive(env, **adaptive_params)
  assert torch.allclose(second, torch.full((2,), math.exp(-0.01 / sigma)), atol=1e-6)
  for _ in range(200):  # sigma -> 0.075 mse / 0.05 = 0.015, clamped at the term's own min 0.02
    adaptive(env, **adaptive_params)
  assert torch.allclose(adaptive(env, **adaptive_params), torch.full((2,), math.exp(-0.01 / 0.02)), atol=1e-5)


@pytest.mark.parametrize(
  ("offset", "fires"),
  [(0.8, (False, False, True)), (0.5, (False, False, True)), (0.3, (False, False, False))],
)
def test_termination_threshold_falls_from_max_to_min_over_the_episode(env, offset, fires):
  params = {"command_name": "motion", "joint_names": UPPER_JOINTS, "min_error": 0.447, "max_error": 1.225}
  term = tracking_error_adaptive_termination(
    TerminationTermCfg(func=tracking_error_adaptive_termination, params=params), env
  )
  _set_upper_error(env, offset)  # RMS error = offset
  horizon = env.max_episode_length
  # Thresholds at t = 0, T/2, T: 1.225, 0.836, 0.447 rad.
  for steps, expected in zip((0, horizon // 2, horizon), fires, strict=True):
    env.episode_length_buf[:] = steps
    assert term(env, **params).tolist() == [expected, expected], (steps, offset)


def test_goal_table_is_the_clip_from_time_zero_and_replays_like_training(env, clip):
  motion = env.command_manager.get_term("motion")
  table = motion.goal_table(5).numpy()
  default = env.scene["robot"].data.default_joint_pos[0, _upper(env)]
  n = len(_upper(env))
  for k in range(6):
    np.testing.assert_allclose(table[k, :n], (_frame(env, clip, k) - default).numpy(), atol=1e-5)
  # Deployment shows row k + 1 at control step k, as training shows frame t0 + (k + 1) dt.
  np.testing.assert_array_equal(goal_at(table, 0), table[1])
  np.testing.assert_array_equal(goal_at(table, 5), table[0])


def test_a_group_matching_no_joint_names_the_patterns(env):
  params = {"command_name": "motion", "joint_names": ("toe_.*",), "field": "joint_pos", "sigma": 0.25}
  with pytest.raises(
    ValueError, match=r"track_joint_exp: joint patterns \['toe_\.\*'\] match no joint.*left_hip"
  ):
    track_joint_exp(RewardTermCfg(func=track_joint_exp, weight=1.0, params=params), env)
  params = {"command_name": "base_velocity", "joint_names": UPPER_JOINTS, "min_error": 0.4, "max_error": 1.0}
  with pytest.raises(ValueError, match="not a MotionCommand"):
    tracking_error_adaptive_termination(
      TerminationTermCfg(func=tracking_error_adaptive_termination, params=params), env
    )


def test_play_metrics_measure_against_the_frame_the_action_aimed_at(env):
  from legged_robots.evaluation.mimic_metrics import MimicMetrics

  motion = env.command_manager.get_term("motion")
  metrics = MimicMetrics(motion, plot_joints=2, plot_steps=10)
  reference = metrics.target()
  target = reference["joint_pos"]
  robot, ids = env.scene["robot"], _upper(env)
  pos = target + 0.2  # every joint 0.2 rad off, the mimicked ones 0.1
  pos[:, ids] = target[:, ids] + 0.1
  robot.write_joint_state_to_sim(pos, robot.data.joint_vel.clone())
  motion.reference = {k: v + 1.0 for k, v in motion.reference.items()}  # the next frame: not used
  metrics.step(reference, torch.tensor([False, True]))  # env 1's step ended its episode: left out
  summary = metrics.summary(fall_rate=0.25)
  assert summary["success_rate"] == 0.75
  assert summary["mimicked_joint_pos_error_rad"] == pytest.approx(0.1, abs=1e-5)
  assert summary["other_joint_pos_error_rad"] == pytest.approx(0.2, abs=1e-5)
  assert "link_pos_error_world_m" not in summary  # the mimic library serves no links
  env.reset()  # leave the shared env consistent for later tests


def test_velocity_command_adds_the_clip_base_velocity(env):
  from dataclasses import replace

  base = env.command_manager.get_term("base_velocity")
  assert base.cfg.motion_command is None  # off by default: the mimic tasks' command is unchanged
  torch.testing.assert_close(base.command, base.vel_command_b)
  term = replace(base.cfg, motion_command="motion").build(env)
  motion = env.command_manager.get_term("motion")
  saved = motion.reference
  half = math.sqrt(0.5)  # the clip root turned 90 deg left (yaw): world x is its -y, world y its x
  motion.reference = {
    **saved,
    "root_quat": torch.tensor([[half, 0.0, 0.0, half]] * 2),
    "root_lin_vel_w": torch.tensor([[1.0, 2.0, 0.3], [0.0, -0.5, 0.0]]),
    "root_ang_vel_w": torch.tensor([[0.0, 0.0, 0.4], [0.0, 0.0, -0.2]]),
  }
  try:
    term.vel_command_b[:] = torch.tensor([[0.1, 0.0, -0.05], [0.0, 0.0, 0.0]])
    # env 0: clip (vx, vy, wz) in its frame = (2.0, -1.0, 0.4), plus the sampled offset.
    expected = torch.tensor([[2.1, -1.0, 0.35], [-0.5, 0.0, -0.2]])
    torch.testing.assert_close(term.command, expected)
    torch.testing.assert_close(term.vel_command_b, torch.tensor([[0.1, 0.0, -0.05], [0.0, 0.0, 0.0]]))
    bad = replace(base.cfg, motion_command="base_velocity").build(env)
    with pytest.raises(ValueError, match=r"'base_velocity' is not a MotionCommand.*'motion'"):
      _ = bad.command
  finally:
    motion.reference = saved
