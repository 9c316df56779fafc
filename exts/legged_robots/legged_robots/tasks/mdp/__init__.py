"""MDP terms for st_gym tasks: mjlab's terms plus the ones st_gym adds.

``from legged_robots.tasks import mdp`` gives one namespace: mjlab's generic terms
(``mjlab.envs.mdp``), its locomotion terms (``mjlab.tasks.velocity.mdp``) and ours.
Where st_gym has its own version of an mjlab term, ours takes the name:
``apply_body_impulse`` (same timing, no host-device syncs) and
``reset_root_state_uniform`` (same distribution, a third of the tensor ops, no syncs) and
``UniformVelocityCommandCfg`` (same command, masked updates instead of syncs) and
``terrain_levels_vel`` (same curriculum, per-type levels without syncs) and
``nan_detection`` (same mask, half the tensor ops).
"""

from mjlab.tasks.velocity.mdp import *  # noqa: F403

from .actions import DelayedJointPositionAction, DelayedJointPositionActionCfg
from .commands import UniformVelocityCommand, UniformVelocityCommandCfg
from .curriculums import reward_weight_linear, terrain_levels_vel
from .entity_cfg import DeviceSceneEntityCfg
from .events import apply_body_impulse, geom_restitution, reset_root_state_uniform
from .observations import (
  base_height,
  base_quat,
  body_mass,
  contact_forces,
  geom_friction,
  joint_stiffness_damping,
)
from .rewards import (
  ang_vel_xy_l2,
  contact_forces_excess,
  dof_torques_limits,
  dof_vel_limits,
  feet_air_time_positive_biped,
  feet_parallel,
  feet_stumble,
  joint_deviation_l1,
  lin_vel_z_l2,
  track_ang_vel_z_exp,
  track_lin_vel_xy_exp,
  undesired_contacts,
)
from .terminations import nan_detection

__all__ = [
  "DelayedJointPositionAction",
  "DelayedJointPositionActionCfg",
  "DeviceSceneEntityCfg",
  "UniformVelocityCommand",
  "UniformVelocityCommandCfg",
  "ang_vel_xy_l2",
  "apply_body_impulse",
  "base_height",
  "base_quat",
  "body_mass",
  "contact_forces",
  "contact_forces_excess",
  "dof_torques_limits",
  "dof_vel_limits",
  "feet_air_time_positive_biped",
  "feet_parallel",
  "feet_stumble",
  "geom_friction",
  "geom_restitution",
  "joint_deviation_l1",
  "joint_stiffness_damping",
  "lin_vel_z_l2",
  "nan_detection",
  "reset_root_state_uniform",
  "reward_weight_linear",
  "terrain_levels_vel",
  "track_ang_vel_z_exp",
  "track_lin_vel_xy_exp",
  "undesired_contacts",
]
