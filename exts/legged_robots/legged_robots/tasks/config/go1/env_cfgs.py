"""Unitree Go1 velocity tasks with legged_gym's reward set."""

from __future__ import annotations

from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.termination_manager import TerminationTermCfg
from mjlab.sensor import ContactMatch
from mjlab.sim import MujocoCfg, SimulationCfg

from legged_robots.assets import go1_action_scale, go1_robot_cfg
from legged_robots.tasks import mdp
from legged_robots.tasks.locomotion.locomotion_env_cfg import (
  COMMAND,
  FEET_SENSOR,
  UNDESIRED_SENSOR,
  LocomotionRobot,
  make_locomotion_env_cfg,
)

_LEGS = ("FR", "FL", "RR", "RL")


def _go1(rough: bool) -> LocomotionRobot:
  # Solver settings as in mjlab's Go1 velocity tasks (elliptic cones, impratio 10).
  sim = SimulationCfg(
    nconmax=None if not rough else 35,
    njmax=300 if not rough else 1500,
    contact_sensor_maxmatch=64 if not rough else 500,
    mujoco=MujocoCfg(
      timestep=0.005,
      iterations=10,
      ls_iterations=20,
      ccd_iterations=50 if not rough else 500,
      impratio=10,
      cone="elliptic",
    ),
  )
  return LocomotionRobot(
    entity=go1_robot_cfg(),
    action_scale=go1_action_scale(),
    base_body="trunk",
    torso_body="trunk",
    foot_sites=_LEGS,
    feet_contact=ContactMatch(
      mode="geom", pattern=tuple(f"{leg}_foot_collision" for leg in _LEGS), entity="robot"
    ),
    foot_geoms=tuple(f"{leg}_foot_collision" for leg in _LEGS),
    undesired_contact=ContactMatch(mode="body", pattern=r"^(trunk|.*_thigh|.*_hip)$", entity="robot"),
    undesired_fields=("found", "force"),  # illegal_contact reads "found".
    min_base_height=0.15,
    sim=sim,
    velocity_ranges={"lin_vel_x": (-1.0, 1.0), "lin_vel_y": (-1.0, 1.0), "ang_vel_z": (-1.0, 1.0)},
    max_external_force=5.0,
    max_external_torque=1.0,
  )


def go1_rough_env_cfg(play: bool = False, rough: bool = True) -> ManagerBasedRlEnvCfg:
  """Go1 velocity tracking on rough terrain (``rough=False``: flat plane)."""
  cfg = make_locomotion_env_cfg(_go1(rough), rough=rough, play=play)
  cfg.rewards["termination_penalty"].weight = -10.0
  cfg.rewards["dof_torques_l2"].weight = -2e-4
  cfg.rewards["flat_orientation_l2"].weight = -2.5 if not rough else 0.0
  cfg.rewards.update(
    lin_vel_z_l2=RewardTermCfg(func=mdp.lin_vel_z_l2, weight=-2.0),
    ang_vel_xy_l2=RewardTermCfg(func=mdp.ang_vel_xy_l2, weight=-0.05),
    feet_air_time=RewardTermCfg(
      func=mdp.feet_air_time,
      weight=0.25,
      params={
        "sensor_name": FEET_SENSOR,
        "threshold_min": 0.1,
        "threshold_max": 0.5,
        "command_name": COMMAND,
        "command_threshold": 0.1,
      },
    ),
  )
  # legged_gym ends an episode when the trunk touches the ground.
  cfg.terminations["base_contact"] = TerminationTermCfg(
    func=mdp.illegal_contact, params={"sensor_name": UNDESIRED_SENSOR, "force_threshold": 1.0}
  )
  cfg.terminations.pop("base_height")
  return cfg


def go1_flat_env_cfg(play: bool = False) -> ManagerBasedRlEnvCfg:
  """Go1 velocity tracking on a flat plane."""
  return go1_rough_env_cfg(play=play, rough=False)
