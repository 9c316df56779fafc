"""Whole-body tracking, BeyondMimic's link orientation and angular-velocity rewards and its
end-effector height termination: by hand on fake data, then in the sim with the robot put
on the reference frame and one joint turned by a known angle."""

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

H = math.sqrt(0.5)  # a 90 deg yaw: (H, 0, 0, H); its heading frame has world y as x, world -x as y


def _rot_x(angle: float) -> list[float]:
  return [math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0]


def _fake_env():
  """Two envs, two links (robot order pelvis, hand; the library serves hand, pelvis).

  env 0: the robot's root turned 90 deg about z at (1, 2, 0.8), the reference's unturned
  (as -q) at the origin; env 1: robot and reference identical.
  """
  motion = MotionCommand.__new__(MotionCommand)  # the state the terms read, without a sim
  yaw90_rot_x = [H * c for c in (math.cos(0.3), math.sin(0.3), math.sin(0.3), math.cos(0.3))]
  data = SimpleNamespace(
    root_link_pos_w=torch.tensor([[1.0, 2.0, 0.8], [0.0, 0.0, 0.8]]),
    root_link_quat_w=torch.tensor([[H, 0.0, 0.0, H], [1.0, 0.0, 0.0, 0.0]]),
    body_link_pos_w=torch.tensor([[[1.0, 2.0, 0.8], [1.0, 2.5, 1.0]], [[0.0, 0.0, 0.8], [0.3, 0.2, 1.0]]]),
    # env 0: pelvis = the root; hand = yaw 90 deg x rot_x(0.6) (computed: w = H cos 0.3,
    # x = H sin 0.3, y = H sin 0.3, z = H cos 0.3).
    body_link_quat_w=torch.tensor([[[H, 0.0, 0.0, H], yaw90_rot_x], [[1.0, 0.0, 0.0, 0.0], _rot_x(0.5)]]),
    body_link_ang_vel_w=torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [[0.0] * 3, [0.0, 3.0, 0.0]]]),
  )
  motion.asset = SimpleNamespace(body_names=("pelvis", "hand"), data=data)
  motion.library = SimpleNamespace(body_names=("hand", "pelvis"))
  minus_rot_x = [-c for c in _rot_x(-0.2)]  # the hand's reference as -q
  motion.reference = {
    "root_pos": torch.tensor([[0.0, 0.0, 0.8], [0.0, 0.0, 0.8]]),
    "root_quat": torch.tensor([[-1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]),
    "body_pos_w": torch.tensor([[[0.5, 0.1, 0.9], [0.0, 0.0, 0.7]], [[0.3, 0.2, 1.0], [0.0, 0.0, 0.8]]]),
    "body_quat_w": torch.tensor([[minus_rot_x, [1.0, 0.0, 0.0, 0.0]], [_rot_x(0.5), [1.0, 0.0, 0.0, 0.0]]]),
    "body_ang_vel_w": torch.tensor([[[0.0, -1.0, 2.0], [0.0, 0.0, 1.0]], [[0.0, 3.0, 0.0], [0.0] * 3]]),
  }
  command_manager = SimpleNamespace(get_term=lambda name: motion)
  return SimpleNamespace(num_envs=2, device="cpu", command_manager=command_manager)


def _reward(env, **params):
  cfg = RewardTermCfg(func=mimic.track_link_exp, weight=1.0, params=params)
  return mimic.track_link_exp(cfg, env), params


def _termination(env, **params):
  cfg = TerminationTermCfg(func=mimic.link_height_error_above, params=params)
  return mimic.link_height_error_above(cfg, env), params


def test_link_orientation_error_is_the_angle_between_heading_frame_orientations():
  env = _fake_env()
  term, p = _reward(env, command_name="m", body_names=("pelvis", "hand"), field="quat", sigma=0.5)
  # env 0: the pelvis is turned 90 deg about z in the world, 0 in its root's heading frame;
  # the hand is rot_x(0.6) against rot_x(-0.2) (given as -q): 0.8 rad. mse (0 + 0.64) / 2.
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-0.32 / 0.5), 1.0]))


def test_link_angular_velocity_error_in_each_roots_heading_frame():
  env = _fake_env()
  params = {"command_name": "m", "body_names": ("pelvis", "hand"), "field": "ang_vel", "sigma": 2.0}
  term, p = _reward(env, **params, sigma_range=(1.0, 4.0))
  # env 0: the pelvis (0, 0, 1) in both frames: 0. The hand (1, 0, 0) world is (0, -1, 0) in
  # the robot's heading frame, against (0, -1, 2): 4 (rad/s)^2 (in world axes it would be 6). mse 2.
  torch.testing.assert_close(term(env, **p), torch.tensor([math.exp(-2.0 / 2.0), 1.0]))
  sigma = torch.tensor([0.95 * 2.0 + 0.075 * 2.0, 0.95 * 2.0])  # adapted after the first call
  torch.testing.assert_close(term(env, **p), torch.exp(-torch.tensor([2.0, 0.0]) / sigma))


def test_link_height_termination_fires_past_the_threshold_m():
  env = _fake_env()
  # env 0: the hand is 1.0 m high against 0.9 m, the pelvis 0.8 against 0.7: 0.1 m each.
  below, p = _termination(env, command_name="m", body_names=("hand",), threshold=0.099)
  assert below(env, **p).tolist() == [True, False]
  above, p = _termination(env, command_name="m", body_names=("hand", "pelvis"), threshold=0.101)
  assert above(env, **p).tolist() == [False, False]
  with pytest.raises(ValueError, match=r"bodies \['foot'\] are not served"):
    _termination(env, command_name="m", body_names=("foot",), threshold=0.25)


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
  term, p = _reward(env, **params)
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
