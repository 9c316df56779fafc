"""Reward terms st_gym adds to mjlab's (table 3.4 of the st_gym overview).

Each term returns a tensor of shape (num_envs,); the reward manager multiplies it by
the term's weight (and by step_dt). Terms mjlab already provides are reused by name
in the env cfg (``is_alive``, ``joint_torques_l2``, ``action_rate_l2``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg
from mjlab.utils.lab_api.string import resolve_matching_names_values

if TYPE_CHECKING:
  from mjlab.entity import Entity
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.reward_manager import RewardTermCfg
  from mjlab.sensor import ContactSensor

_ROBOT = SceneEntityCfg("robot")


def _command(env: ManagerBasedRlEnv, name: str) -> torch.Tensor:
  cmd = env.command_manager.get_command(name)
  assert cmd is not None, f"command '{name}' has no tensor"
  return cmd


def track_lin_vel_xy_exp(
  env: ManagerBasedRlEnv, std: float, command_name: str, asset_cfg: SceneEntityCfg = _ROBOT
) -> torch.Tensor:
  """exp(-|v_cmd_xy - v_xy|^2 / std^2), velocities in the base frame."""
  asset: Entity = env.scene[asset_cfg.name]
  cmd = _command(env, command_name)
  err = torch.sum(torch.square(cmd[:, :2] - asset.data.root_link_lin_vel_b[:, :2]), dim=1)
  return torch.exp(-err / std**2)


def track_ang_vel_z_exp(
  env: ManagerBasedRlEnv, std: float, command_name: str, asset_cfg: SceneEntityCfg = _ROBOT
) -> torch.Tensor:
  """exp(-(w_cmd_z - w_z)^2 / std^2), yaw rate in the base frame."""
  asset: Entity = env.scene[asset_cfg.name]
  cmd = _command(env, command_name)
  err = torch.square(cmd[:, 2] - asset.data.root_link_ang_vel_b[:, 2])
  return torch.exp(-err / std**2)


def lin_vel_z_l2(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """v_z^2 of the base in its own frame (legged_gym's bounce penalty)."""
  asset: Entity = env.scene[asset_cfg.name]
  return torch.square(asset.data.root_link_lin_vel_b[:, 2])


def ang_vel_xy_l2(env: ManagerBasedRlEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """w_x^2 + w_y^2 of the base in its own frame (roll/pitch rate penalty)."""
  asset: Entity = env.scene[asset_cfg.name]
  return torch.sum(torch.square(asset.data.root_link_ang_vel_b[:, :2]), dim=1)


class joint_deviation_l1:
  """sum_j w_j |q_j - q0_j|, with w_j from joint-name patterns (unmatched joints: 0).

  One pass over the joints for several joint groups (hips, arms, waist, ...), as
  mjlab's single posture term: each group as its own term would recompute the same
  deviation and cost the reward manager seven more tensor ops per step.

  ``weights`` maps a joint-name pattern, or a name from ``groups`` (name -> pattern), to
  its factor. Named groups make a factor settable from the command line
  (``env.rewards.joint_deviation.params.weights.hip=2.0``): hydra's override grammar
  cannot name a key such as ``.*_hip_(yaw|roll)_joint``.
  """

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    asset: Entity = env.scene[cfg.params.get("asset_cfg", _ROBOT).name]
    groups = cfg.params.get("groups") or {}
    patterns = {groups.get(key, key): factor for key, factor in cfg.params["weights"].items()}
    ids, _, weights = resolve_matching_names_values(patterns, asset.joint_names)
    self._ids = torch.tensor(ids, device=env.device)
    self._weights = torch.tensor(weights, device=env.device, dtype=torch.float32)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    weights: dict[str, float],
    groups: dict[str, str] | None = None,
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> torch.Tensor:
    del weights, groups  # Resolved at init.
    data = env.scene[asset_cfg.name].data
    deviation = data.joint_pos[:, self._ids] - data.default_joint_pos[:, self._ids]
    return torch.sum(torch.abs(deviation) * self._weights, dim=1)


def feet_air_time_positive_biped(
  env: ManagerBasedRlEnv, sensor_name: str, threshold: float, command_name: str
) -> torch.Tensor:
  """min over feet of the current stance/swing time while in single stance, capped.

  Rewards alternating steps: only single-support phases count, and the shorter of the
  two feet's current mode durations is taken so that both feet must take turns.
  Zero when the commanded planar speed is below 0.1 m/s.
  """
  sensor: ContactSensor = env.scene[sensor_name]
  air, contact = sensor.data.current_air_time, sensor.data.current_contact_time
  assert air is not None and contact is not None
  in_contact = contact > 0.0
  mode_time = torch.where(in_contact, contact, air)
  single_stance = torch.sum(in_contact.int(), dim=1) == 1
  reward = torch.min(torch.where(single_stance.unsqueeze(-1), mode_time, 0.0), dim=1)[0]
  reward = torch.clamp(reward, max=threshold)
  cmd = _command(env, command_name)
  return reward * (torch.norm(cmd[:, :2], dim=1) > 0.1)


def feet_parallel(env: ManagerBasedRlEnv, std: float, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """exp(-dpsi^2 / std^2), dpsi the yaw angle between the two feet's forward axes."""
  asset: Entity = env.scene[asset_cfg.name]
  quat = asset.data.body_link_quat_w[:, asset_cfg.body_ids]  # (B, 2, 4) wxyz
  w, x, y, z = quat.unbind(-1)
  # Heading of each foot's x axis projected on the ground plane.
  yaw = torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
  dpsi = torch.remainder(yaw[:, 0] - yaw[:, 1] + torch.pi, 2 * torch.pi) - torch.pi
  return torch.exp(-torch.square(dpsi) / std**2)


def undesired_contacts(env: ManagerBasedRlEnv, sensor_name: str, threshold: float) -> torch.Tensor:
  """Number of sensed bodies whose contact force norm exceeds ``threshold`` newtons."""
  sensor: ContactSensor = env.scene[sensor_name]
  force = sensor.data.force
  assert force is not None
  return torch.sum((torch.norm(force, dim=-1) > threshold).float(), dim=1)


def feet_stumble(env: ManagerBasedRlEnv, sensor_name: str, ratio: float = 5.0) -> torch.Tensor:
  """1 when any foot's horizontal contact force exceeds ``ratio`` times its vertical one."""
  sensor: ContactSensor = env.scene[sensor_name]
  force = sensor.data.force
  assert force is not None
  horizontal = torch.norm(force[..., :2], dim=-1)
  return torch.any(horizontal > ratio * torch.abs(force[..., 2]), dim=1).float()


def contact_forces_excess(env: ManagerBasedRlEnv, sensor_name: str, max_contact_force: float) -> torch.Tensor:
  """sum over sensed bodies of max(|F| - max_contact_force, 0)."""
  sensor: ContactSensor = env.scene[sensor_name]
  force = sensor.data.force
  assert force is not None
  return torch.sum(torch.clamp(torch.norm(force, dim=-1) - max_contact_force, min=0.0), dim=1)


class dof_vel_limits:
  """sum_j max(|qd_j| - soft_ratio * qd_max_j, 0); limits given per joint pattern."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    asset_cfg: SceneEntityCfg = cfg.params.get("asset_cfg", _ROBOT)
    asset: Entity = env.scene[asset_cfg.name]
    ids, names = asset.find_joints(asset_cfg.joint_names or (".*",))
    _, _, limits = resolve_matching_names_values(cfg.params["limits"], names)
    self._ids = torch.tensor(ids, device=env.device)
    self._limit = torch.tensor(limits, device=env.device) * cfg.params.get("soft_ratio", 1.0)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    limits: dict[str, float],
    soft_ratio: float = 1.0,
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> torch.Tensor:
    del limits, soft_ratio
    qd = env.scene[asset_cfg.name].data.joint_vel[:, self._ids]
    return torch.sum(torch.clamp(torch.abs(qd) - self._limit, min=0.0), dim=1)


class dof_torques_limits:
  """sum_a max(|tau_a| - soft_ratio * tau_max_a, 0); tau_max from the actuators' forcerange."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    asset: Entity = env.scene[cfg.params.get("asset_cfg", _ROBOT).name]
    ctrl_ids = asset.indexing.ctrl_ids.cpu().numpy()
    forcerange = env.sim.mj_model.actuator_forcerange[ctrl_ids]
    limit = torch.tensor(forcerange[:, 1], device=env.device, dtype=torch.float32)
    self._limit = limit * cfg.params.get("soft_ratio", 1.0)

  def __call__(
    self, env: ManagerBasedRlEnv, soft_ratio: float = 1.0, asset_cfg: SceneEntityCfg = _ROBOT
  ) -> torch.Tensor:
    del soft_ratio
    tau = env.scene[asset_cfg.name].data.actuator_force
    return torch.sum(torch.clamp(torch.abs(tau) - self._limit, min=0.0), dim=1)
