"""Unitree Go1 quadruped from mjlab's asset zoo."""

from __future__ import annotations

from mjlab.asset_zoo.robots.unitree_go1 import go1_constants as go1
from mjlab.entity import EntityCfg


def go1_robot_cfg() -> EntityCfg:
  """A fresh Go1 entity config (12 actuated joints)."""
  return go1.get_go1_robot_cfg()


def go1_action_scale() -> dict[str, float]:
  """Per-joint action scale 0.25 * effort_limit / stiffness (mjlab's Go1 choice)."""
  return dict(go1.GO1_ACTION_SCALE)
