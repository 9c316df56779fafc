"""Unitree G1 velocity tasks: flat and rough, 29 or 23 actuated joints."""

from __future__ import annotations

from typing import Literal

from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.managers.curriculum_manager import CurriculumTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.sensor import ContactMatch
from mjlab.sim import MujocoCfg, SimulationCfg

from legged_robots.assets import g1_action_scale, g1_robot_cfg, g1_velocity_limits
from legged_robots.tasks import mdp
from legged_robots.tasks.locomotion.locomotion_env_cfg import (
  COMMAND,
  FEET_SENSOR,
  LocomotionRobot,
  make_locomotion_env_cfg,
)

_FEET_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
_FOOT_GEOMS = tuple(f"{side}_foot{i}_collision" for side in ("left", "right") for i in range(1, 8))
# Bodies whose ground contact means a fall or a stumble: everything above the ankles that
# has collision geoms (the hip-pitch and shoulder pitch/roll links have none).
_UNDESIRED = r"^(pelvis|torso_link|.*_hip_(roll|yaw)_link|.*_knee_link|.*_shoulder_yaw_link|.*_elbow_link)$"
_LEGS = (r".*_hip_.*_joint", r".*_knee_joint", r".*_ankle_.*_joint")


def _g1(num_joints: Literal[29, 23], rough: bool) -> LocomotionRobot:
  # Contact buffers and CCD iterations sized as in mjlab's G1 velocity tasks.
  sim = SimulationCfg(
    nconmax=70 if rough else None,
    njmax=1500 if rough else 300,
    contact_sensor_maxmatch=500 if rough else 64,
    mujoco=MujocoCfg(timestep=0.005, iterations=10, ls_iterations=20, ccd_iterations=500 if rough else 50),
  )
  return LocomotionRobot(
    entity=g1_robot_cfg(num_joints),
    action_scale=g1_action_scale(num_joints),
    base_body="pelvis",
    torso_body="torso_link",
    foot_sites=("left_foot", "right_foot"),
    feet_contact=ContactMatch(mode="subtree", pattern=r"^(left|right)_ankle_roll_link$", entity="robot"),
    foot_geoms=_FOOT_GEOMS,
    undesired_contact=ContactMatch(mode="body", pattern=_UNDESIRED, entity="robot"),
    min_base_height=0.4,
    sim=sim,
    velocity_ranges={"lin_vel_x": (-0.5, 1.0), "lin_vel_y": (-0.3, 0.3), "ang_vel_z": (-1.0, 1.0)},
  )


# st_gym's five joint_deviation_<group> terms, as the named groups of one term.
DEVIATION_GROUPS = {
  "hip": r".*_hip_(yaw|roll)_joint",
  "feet": r".*_ankle_roll_joint",
  "arms": r".*_(shoulder_.*|elbow)_joint",
  "torso": r"waist_.*_joint",
  "wrist": r".*_wrist_.*_joint",
}


def _deviation_params(num_joints: Literal[29, 23]) -> dict[str, dict]:
  """joint_deviation's params: group -> factor of its weight, group -> joint pattern;
  wrists only on the 29-DoF G1."""
  weights = {"hip": 1.0, "feet": 0.5, "arms": 1.0, "torso": 1.0}
  if num_joints == 29:
    weights["wrist"] = 1.0
  return {"weights": weights, "groups": {name: DEVIATION_GROUPS[name] for name in weights}}


def g1_rough_env_cfg(
  play: bool = False, num_joints: Literal[29, 23] = 29, rough: bool = True
) -> ManagerBasedRlEnvCfg:
  """G1 velocity tracking on rough terrain (``rough=False``: flat plane)."""
  cfg = make_locomotion_env_cfg(_g1(num_joints, rough), rough=rough, play=play)
  legs = mdp.DeviceSceneEntityCfg("robot", joint_names=_LEGS)
  cfg.rewards["track_lin_vel_xy_exp"].weight = 1.5
  cfg.rewards["track_ang_vel_z_exp"].weight = 1.0
  cfg.rewards["dof_torques_l2"].params["asset_cfg"] = mdp.DeviceSceneEntityCfg(
    "robot", actuator_names=list(_LEGS)
  )
  cfg.rewards["dof_torques_l2"].weight = -1.5e-7
  cfg.rewards["dof_acc_l2"].params["asset_cfg"] = legs
  cfg.rewards["dof_acc_l2"].weight = -1.25e-7
  cfg.rewards["action_rate_l2"].weight = -0.005
  cfg.rewards.update(
    alive=RewardTermCfg(func=mdp.is_alive, weight=0.5),
    ang_vel_xy_l2=RewardTermCfg(func=mdp.ang_vel_xy_l2, weight=-0.05),
    feet_air_time=RewardTermCfg(
      func=mdp.feet_air_time_positive_biped,
      weight=0.5,
      params={"sensor_name": FEET_SENSOR, "threshold": 0.4, "command_name": COMMAND},
    ),
    # Hips -0.1, ankle roll -0.05, arms -0.1, waist -0.1, wrists -0.1: one term, per-joint factors.
    joint_deviation=RewardTermCfg(
      func=mdp.joint_deviation_l1, weight=-0.1, params=_deviation_params(num_joints)
    ),
    energy_cost=RewardTermCfg(
      func=mdp.electrical_power_cost,
      weight=-2e-5,
      params={"asset_cfg": mdp.DeviceSceneEntityCfg("robot", joint_names=(".*",))},
    ),
    feet_parallel=RewardTermCfg(
      func=mdp.feet_parallel,
      weight=0.25,
      params={"std": 0.25, "asset_cfg": mdp.DeviceSceneEntityCfg("robot", body_names=_FEET_BODIES)},
    ),
    feet_stumble=RewardTermCfg(func=mdp.feet_stumble, weight=-1.0, params={"sensor_name": FEET_SENSOR}),
    action_smoothness_2=RewardTermCfg(func=mdp.action_acc_l2, weight=-0.005),
    dof_vel_limits=RewardTermCfg(
      func=mdp.dof_vel_limits,
      weight=-1.0,
      params={"limits": g1_velocity_limits(num_joints), "soft_ratio": 0.9},
    ),
    dof_torques_limits=RewardTermCfg(func=mdp.dof_torques_limits, weight=-0.01, params={"soft_ratio": 0.9}),
    contact_forces=RewardTermCfg(
      func=mdp.contact_forces_excess,
      weight=-1e-3,
      params={"sensor_name": FEET_SENSOR, "max_contact_force": 500.0},
    ),
  )
  if not play:
    cfg.curriculum.update(_weight_schedules())
  return cfg


def _weight_schedules() -> dict[str, CurriculumTermCfg]:
  """Regularizers tighten over the first ~1500 PPO iterations (24 env steps each)."""
  targets = {
    "alive": (0.15, 1000),
    "action_rate_l2": (-0.01, 1500),
    "action_smoothness_2": (-0.01, 1500),
    "dof_torques_l2": (-3e-7, 1500),
    "dof_acc_l2": (-2.5e-7, 1500),
    "contact_forces": (-2e-3, 1500),
  }
  return {
    f"{term}_schedule": CurriculumTermCfg(
      func=mdp.reward_weight_linear,
      params={"term_name": term, "weight": weight, "num_steps": iters * 24},
    )
    for term, (weight, iters) in targets.items()
  }


def g1_flat_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29) -> ManagerBasedRlEnvCfg:
  """G1 velocity tracking on a flat plane."""
  return g1_rough_env_cfg(play=play, num_joints=num_joints, rough=False)
