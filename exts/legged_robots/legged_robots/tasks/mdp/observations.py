"""Observation terms st_gym adds to mjlab's: base state and privileged critic inputs.

Privileged terms read MuJoCo model fields that domain randomization may have made
per-env; a field that was never randomized has a leading world dim of 1 and is
broadcast to (num_envs, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg

if TYPE_CHECKING:
  from mjlab.entity import Entity
  from mjlab.envs import ManagerBasedRlEnv

_ROBOT = SceneEntityCfg("robot")


def _per_env(env: ManagerBasedRlEnv, field: str) -> torch.Tensor:
  """Model field ``field`` as a (num_envs, ...) tensor."""
  value = torch.as_tensor(getattr(env.sim.model, field))
  return value.expand(env.num_envs, *value.shape[1:])


def base_height(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """Root height above the env origin, shape (B, 1)."""
  asset: Entity = env.scene[asset_cfg.name]
  return (asset.data.root_link_pos_w[:, 2] - env.scene.env_origins[:, 2]).unsqueeze(-1)


def base_quat(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """Root orientation quaternion (w, x, y, z) with w >= 0, shape (B, 4)."""
  quat = env.scene[asset_cfg.name].data.root_link_quat_w
  return torch.where(quat[:, :1] < 0.0, -quat, quat)


def body_mass(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """Masses (kg) of the selected bodies, shape (B, num_bodies)."""
  asset: Entity = env.scene[asset_cfg.name]
  ids = asset.indexing.body_ids[asset_cfg.body_ids]
  return _per_env(env, "body_mass")[:, ids]


def joint_stiffness_damping(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """Position-actuator gains [kp..., kd...] of the entity, shape (B, 2 * num_actuators).

  MuJoCo position actuators apply ``kp * ctrl - kp * q - kd * qd``: kp is gainprm[0]
  and kd is -biasprm[2].
  """
  ids = env.scene[asset_cfg.name].indexing.ctrl_ids
  kp = _per_env(env, "actuator_gainprm")[:, ids, 0]
  kd = -_per_env(env, "actuator_biasprm")[:, ids, 2]
  return torch.cat([kp, kd], dim=-1)


def geom_friction(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """Sliding friction coefficients of the selected geoms, shape (B, num_geoms)."""
  asset: Entity = env.scene[asset_cfg.name]
  ids = asset.indexing.geom_ids[asset_cfg.geom_ids]
  return _per_env(env, "geom_friction")[:, ids, 0]


def contact_forces(env: ManagerBasedRlEnv, sensor_name: str) -> torch.Tensor:
  """Net contact force (world frame, N) of each sensed body, flattened: (B, 3 * n)."""
  force = env.scene[sensor_name].data.force
  assert force is not None
  return force.flatten(start_dim=1)
