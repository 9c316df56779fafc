"""Unitree G1 mimic tasks: the upper body follows a reference clip while the legs walk.

st_gym's "expressive" mimic: the velocity task of the G1, plus a ``MotionCommand`` whose
mimicked joints are the waist and arms. The actor sees the next goal frame, the critic
also a frame 5 control steps later; joint-tracking rewards and an adaptive tracking-error
termination act on the upper body only, and the pull towards the default arm pose of the
velocity task is removed. Default clips: the shipped synthetic ``g1_arm_wave`` and
``g1_dance`` (their lower body is ignored).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Literal

from mjlab.managers.observation_manager import ObservationTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.termination_manager import TerminationTermCfg

from legged_robots.tasks import mdp
from legged_robots.tasks.config.g1.env_cfgs import g1_rough_env_cfg
from legged_robots.tasks.env import MotionEnvCfg
from legged_robots.tasks.mdp.mimic import (
  UPPER_JOINTS,
  motion_goal_future,
  track_joint_exp,
  tracking_error_adaptive_termination,
)
from legged_robots.tasks.mdp.motion_command import MotionCommandCfg
from legged_robots.tasks.motion import MotionDataCfg
from refmotion_manager import data_path

MOTION = "motion"
DEFAULT_CLIPS = ("g1_arm_wave", "g1_dance")


def g1_mimic_env_cfg(
  play: bool = False, num_joints: Literal[29, 23] = 29, rough: bool = False
) -> MotionEnvCfg:
  """G1 velocity tracking with the upper body mimicking reference clips."""
  base = g1_rough_env_cfg(play=play, num_joints=num_joints, rough=rough)
  deviation = base.rewards["joint_deviation"].params
  deviation["weights"] = {k: v for k, v in deviation["weights"].items() if k in ("hip", "feet")}
  # The first H200 training (docs/mimic.md) shuffled: double support 84 % of the time, xy
  # error 0.297 m/s. Stepping and speed weigh more here than in the velocity task.
  base.rewards["feet_air_time"].weight = 1.0
  base.rewards["track_lin_vel_xy_exp"].weight = 2.0
  motion = MotionDataCfg(files=[str(data_path() / f"{name}.npz") for name in DEFAULT_CLIPS])
  cfg = MotionEnvCfg(**{f.name: getattr(base, f.name) for f in fields(base) if f.init}, motion=motion)
  cfg.commands[MOTION] = MotionCommandCfg(
    joint_names=UPPER_JOINTS, init="mimicked_joints", random_start=not play
  )
  goal = ObservationTermCfg(func=mdp.generated_commands, params={"command_name": MOTION})
  cfg.observations["actor"].terms["motion_goal"] = goal
  cfg.observations["critic"].terms["motion_goal"] = goal
  cfg.observations["critic"].terms["motion_goal_future"] = ObservationTermCfg(
    func=motion_goal_future, params={"command_name": MOTION, "steps": 5}
  )
  upper = {"command_name": MOTION, "joint_names": UPPER_JOINTS}
  cfg.rewards["track_upper_joint_pos_exp"] = RewardTermCfg(
    func=track_joint_exp,
    weight=2.0,
    params={**upper, "field": "joint_pos", "sigma": 0.25, "sigma_range": (0.02, 0.5)},
  )
  cfg.rewards["track_upper_joint_vel_exp"] = RewardTermCfg(
    func=track_joint_exp,
    weight=0.5,
    params={**upper, "field": "joint_vel", "sigma": 4.0, "sigma_range": (0.5, 10.0)},
  )
  cfg.terminations["tracking_upper_dof_error"] = TerminationTermCfg(
    func=tracking_error_adaptive_termination, params={**upper, "min_error": 0.447, "max_error": 1.225}
  )
  return cfg


def g1_mimic_rough_env_cfg(play: bool = False, num_joints: Literal[29, 23] = 29) -> MotionEnvCfg:
  return g1_mimic_env_cfg(play=play, num_joints=num_joints, rough=True)
