"""Reward terms on hand-made states, checked against values computed by hand."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from legged_robots.tasks.mdp import rewards

from .fakes import asset_cfg, contact_sensor, fake_env, robot, with_command

CFG = asset_cfg()


def test_track_lin_vel_xy_exp():
  env = with_command(
    fake_env(robot=robot(root_link_lin_vel_b=torch.tensor([[1.0, 0.0, 9.0], [0.0, 0.0, 0.0]]))),
    torch.tensor([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]]),
  )
  out = rewards.track_lin_vel_xy_exp(env, std=0.5, command_name="c", asset_cfg=CFG)
  # err^2 = 0.25 -> exp(-0.25 / 0.25) = e^-1; second env tracks exactly; v_z is ignored.
  torch.testing.assert_close(out, torch.tensor([math.exp(-1.0), 1.0]))


def test_track_ang_vel_z_exp():
  env = with_command(
    fake_env(robot=robot(root_link_ang_vel_b=torch.tensor([[3.0, 3.0, 0.2]]))),
    torch.tensor([[0.0, 0.0, 0.7]]),
  )
  out = rewards.track_ang_vel_z_exp(env, std=0.5, command_name="c", asset_cfg=CFG)
  torch.testing.assert_close(out, torch.tensor([math.exp(-(0.5**2) / 0.25)]))


def test_lin_vel_z_and_ang_vel_xy_l2():
  env = fake_env(
    robot=robot(
      root_link_lin_vel_b=torch.tensor([[5.0, 5.0, -2.0]]),
      root_link_ang_vel_b=torch.tensor([[1.0, -2.0, 7.0]]),
    )
  )
  torch.testing.assert_close(rewards.lin_vel_z_l2(env, CFG), torch.tensor([4.0]))
  torch.testing.assert_close(rewards.ang_vel_xy_l2(env, CFG), torch.tensor([5.0]))


def test_joint_deviation_l1_weights_joints_by_pattern():
  asset = robot(
    joint_pos=torch.tensor([[0.5, -1.0, 3.0, 0.4]]), default_joint_pos=torch.tensor([[0.2, 0.0, 0.0, 0.0]])
  )
  asset.joint_names = ["l_hip", "r_hip", "knee", "ankle"]
  env = fake_env(robot=asset)
  params = {"weights": {".*_hip": 1.0, "ankle": 0.5}}
  term = rewards.joint_deviation_l1(SimpleNamespace(params=params), env)
  # |0.5 - 0.2| + |-1.0| + 0.5 * |0.4|; the knee matches no pattern.
  torch.testing.assert_close(term(env, **params), torch.tensor([0.3 + 1.0 + 0.2]))


def test_joint_deviation_l1_named_groups_stand_for_their_patterns():
  asset = robot(
    joint_pos=torch.tensor([[0.5, -1.0, 3.0, 0.4]]), default_joint_pos=torch.tensor([[0.2, 0.0, 0.0, 0.0]])
  )
  asset.joint_names = ["l_hip", "r_hip", "knee", "ankle"]
  env = fake_env(robot=asset)
  # "hip" is a group (-> .*_hip), "ankle" a pattern; the unused group "knees" adds nothing.
  params = {"weights": {"hip": 2.0, "ankle": 0.5}, "groups": {"hip": ".*_hip", "knees": "knee"}}
  term = rewards.joint_deviation_l1(SimpleNamespace(params=params), env)
  # 2 x (|0.5 - 0.2| + |-1.0|) + 0.5 x |0.4|
  torch.testing.assert_close(term(env, **params), torch.tensor([2.6 + 0.2]))


def test_joint_deviation_l1_pattern_matching_nothing_fails():
  asset = robot(joint_pos=torch.zeros(1, 1), default_joint_pos=torch.zeros(1, 1))
  asset.joint_names = ["hip"]
  params = {"weights": {"hip": 1.0, "wrist": 1.0}}
  with pytest.raises(ValueError, match="wrist"):
    rewards.joint_deviation_l1(SimpleNamespace(params=params), fake_env(robot=asset))


def test_feet_air_time_positive_biped():
  # env0: single stance (left 0.3 s in contact, right 0.2 s in air) -> min(0.3, 0.2) = 0.2.
  # env1: double stance -> 0. env2: single stance, times above threshold -> capped at 0.4.
  # env3: like env0 but commanded speed below 0.1 m/s -> 0.
  air = torch.tensor([[0.0, 0.2], [0.0, 0.0], [0.0, 0.9], [0.0, 0.2]])
  contact = torch.tensor([[0.3, 0.0], [0.5, 0.5], [0.7, 0.0], [0.3, 0.0]])
  env = with_command(
    fake_env(feet=contact_sensor(current_air_time=air, current_contact_time=contact)),
    torch.tensor([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.05, 0.0, 0.0]]),
  )
  out = rewards.feet_air_time_positive_biped(env, sensor_name="feet", threshold=0.4, command_name="c")
  torch.testing.assert_close(out, torch.tensor([0.2, 0.0, 0.4, 0.0]))


def _yaw_quat(yaw: float) -> list[float]:
  return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def test_feet_parallel():
  quats = torch.tensor(
    [
      [_yaw_quat(0.3), _yaw_quat(0.3)],  # parallel -> 1
      [_yaw_quat(0.2), _yaw_quat(-0.3)],  # 0.5 rad apart
      [_yaw_quat(3.0), _yaw_quat(-3.0)],  # 0.283 rad apart across the +-pi seam
    ]
  )
  env = fake_env(robot=robot(body_link_quat_w=quats))
  out = rewards.feet_parallel(env, std=0.5, asset_cfg=asset_cfg(body_ids=[0, 1]))
  seam = 2 * math.pi - 6.0
  expected = torch.tensor([1.0, math.exp(-0.25 / 0.25), math.exp(-(seam**2) / 0.25)])
  torch.testing.assert_close(out, expected)


def test_contact_terms():
  force = torch.tensor(
    [
      [[0.0, 0.0, 100.0], [30.0, 40.0, 5.0]],  # foot 2 stumbles: 50 N horizontal > 5 * 5 N
      [[0.0, 0.0, 0.5], [0.0, 0.0, 700.0]],
    ]
  )
  env = fake_env(s=contact_sensor(force=force))
  torch.testing.assert_close(rewards.feet_stumble(env, "s", ratio=5.0), torch.tensor([1.0, 0.0]))
  torch.testing.assert_close(rewards.undesired_contacts(env, "s", threshold=1.0), torch.tensor([2.0, 1.0]))
  excess = rewards.contact_forces_excess(env, "s", max_contact_force=100.0)
  torch.testing.assert_close(excess, torch.tensor([0.0, 600.0]))


def _limits_env(joint_vel: torch.Tensor, names: list[str]) -> SimpleNamespace:
  asset = robot(joint_vel=joint_vel)
  asset.find_joints = lambda patterns: (list(range(len(names))), names)
  return fake_env(robot=asset)


def test_dof_vel_limits():
  env = _limits_env(torch.tensor([[10.0, -19.0, 5.0]]), ["a_knee", "b_knee", "hip"])
  env.device = "cpu"
  cfg = SimpleNamespace(params={"limits": {".*_knee": 20.0, "hip": 5.0}, "soft_ratio": 0.9})
  term = rewards.dof_vel_limits(cfg, env)
  # soft limits 18, 18, 4.5: excess 0 + 1 + 0.5.
  torch.testing.assert_close(term(env, limits={}, soft_ratio=0.9), torch.tensor([1.5]))


def test_dof_vel_limits_pattern_matching_nothing_fails():
  env = _limits_env(torch.zeros(1, 1), ["hip"])
  cfg = SimpleNamespace(params={"limits": {"hip": 1.0, "wrist": 2.0}})
  with pytest.raises(ValueError, match="wrist"):
    rewards.dof_vel_limits(cfg, env)


def test_dof_torques_limits():
  asset = robot(actuator_force=torch.tensor([[50.0, -95.0, 10.0]]))
  asset.indexing = SimpleNamespace(ctrl_ids=torch.tensor([2, 0, 1]))
  env = fake_env(robot=asset)
  env.device = "cpu"
  forcerange = torch.tensor([[-10.0, 10.0], [-20.0, 20.0], [-100.0, 100.0]]).numpy()
  env.sim = SimpleNamespace(mj_model=SimpleNamespace(actuator_forcerange=forcerange))
  term = rewards.dof_torques_limits(SimpleNamespace(params={"soft_ratio": 0.5}), env)
  # Limits in entity order (ctrl ids 2, 0, 1) are 100, 10, 20 -> soft 50, 5, 10.
  torch.testing.assert_close(term(env), torch.tensor([0.0 + 90.0 + 0.0]))
