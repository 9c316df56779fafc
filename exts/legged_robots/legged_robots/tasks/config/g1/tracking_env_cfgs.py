"""Unitree G1 whole-body tracking: follow a whole clip, root included (BeyondMimic's job).

The G1 flat velocity task without its velocity command, plus a ``MotionCommand`` over all
joints that starts each episode in a clip frame (root and joints, failure-adaptive start
times) and ends it at the clip's end. Rewards track joints by group, the root pose and
velocity, and the positions, orientations, linear and angular velocities of BeyondMimic's
links (``TRACKED_LINKS``); terminations: root height error > 0.25 m, root rotation error
> 0.8 rad, an end effector's (``EE_LINKS``) height error > 0.25 m, and the adaptive
joint-error thresholds. The actor sees the next frame's joint goals (a robot
can replay them from the export); the critic also sees the goal 5 steps ahead. Default
clip: the shipped synthetic ``g1_dance``.
"""

from __future__ import annotations

from dataclasses import fields

from mjlab.managers.observation_manager import ObservationTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.termination_manager import TerminationTermCfg

from legged_robots.tasks import mdp
from legged_robots.tasks.config.g1.env_cfgs import g1_rough_env_cfg
from legged_robots.tasks.env import MotionEnvCfg
from legged_robots.tasks.locomotion.locomotion_env_cfg import COMMAND
from legged_robots.tasks.mdp import mimic
from legged_robots.tasks.mdp.motion_command import MotionCommandCfg
from legged_robots.tasks.motion import MotionDataCfg
from refmotion_manager import data_path

MOTION = "motion"
# Terms of the velocity task that read its command or shape a walking gait.
_VELOCITY_TERMS = (
  "track_lin_vel_xy_exp",
  "track_ang_vel_z_exp",
  "feet_air_time",
  "feet_slide",
  "joint_deviation",
)
TRACKED_LINKS = (
  "pelvis",
  "left_hip_roll_link",
  "left_knee_link",
  "left_ankle_roll_link",
  "right_hip_roll_link",
  "right_knee_link",
  "right_ankle_roll_link",
  "torso_link",
  "left_shoulder_roll_link",
  "left_elbow_link",
  "left_wrist_yaw_link",
  "right_shoulder_roll_link",
  "right_elbow_link",
  "right_wrist_yaw_link",
)
"""BeyondMimic's G1 body set: pelvis, legs, torso and arm ends (``track_link_*`` rewards)."""
EE_LINKS = ("left_ankle_roll_link", "right_ankle_roll_link", "left_wrist_yaw_link", "right_wrist_yaw_link")
"""BeyondMimic's end effectors: the episode ends when one is > 0.25 m off its reference height."""


def g1_tracking_env_cfg(play: bool = False) -> MotionEnvCfg:
  base = g1_rough_env_cfg(play=play, num_joints=29, rough=False)
  base.commands.pop(COMMAND)
  for term in _VELOCITY_TERMS:
    base.rewards.pop(term, None)
  for group in ("actor", "critic"):
    base.observations[group].terms.pop("velocity_commands")
  base.events.pop("reset_base")  # the command puts the root on the clip frame
  motion = MotionDataCfg(files=[str(data_path() / "g1_dance.npz")], body_names=list(TRACKED_LINKS))
  cfg = MotionEnvCfg(**{f.name: getattr(base, f.name) for f in fields(base) if f.init}, motion=motion)
  cfg.commands[MOTION] = MotionCommandCfg(
    joint_names=(".*",), init="full", loop=False, random_start=not play, adaptive_sampling=not play
  )
  goal = ObservationTermCfg(func=mdp.generated_commands, params={"command_name": MOTION})
  cfg.observations["actor"].terms["motion_goal"] = goal
  cfg.observations["critic"].terms["motion_goal"] = goal
  cfg.observations["critic"].terms["motion_goal_future"] = ObservationTermCfg(
    func=mimic.motion_goal_future, params={"command_name": MOTION, "steps": 5}
  )
  groups = {"upper": mimic.UPPER_JOINTS, "lower": mimic.LOWER_JOINTS, "feet": mimic.FEET_JOINTS}
  for name, joints in groups.items():
    for field, weight, sigma, bounds in (("pos", 1.0, 0.25, (0.02, 0.5)), ("vel", 0.2, 4.0, (0.5, 10.0))):
      cfg.rewards[f"track_{name}_joint_{field}_exp"] = RewardTermCfg(
        func=mimic.track_joint_exp,
        weight=weight,
        params={
          "command_name": MOTION,
          "joint_names": joints,
          "field": f"joint_{field}",
          "sigma": sigma,
          "sigma_range": bounds,
        },
      )
  root = {"command_name": MOTION}
  cfg.rewards["track_root_pos_exp"] = RewardTermCfg(
    func=mimic.track_root_pos_exp, weight=1.0, params={**root, "std": 0.3}
  )
  cfg.rewards["track_root_rotation_exp"] = RewardTermCfg(
    func=mimic.track_root_rotation_exp, weight=1.0, params={**root, "std": 0.4}
  )
  cfg.rewards["track_root_lin_vel_exp"] = RewardTermCfg(
    func=mimic.track_root_lin_vel_exp, weight=0.5, params={**root, "std": 1.0}
  )
  cfg.rewards["track_root_ang_vel_exp"] = RewardTermCfg(
    func=mimic.track_root_ang_vel_exp, weight=0.5, params={**root, "std": 3.0}
  )
  # BeyondMimic's body position, orientation, linear and angular velocity terms (weight 1,
  # std 0.3 m, 0.4 rad, 1 m/s, 3.14 rad/s: sigma = std^2), here with the adaptive sigma of
  # the joint terms, within about (std / 3)^2 .. (2 std)^2.
  links = (
    ("pos", 0.09, (0.01, 0.25)),
    ("quat", 0.16, (0.02, 0.64)),
    ("vel", 1.0, (0.1, 4.0)),
    ("ang_vel", 9.86, (1.0, 40.0)),
  )
  for field, sigma, bounds in links:
    cfg.rewards[f"track_link_{field}_exp"] = RewardTermCfg(
      func=mimic.track_link_exp,
      weight=1.0,
      params={**root, "body_names": TRACKED_LINKS, "field": field, "sigma": sigma, "sigma_range": bounds},
    )
  cfg.terminations["motion_ended"] = TerminationTermCfg(func=mimic.motion_ended, params=root, time_out=True)
  cfg.terminations["root_height_error"] = TerminationTermCfg(
    func=mimic.root_height_error_above, params={**root, "threshold": 0.25}
  )
  cfg.terminations["root_rotation_error"] = TerminationTermCfg(
    func=mimic.root_rotation_error_above, params={**root, "threshold": 0.8}
  )
  cfg.terminations["ee_link_height_error"] = TerminationTermCfg(
    func=mimic.link_height_error_above, params={**root, "body_names": EE_LINKS, "threshold": 0.25}
  )
  for name, joints, lo in (("upper", mimic.UPPER_JOINTS, 0.447), ("lower", mimic.LOWER_JOINTS, 0.548)):
    cfg.terminations[f"tracking_{name}_dof_error"] = TerminationTermCfg(
      func=mimic.tracking_error_adaptive_termination,
      params={"command_name": MOTION, "joint_names": joints, "min_error": lo, "max_error": 1.225},
    )
  return cfg
