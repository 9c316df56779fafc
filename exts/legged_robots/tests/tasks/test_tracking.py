"""Whole-body tracking: failure-adaptive start sampling by hand, the link and root-quaternion
rewards on fake data by hand, the clip placed on the env origin (root offset), root errors
and the end of the clip."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from mjlab.managers.reward_manager import RewardTermCfg

from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.env import StGymRlEnv
from legged_robots.tasks.mdp import mimic
from legged_robots.tasks.mdp.motion_command import MotionCommand
from legged_robots.tasks.mdp.motion_sampling import FailureAdaptiveSampler
from refmotion_manager import MotionClip, data_path

CLIP = data_path() / "g1_dance.npz"  # 50 fps, 4 s


def test_failures_pull_the_start_bins():
  sampler = FailureAdaptiveSampler(torch.tensor([2.0, 1.0]), bin_s=1.0, alpha=0.8, decay=1.0)
  assert sampler.num_bins.tolist() == [2, 1]
  torch.testing.assert_close(sampler.probabilities(), torch.tensor([[0.5, 0.5], [1.0, 0.0]]))
  # Two failures at 1.5 s of clip 0, one time-out at 0.2 s (not a failure), one at clip 1.
  sampler.record(
    torch.tensor([0, 0, 0, 1]), torch.tensor([1.5, 1.7, 0.2, 0.4]), torch.tensor([1, 1, 0, 0]).bool()
  )
  torch.testing.assert_close(sampler.counts, torch.tensor([[0.0, 2.0], [0.0, 0.0]]))
  # clip 0: 0.2 x uniform (0.5, 0.5) + 0.8 x (0, 1) = (0.1, 0.9); clip 1 keeps uniform.
  torch.testing.assert_close(sampler.probabilities(), torch.tensor([[0.1, 0.9], [1.0, 0.0]]))
  torch.manual_seed(0)
  times = sampler.sample_times(torch.zeros(20000, dtype=torch.long))
  assert 0.88 < (times >= 1.0).float().mean().item() < 0.92
  assert times.min() >= 0.0 and times.max() <= 2.0
  decaying = FailureAdaptiveSampler(torch.tensor([2.0]), bin_s=1.0, decay=0.5)
  decaying.record(torch.tensor([0]), torch.tensor([1.2]), torch.tensor([True]))
  decaying.record(torch.tensor([0]), torch.tensor([0.1]), torch.tensor([True]))
  torch.testing.assert_close(decaying.counts, torch.tensor([[1.0, 0.5]]))  # (0 + 1), (1 x 0.5)
  with pytest.raises(ValueError, match="alpha"):
    FailureAdaptiveSampler(torch.tensor([1.0]), alpha=1.5)


H = math.sqrt(0.5)  # a 90 deg yaw: (H, 0, 0, H); its heading frame has world y as x, world -x as y


def _fake_motion_env():
  """Two envs, two links (robot order pelvis, hand; the library serves hand, pelvis).

  env 0: the robot turned 90 deg at (1, 2, 0.8), the reference unturned at the origin;
  env 1: robot and reference identical.
  """
  motion = MotionCommand.__new__(MotionCommand)  # the state the terms read, without a sim
  data = SimpleNamespace(
    root_link_pos_w=torch.tensor([[1.0, 2.0, 0.8], [0.0, 0.0, 0.8]]),
    root_link_quat_w=torch.tensor([[H, 0.0, 0.0, H], [1.0, 0.0, 0.0, 0.0]]),
    body_link_pos_w=torch.tensor([[[1.0, 2.0, 0.8], [1.0, 2.5, 1.0]], [[0.0, 0.0, 0.8], [0.3, 0.2, 1.0]]]),
    body_link_lin_vel_w=torch.tensor([[[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [[0.0] * 3, [0.2, 0.0, 0.0]]]),
  )
  data.joint_pos = torch.zeros(2, 1)
  motion.asset = SimpleNamespace(body_names=("pelvis", "hand"), joint_names=("elbow",), data=data)
  motion.library = SimpleNamespace(body_names=("hand", "pelvis"))
  motion.joint_ids = [0]
  motion.root_offset = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])  # env 0's clip placed at (1, 2)
  motion.reference = {
    "root_pos": torch.tensor([[0.0, 0.0, 0.8], [0.0, 0.0, 0.8]]),
    "root_quat": torch.tensor([[-1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]),  # -q: the same orientation
    "body_pos_w": torch.tensor([[[0.5, 0.1, 0.9], [0.0, 0.0, 0.7]], [[0.3, 0.2, 1.0], [0.0, 0.0, 0.8]]]),
    "body_lin_vel_w": torch.tensor([[[1.0, 0.0, 0.0], [0.0] * 3], [[0.2, 0.0, 0.0], [0.0] * 3]]),
    "joint_pos": torch.zeros(2, 1),
  }
  command_manager = SimpleNamespace(get_term=lambda name: motion)
  return SimpleNamespace(num_envs=2, device="cpu", command_manager=command_manager)


def _term(func, env, **params):
  return func(RewardTermCfg(func=func, weight=1.0, params=params), env), params


def test_link_rewards_compare_links_in_each_roots_heading_frame():
  env = _fake_motion_env()
  bodies = ("pelvis", "hand")
  pos, p = _term(mimic.track_link_exp, env, command_name="m", body_names=bodies, field="pos", sigma=0.1)
  # env 0, heading frames (x, y relative to the root, z the height): robot hand (0.5, 0, 1.0),
  # reference hand (0.5, 0.1, 0.9): 0.02 m^2; pelvis (0, 0, 0.8) vs (0, 0, 0.7): 0.01 m^2.
  expected = torch.tensor([math.exp(-0.015 / 0.1), 1.0])
  torch.testing.assert_close(pos(env, **p), expected)
  params = {"command_name": "m", "body_names": bodies, "field": "vel", "sigma": 1.0}
  vel, p = _term(mimic.track_link_exp, env, **params, sigma_range=(0.1, 2.0))
  # env 0: robot pelvis (-1, 0, 0) world is (0, 1, 0) in its heading frame against 0: 1 (m/s)^2;
  # the hand (0, 1, 0) world is (1, 0, 0), as the reference's: 0. mse 0.5.
  torch.testing.assert_close(vel(env, **p), torch.tensor([math.exp(-0.5), 1.0]))
  sigma = torch.tensor([0.95 + 0.075 * 0.5, 0.95])  # adapted after the first evaluation
  torch.testing.assert_close(vel(env, **p), torch.exp(-torch.tensor([0.5, 0.0]) / sigma))


def test_root_quat_reward_takes_q_and_minus_q_as_one_orientation():
  env = _fake_motion_env()
  term, p = _term(mimic.track_root_quat_exp, env, command_name="m", sigma=0.1, sigma_range=(0.05, 0.2))
  # env 0: (H, 0, 0, H) against -(-1, 0, 0, 0): ((H - 1)^2 + H^2) / 4 = (2 - 2H) / 4.
  mse = (2.0 - 2.0 * H) / 4.0
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-mse / 0.1), 1.0]))
  sigma = min(0.95 * 0.1 + 0.075 * mse, 0.2)
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-mse / sigma), 1.0]))


def test_a_link_the_library_does_not_serve_names_the_fix():
  env = _fake_motion_env()
  with pytest.raises(ValueError, match=r"bodies \['foot'\] are not served.*env\.motion\.body_names"):
    _term(mimic.track_link_exp, env, command_name="m", body_names=("hand", "foot"), sigma=0.1)


def test_play_metrics_measure_link_distances_in_the_world_and_from_the_root():
  from legged_robots.evaluation.mimic_metrics import MimicMetrics

  env = _fake_motion_env()
  metrics = MimicMetrics(env.command_manager.get_term("m"))
  metrics.step(metrics.target(), torch.tensor([False, False]))
  summary = metrics.summary(fall_rate=0.0)
  # env 0, world: pelvis (1, 2, 0.8) vs (0, 0, 0.7) + (1, 2, 0): 0.1 m; hand (1, 2.5, 1.0) vs
  # (1.5, 2.1, 0.9): sqrt(0.42) m. From the root: hand 0.1 sqrt(2) m, pelvis 0.1 m. env 1: 0.
  assert summary["link_pos_error_world_m"] == pytest.approx((0.1 + math.sqrt(0.42)) / 4, abs=1e-6)
  assert summary["link_pos_error_root_m"] == pytest.approx((0.1 + 0.1 * math.sqrt(2)) / 4, abs=1e-6)
  assert summary["tracked_links"] == ["hand", "pelvis"]


@pytest.mark.slow
def test_the_clip_starts_on_the_env_origin_and_ends_as_a_time_out():
  cfg = load_env_cfg("Tracking-Flat-G1")
  cfg.scene.num_envs = 2
  cfg.motion.files = [str(CLIP)]
  cfg.commands["motion"].random_start = False
  cfg.commands["motion"].adaptive_sampling = False
  env = StGymRlEnv(cfg, device="cpu")
  try:
    env.reset()
    motion = env.command_manager.get_term("motion")
    clip = MotionClip.load(CLIP)
    origin = env.scene.env_origins
    root = env.scene["robot"].data.root_link_pos_w
    # The start frame (0) is on the origin: x, y at the origin, z the clip's.
    torch.testing.assert_close(root[:, :2], origin[:, :2], atol=1e-5, rtol=0)
    torch.testing.assert_close(root[:, 2], origin[:, 2] + float(clip.root_pos[0, 2]), atol=1e-5, rtol=0)
    # The reference (frame 1) moved with the clip from there.
    moved = torch.tensor(
      clip.root_pos[1] - [clip.root_pos[0, 0], clip.root_pos[0, 1], 0.0], dtype=torch.float32
    )
    torch.testing.assert_close(motion.reference_root_pos_w, origin + moved, atol=1e-5, rtol=0)
    # Root errors: frame 0 against frame 1 of the clip, by hand.
    d = torch.tensor(clip.root_pos[1] - clip.root_pos[0], dtype=torch.float32)
    expected = math.exp(-float(d.pow(2).sum()) / 0.3**2)
    assert torch.allclose(mimic.track_root_pos_exp(env, "motion", 0.3), torch.full((2,), expected), atol=1e-5)
    assert not mimic.motion_ended(env, "motion").any()
    motion.time[:] = 4.0 + 0.02
    assert mimic.motion_ended(env, "motion").all()
    assert cfg.terminations["motion_ended"].time_out
  finally:
    env.close()


@pytest.mark.slow
def test_play_video_shows_the_reference_as_an_orange_robot_where_the_clip_is(tmp_path):
  import numpy as np

  from legged_robots.evaluation.mimic_metrics import MimicMetrics
  from legged_robots.evaluation.reference_video import ReferenceGhost
  from legged_robots.rl.contract_builder import robot_mjcf
  from legged_robots.rl.video import render_frame

  cfg = load_env_cfg("Tracking-Flat-G1-Play")
  cfg.scene.num_envs = 1
  env = StGymRlEnv(cfg, device="cpu", render_mode="rgb_array")
  try:
    env.reset()
    (tmp_path / "robot.xml").write_text(robot_mjcf(env, "robot"))
    motion = env.command_manager.get_term("motion")
    ghost = ReferenceGhost(motion, tmp_path / "robot.xml")
    for _ in range(20):  # zero actions: the robot sags while the clip dances on
      target = MimicMetrics(motion).target()
      env.step(torch.zeros(1, env.action_manager.total_action_dim))
    qpos = ghost.qpos(target)
    np.testing.assert_allclose(qpos[:3], target["root_pos"][0].numpy(), atol=1e-6)  # on the clip
    plain, shown = render_frame(env), render_frame(env, ghost.drawer(target))
    orange = lambda f: int((f[..., 0].astype(int) - f[..., 2].astype(int) > 60).sum())  # noqa: E731
    assert orange(plain) == 0 and orange(shown) > 200
  finally:
    env.close()
