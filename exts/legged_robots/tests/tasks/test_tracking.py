"""Whole-body tracking: failure-adaptive start sampling by hand, the link (position, velocity,
orientation, angular velocity) and root-quaternion rewards and the end-effector height
termination on fake data by hand, then in the sim with the robot put on the reference
frame and one joint turned by a known angle; the clip placed on the env origin (root
offset), root errors and the end of the clip."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.termination_manager import TerminationTermCfg
from mjlab.utils.lab_api.math import quat_error_magnitude

from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.config.g1.tracking_env_cfgs import EE_LINKS, TRACKED_LINKS
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


def _rot_x(angle: float) -> list[float]:
  return [math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0]


def _fake_motion_env():
  """Two envs, two links (robot order pelvis, hand; the library serves hand, pelvis).

  env 0: the robot turned 90 deg at (1, 2, 0.8), the reference unturned (as -q) at the
  origin; env 1: robot and reference identical.
  """
  motion = MotionCommand.__new__(MotionCommand)  # the state the terms read, without a sim
  # env 0's hand: yaw 90 deg x rot_x(0.6) = (H cos 0.3, H sin 0.3, H sin 0.3, H cos 0.3).
  yaw90_rot_x = [H * c for c in (math.cos(0.3), math.sin(0.3), math.sin(0.3), math.cos(0.3))]
  data = SimpleNamespace(
    root_link_pos_w=torch.tensor([[1.0, 2.0, 0.8], [0.0, 0.0, 0.8]]),
    root_link_quat_w=torch.tensor([[H, 0.0, 0.0, H], [1.0, 0.0, 0.0, 0.0]]),
    body_link_pos_w=torch.tensor([[[1.0, 2.0, 0.8], [1.0, 2.5, 1.0]], [[0.0, 0.0, 0.8], [0.3, 0.2, 1.0]]]),
    body_link_lin_vel_w=torch.tensor([[[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [[0.0] * 3, [0.2, 0.0, 0.0]]]),
    body_link_quat_w=torch.tensor([[[H, 0.0, 0.0, H], yaw90_rot_x], [[1.0, 0.0, 0.0, 0.0], _rot_x(0.5)]]),
    body_link_ang_vel_w=torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [[0.0] * 3, [0.0, 3.0, 0.0]]]),
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
    "body_quat_w": torch.tensor(
      [[[-c for c in _rot_x(-0.2)], [1.0, 0.0, 0.0, 0.0]], [_rot_x(0.5), [1.0, 0.0, 0.0, 0.0]]]
    ),  # env 0's hand as -q
    "body_ang_vel_w": torch.tensor([[[0.0, -1.0, 2.0], [0.0, 0.0, 1.0]], [[0.0, 3.0, 0.0], [0.0] * 3]]),
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


def _termination(env, **params):
  cfg = TerminationTermCfg(func=mimic.link_height_error_above, params=params)
  return mimic.link_height_error_above(cfg, env), params


def test_link_orientation_error_is_the_angle_between_heading_frame_orientations():
  env = _fake_motion_env()
  params = {"command_name": "m", "body_names": ("pelvis", "hand"), "field": "quat", "sigma": 0.5}
  term, p = _term(mimic.track_link_exp, env, **params)
  # env 0: the pelvis is turned 90 deg about z in the world, 0 in its root's heading frame;
  # the hand is rot_x(0.6) against rot_x(-0.2) (given as -q): 0.8 rad. mse (0 + 0.64) / 2.
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-0.32 / 0.5), 1.0]))


def test_link_angular_velocity_error_in_each_roots_heading_frame():
  env = _fake_motion_env()
  params = {"command_name": "m", "body_names": ("pelvis", "hand"), "field": "ang_vel", "sigma": 2.0}
  term, p = _term(mimic.track_link_exp, env, **params, sigma_range=(1.0, 4.0))
  # env 0: the pelvis (0, 0, 1) in both frames: 0. The hand (1, 0, 0) world is (0, -1, 0) in
  # the robot's heading frame, against (0, -1, 2): 4 (rad/s)^2 (in world axes it would be 6). mse 2.
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-2.0 / 2.0), 1.0]))
  sigma = torch.tensor([0.95 * 2.0 + 0.075 * 2.0, 0.95 * 2.0])  # adapted after the first call
  torch.testing.assert_close(term(env, **p), torch.exp(-torch.tensor([2.0, 0.0]) / sigma))


def test_link_height_termination_fires_past_the_threshold_m():
  env = _fake_motion_env()
  # env 0: the hand is 1.0 m high against 0.9 m, the pelvis 0.8 against 0.7: 0.1 m each.
  below, p = _termination(env, command_name="m", body_names=("hand",), threshold=0.099)
  assert below(env, **p).tolist() == [True, False]
  above, p = _termination(env, command_name="m", body_names=("hand", "pelvis"), threshold=0.101)
  assert above(env, **p).tolist() == [False, False]
  with pytest.raises(ValueError, match=r"bodies \['foot'\] are not served"):
    _termination(env, command_name="m", body_names=("foot",), threshold=0.25)


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


@pytest.fixture(scope="module")
def env():
  cfg = load_env_cfg("Tracking-Flat-G1")
  cfg.scene.num_envs = 1
  cfg.commands["motion"].random_start = False
  cfg.commands["motion"].adaptive_sampling = False
  cfg.events.pop("push_robot")
  env = StGymRlEnv(cfg, device="cpu")
  env.reset()
  yield env
  env.close()


def _put_on_reference(env, joint: str | None = None, pos: float = 0.0, vel: float = 0.0, dz: float = 0.0):
  """Write the reference frame into the sim (root raised by ``dz`` m), ``joint`` offset by
  ``pos`` rad and ``vel`` rad/s, and run forward kinematics."""
  motion = env.command_manager.get_term("motion")
  robot, ref = env.scene["robot"], motion.reference
  root_pos = motion.reference_root_pos_w + torch.tensor([0.0, 0.0, dz])
  robot.write_root_link_pose_to_sim(torch.cat([root_pos, ref["root_quat"]], dim=1))
  robot.write_root_link_velocity_to_sim(torch.cat([ref["root_lin_vel_w"], ref["root_ang_vel_w"]], dim=1))
  joint_pos, joint_vel = ref["joint_pos"].clone(), ref["joint_vel"].clone()
  if joint is not None:
    joint_pos[:, robot.joint_names.index(joint)] += pos
    joint_vel[:, robot.joint_names.index(joint)] += vel
  robot.write_joint_state_to_sim(joint_pos, joint_vel)
  env.sim.forward()
  return motion


def _link_angles(env) -> torch.Tensor:
  """(num_envs, links) angle (rad) between each tracked link and its reference."""
  motion = env.command_manager.get_term("motion")
  ids, cols = mimic.resolve_links(motion, TRACKED_LINKS, "test")
  robot, reference = mimic.link_states(motion, ids, cols, "quat")
  return quat_error_magnitude(robot, reference)


@pytest.mark.slow
def test_turning_the_elbow_turns_the_elbow_and_wrist_links_by_that_angle(env):
  params = {"command_name": "motion", "body_names": TRACKED_LINKS, "field": "quat", "sigma": 0.16}
  term, p = _term(mimic.track_link_exp, env, **params)
  _put_on_reference(env)  # the robot's own FK against the library's FK of the same frame
  assert _link_angles(env).abs().max().item() < 1e-4
  torch.testing.assert_close(term(env, **p), torch.ones(1), atol=1e-6, rtol=0)
  _put_on_reference(env, "left_elbow_joint", pos=0.3)
  angles = dict(zip(TRACKED_LINKS, _link_angles(env)[0].tolist(), strict=True))
  # The elbow link and the wrist-yaw link below it turn by 0.3 rad; no other tracked link.
  for link, angle in angles.items():
    expected = 0.3 if link in ("left_elbow_link", "left_wrist_yaw_link") else 0.0
    assert angle == pytest.approx(expected, abs=1e-4), link
  expected_reward = math.exp(-2 * 0.3**2 / len(TRACKED_LINKS) / 0.16)
  torch.testing.assert_close(term(env, **p), torch.tensor([expected_reward]), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_a_wrist_yaw_rate_shows_only_in_the_wrist_links_angular_velocity(env):
  motion = _put_on_reference(env)
  ids, cols = mimic.resolve_links(motion, TRACKED_LINKS, "test")
  still = mimic.link_states(motion, ids, cols, "ang_vel")[0].clone()
  _put_on_reference(env, "left_wrist_yaw_joint", vel=2.0)
  moved = mimic.link_states(motion, ids, cols, "ang_vel")[0]
  change = (moved - still).norm(dim=-1)[0]
  wrist = TRACKED_LINKS.index("left_wrist_yaw_link")
  assert change[wrist].item() == pytest.approx(2.0, abs=1e-4)  # 2 rad/s about the joint's axis
  assert change[torch.arange(len(TRACKED_LINKS)) != wrist].max().item() < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize(
  ("dz", "fires"), [(0.0, False), (0.24, False), (-0.24, False), (0.26, True), (-0.26, True)]
)
def test_end_effector_termination_fires_when_the_height_error_crosses_0_25_m(env, dz, fires):
  cfg = env.cfg.terminations["ee_link_height_error"]
  assert cfg.params["body_names"] == EE_LINKS and cfg.params["threshold"] == 0.25
  term, p = _termination(env, **cfg.params)
  _put_on_reference(env, dz=dz)  # every link moves dz up with the root
  assert term(env, **p).tolist() == [fires]


def test_tracking_task_has_beyondmimics_link_terms():
  cfg = load_env_cfg("Tracking-Flat-G1")
  for field, std in (("pos", 0.3), ("quat", 0.4), ("vel", 1.0), ("ang_vel", 3.14)):
    term = cfg.rewards[f"track_link_{field}_exp"]
    assert term.weight == 1.0 and term.params["field"] == field
    assert term.params["sigma"] == pytest.approx(std**2, rel=1e-3)
    assert term.params["body_names"] == TRACKED_LINKS
  assert "ee_link_height_error" in load_env_cfg("Tracking-Flat-G1-Play").terminations
