"""Unitree G1 humanoid: the 29-DoF model from mjlab's asset zoo and a 23-DoF variant.

The 23-DoF variant is st_gym's "21/27-joint switch" on the G1: the six wrist joints
are removed from the MJCF, which welds the hands to the forearms (the bodies stay,
so masses and inertias are unchanged). Actuators are the 29-DoF set minus the wrists.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import mujoco
from mjlab.actuator import BuiltinPositionActuatorCfg
from mjlab.asset_zoo.robots.unitree_g1 import g1_constants as g1
from mjlab.entity import EntityArticulationInfoCfg, EntityCfg

G1_23DOF_LOCKED_JOINTS: tuple[str, ...] = tuple(
  f"{side}_wrist_{axis}_joint" for side in ("left", "right") for axis in ("roll", "pitch", "yaw")
)
"""Joints removed (locked at zero) in the 23-DoF G1."""

_WRIST_EXPRS = (".*_wrist_roll_joint", ".*_wrist_pitch_joint", ".*_wrist_yaw_joint")


def _spec_23dof() -> mujoco.MjSpec:
  spec = g1.get_spec()
  for name in G1_23DOF_LOCKED_JOINTS:
    spec.delete(spec.joint(name))
  return spec


# Motor speed limits (rad/s) of mjlab's G1 actuator groups, in G1_ARTICULATION order:
# 5020, 7520-14, 7520-22, 4010, waist (2x 5020), ankle (2x 5020).
_GROUP_VELOCITY_LIMITS = (
  g1.ACTUATOR_5020.velocity_limit,
  g1.ACTUATOR_7520_14.velocity_limit,
  g1.ACTUATOR_7520_22.velocity_limit,
  g1.ACTUATOR_4010.velocity_limit,
  g1.ACTUATOR_5020.velocity_limit,
  g1.ACTUATOR_5020.velocity_limit,
)


def _actuator_groups(
  num_joints: Literal[29, 23],
) -> list[tuple[BuiltinPositionActuatorCfg, float]]:
  groups = []
  for act, vel_limit in zip(g1.G1_ARTICULATION.actuators, _GROUP_VELOCITY_LIMITS, strict=True):
    assert isinstance(act, BuiltinPositionActuatorCfg)
    exprs = tuple(act.target_names_expr)
    if num_joints == 23:
      exprs = tuple(e for e in exprs if e not in _WRIST_EXPRS)
    if exprs:
      groups.append((dataclasses.replace(act, target_names_expr=exprs), vel_limit))
  return groups


def _actuators(num_joints: Literal[29, 23]) -> tuple[BuiltinPositionActuatorCfg, ...]:
  return tuple(act for act, _ in _actuator_groups(num_joints))


def g1_robot_cfg(num_joints: Literal[29, 23] = 29) -> EntityCfg:
  """A fresh G1 entity config with ``num_joints`` actuated joints (29 or 23)."""
  if num_joints not in (29, 23):
    raise ValueError(f"G1 has 29 joints or 23 (wrists locked); got num_joints={num_joints}.")
  return EntityCfg(
    init_state=dataclasses.replace(g1.KNEES_BENT_KEYFRAME),
    collisions=(g1.FULL_COLLISION,),
    spec_fn=g1.get_spec if num_joints == 29 else _spec_23dof,
    articulation=EntityArticulationInfoCfg(
      actuators=_actuators(num_joints),
      soft_joint_pos_limit_factor=g1.G1_ARTICULATION.soft_joint_pos_limit_factor,
    ),
  )


def g1_action_scale(num_joints: Literal[29, 23] = 29) -> dict[str, float]:
  """Per-joint action scale 0.25 * effort_limit / stiffness (mjlab's G1 choice)."""
  scale: dict[str, float] = {}
  for act in _actuators(num_joints):
    assert act.effort_limit is not None
    for expr in act.target_names_expr:
      scale[expr] = 0.25 * act.effort_limit / act.stiffness
  return scale


def g1_velocity_limits(num_joints: Literal[29, 23] = 29) -> dict[str, float]:
  """Joint-name pattern -> motor speed limit (rad/s), from Unitree's motor specs."""
  return {expr: vel for act, vel in _actuator_groups(num_joints) for expr in act.target_names_expr}
