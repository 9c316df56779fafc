"""Robot entity configurations (MJCF models from mjlab's asset zoo)."""

from .unitree_g1 import (
  G1_23DOF_LOCKED_JOINTS,
  g1_action_scale,
  g1_robot_cfg,
  g1_velocity_limits,
)
from .unitree_go1 import go1_action_scale, go1_robot_cfg

__all__ = [
  "G1_23DOF_LOCKED_JOINTS",
  "g1_action_scale",
  "g1_robot_cfg",
  "g1_velocity_limits",
  "go1_action_scale",
  "go1_robot_cfg",
]
