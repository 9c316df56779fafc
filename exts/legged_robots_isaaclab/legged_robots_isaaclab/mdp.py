# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""st_gym's velocity-task terms that Isaac Lab 3 does not have, written on Isaac Lab's API.

Every other term of the tasks is Isaac Lab's own (``isaaclab.envs.mdp``, ``isaaclab_tasks.
core.velocity.mdp``). Each term here restates the st_gym / mjlab term of the same name
(``legged_robots.tasks.mdp``, ``mjlab.envs.mdp``, ``mjlab.tasks.velocity.mdp``) on Isaac Lab
data: ``.torch`` views of Newton's buffers, contact sensors selected by ``sensor_cfg``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from isaaclab.envs.mdp.actions import JointPositionAction, JointPositionActionCfg
from isaaclab.managers import ManagerTermBase, RewardTermCfg, SceneEntityCfg
from isaaclab.utils import configclass
from isaaclab.utils.math import euler_xyz_from_quat
from isaaclab.utils.string import resolve_matching_names_values

_ROBOT = SceneEntityCfg("robot")


def _command(env, name: str) -> torch.Tensor:
  return env.command_manager.get_command(name)


def feet_parallel(env, std: float, asset_cfg: SceneEntityCfg) -> torch.Tensor:
  """exp(-dpsi^2 / std^2), dpsi the yaw angle between the two feet (first two bodies)."""
  quat = env.scene[asset_cfg.name].data.body_link_quat_w.torch[:, asset_cfg.body_ids]  # (B, 2, 4)
  _, _, yaw = euler_xyz_from_quat(quat.reshape(-1, 4))
  yaw = yaw.reshape(quat.shape[0], -1)
  dpsi = torch.remainder(yaw[:, 0] - yaw[:, 1] + torch.pi, 2 * torch.pi) - torch.pi
  return torch.exp(-torch.square(dpsi) / std**2)


def _net_forces(env, sensor_cfg: SceneEntityCfg) -> torch.Tensor:
  """(B, bodies, 3) net contact force [N] on the selected bodies, this physics step."""
  return env.scene.sensors[sensor_cfg.name].data.net_forces_w.torch[:, sensor_cfg.body_ids]


def body_mass(env, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """(B, bodies) masses [kg] of the selected bodies, after startup randomization (critic only)."""
  return env.scene[asset_cfg.name].data.body_mass.torch[:, asset_cfg.body_ids]


def joint_stiffness_damping(env, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """(B, 2 * joints) PD gains [kp..., kd...] after startup randomization (critic only)."""
  data = env.scene[asset_cfg.name].data
  return torch.cat([data.joint_stiffness.torch, data.joint_damping.torch], dim=-1)


def contact_forces(env, sensor_cfg: SceneEntityCfg) -> torch.Tensor:
  """(B, 3 * bodies) net contact force [N] of the selected bodies, world frame, flattened."""
  return _net_forces(env, sensor_cfg).flatten(start_dim=1)


def root_height_above_terrain_below_minimum(
  env, minimum_height: float, sensor_cfg: SceneEntityCfg, asset_cfg: SceneEntityCfg = _ROBOT
) -> torch.Tensor:
  """True where the base is less than ``minimum_height`` [m] above the ground under it.

  The ground height is the median of the height scanner's hits (missed rays left out). On the
  generated terrain the sub-terrain origins lie between about -1.2 m (pits) and +1.1 m (CPU, 8 envs),
  so Isaac Lab's world-frame ``root_height_below_minimum`` would end every episode that starts in
  a pit; on the flat plane both are the same.
  """
  hits_z = env.scene.sensors[sensor_cfg.name].data.ray_hits_w.torch[..., 2]
  ground = torch.nanmedian(torch.where(torch.isfinite(hits_z), hits_z, torch.nan), dim=1).values
  return env.scene[asset_cfg.name].data.root_pos_w.torch[:, 2] - ground < minimum_height


def feet_stumble(env, sensor_cfg: SceneEntityCfg, ratio: float = 5.0) -> torch.Tensor:
  """1 when any foot's horizontal contact force exceeds ``ratio`` times its vertical one."""
  force = _net_forces(env, sensor_cfg)
  horizontal = torch.linalg.norm(force[..., :2], dim=-1)
  return torch.any(horizontal > ratio * torch.abs(force[..., 2]), dim=1).float()


def contact_forces_excess(env, sensor_cfg: SceneEntityCfg, max_contact_force: float) -> torch.Tensor:
  """sum over sensed bodies of max(|F| - max_contact_force, 0)."""
  norm = torch.linalg.norm(_net_forces(env, sensor_cfg), dim=-1)
  return torch.sum(torch.clamp(norm - max_contact_force, min=0.0), dim=1)


def feet_slip(
  env,
  sensor_cfg: SceneEntityCfg,
  command_name: str,
  asset_cfg: SceneEntityCfg,
  command_threshold: float = 0.01,
) -> torch.Tensor:
  """sum over feet in contact of |v_xy|^2, while |cmd_xy| + |cmd_wz| > threshold (mjlab's feet_slip).

  mjlab reads the foot sites' velocity; Isaac Lab has no sites, so the ankle-roll links' origin
  velocity stands in (the G1's foot sites sit on those links).
  """
  in_contact = (torch.linalg.norm(_net_forces(env, sensor_cfg), dim=-1) > 0.0).float()
  foot_vel = env.scene[asset_cfg.name].data.body_link_lin_vel_w.torch[:, asset_cfg.body_ids, :2]
  command = _command(env, command_name)
  active = (torch.linalg.norm(command[:, :2], dim=1) + torch.abs(command[:, 2])) > command_threshold
  return torch.sum(torch.sum(torch.square(foot_vel), dim=-1) * in_contact, dim=1) * active.float()


def electrical_power_cost(env, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
  """sum_j max(tau_j * qd_j, 0): positive mechanical power of the actuators (no regen credit)."""
  data = env.scene[asset_cfg.name].data
  power = data.applied_torque.torch[:, asset_cfg.joint_ids] * data.joint_vel.torch[:, asset_cfg.joint_ids]
  return torch.sum(torch.clamp(power, min=0.0), dim=1)


class action_acc_l2(ManagerTermBase):
  """|a_t - 2 a_{t-1} + a_{t-2}|^2 of the raw policy output (Isaac Lab keeps only a_{t-1})."""

  def __init__(self, cfg: RewardTermCfg, env):
    super().__init__(cfg, env)
    self._prev_prev = torch.zeros_like(env.action_manager.action)

  def reset(self, env_ids=None) -> None:
    self._prev_prev[slice(None) if env_ids is None else env_ids] = 0.0

  def __call__(self, env) -> torch.Tensor:
    action, prev = env.action_manager.action, env.action_manager.prev_action
    acc = action - 2.0 * prev + self._prev_prev
    self._prev_prev.copy_(prev)
    return torch.sum(torch.square(acc), dim=1)


class joint_excess_l1(ManagerTermBase):
  """sum_j max(|x_j| - soft_ratio * limit_j, 0) for x = joint velocity or applied torque.

  st_gym's ``dof_vel_limits`` (limits: Unitree's motor speeds) and ``dof_torques_limits``
  (limits: the actuators' effort limits), limits given per joint pattern.
  """

  def __init__(self, cfg: RewardTermCfg, env):
    super().__init__(cfg, env)
    asset = env.scene[cfg.params.get("asset_cfg", _ROBOT).name]
    ids, _, limits = resolve_matching_names_values(cfg.params["limits"], asset.joint_names)
    if len(ids) != len(asset.joint_names):
      missing = sorted(set(asset.joint_names) - {asset.joint_names[i] for i in ids})
      raise ValueError(f"joint_excess_l1: no limit for joints {missing}; add their patterns to 'limits'.")
    if cfg.params["quantity"] not in ("joint_vel", "applied_torque"):
      raise ValueError(
        f"joint_excess_l1: quantity {cfg.params['quantity']!r} is not joint_vel or applied_torque"
      )
    self._ids = torch.tensor(ids, device=env.device)
    self._limit = torch.tensor(limits, device=env.device) * cfg.params.get("soft_ratio", 1.0)

  def __call__(
    self,
    env,
    quantity: str,
    limits: dict[str, float],
    soft_ratio: float = 1.0,
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> torch.Tensor:
    del limits, soft_ratio  # resolved in __init__
    value = getattr(env.scene[asset_cfg.name].data, quantity).torch[:, self._ids]
    return torch.sum(torch.clamp(torch.abs(value) - self._limit, min=0.0), dim=1)


class reward_weight_linear(ManagerTermBase):
  """w(t) = w0 + (weight - w0) * min(t / num_steps, 1), t the env's common_step_counter."""

  def __init__(self, cfg, env):
    super().__init__(cfg, env)
    name = cfg.params["term_name"]
    if name not in env.reward_manager.active_terms:
      raise ValueError(
        f"reward_weight_linear: no reward term {name!r}; active: {env.reward_manager.active_terms}"
      )
    self._name = name
    self._term_cfg = env.reward_manager.get_term_cfg(name)
    self._initial = float(self._term_cfg.weight)

  def __call__(self, env, env_ids, term_name: str, weight: float, num_steps: int) -> float:
    del env_ids, term_name
    frac = min(env.common_step_counter / num_steps, 1.0)
    self._term_cfg.weight = self._initial + (weight - self._initial) * frac
    env.reward_manager.set_term_cfg(self._name, self._term_cfg)
    return self._term_cfg.weight


class body_wrench_pulses(ManagerTermBase):
  """st_gym's ``apply_body_impulse``: per env, a random wrench for a random duration, then a random
  cooldown (world frame, at the bodies' COM), on the selected bodies.

  Isaac Lab's ``apply_external_force_torque`` sets a wrench that stays until the next draw; this
  term keeps st_gym's pulse timing. Use with ``mode="interval"``, ``interval_range_s=(0, 0)`` and
  ``is_global_time=True``: Isaac Lab then calls it every control step for all envs.
  """

  def __init__(self, cfg, env):
    super().__init__(cfg, env)
    p = cfg.params
    self._asset = env.scene[p["asset_cfg"].name]
    self._body_ids = p["asset_cfg"].body_ids
    bodies = self._asset.num_bodies if isinstance(self._body_ids, slice) else len(self._body_ids)
    self._dt = env.step_dt
    n, device = env.num_envs, env.device
    self._active = torch.zeros(n, dtype=torch.bool, device=device)
    self._time_left = torch.zeros(n, device=device)
    self._wrench = torch.zeros(n, bodies, 6, device=device)
    (f_lo, f_hi), (t_lo, t_hi) = p["force_range"], p["torque_range"]
    self._wrench_lo = torch.tensor([f_lo] * 3 + [t_lo] * 3, device=device)
    self._wrench_span = torch.tensor([f_hi] * 3 + [t_hi] * 3, device=device) - self._wrench_lo
    self._duration, self._cooldown = p["duration_s"], p["cooldown_s"]
    self._cooldown_left = self._uniform(self._cooldown, n)

  def _uniform(self, bounds: tuple[float, float], n: int) -> torch.Tensor:
    return torch.rand(n, device=self.device) * (bounds[1] - bounds[0]) + bounds[0]

  def __call__(self, env, env_ids, asset_cfg, force_range, torque_range, duration_s, cooldown_s) -> None:
    del env, env_ids, asset_cfg, force_range, torque_range, duration_s, cooldown_s  # read at init
    n = self._active.shape[0]
    # running pulses tick down; those that reach 0 stop and restart their cooldown
    time_left = self._time_left - self._dt * self._active
    expired = self._active & (time_left <= 0.0)
    active = self._active & ~expired
    cooldown = torch.where(expired, self._uniform(self._cooldown, n), self._cooldown_left) - self._dt
    # idle envs whose cooldown ran out start a new pulse
    start = ~active & (cooldown <= 0.0)
    new = torch.rand_like(self._wrench) * self._wrench_span + self._wrench_lo
    self._wrench = torch.where(start.view(-1, 1, 1), new, self._wrench * active.view(-1, 1, 1))
    self._time_left = torch.where(start, self._uniform(self._duration, n), time_left * active)
    self._cooldown_left = torch.where(start, self._uniform(self._cooldown, n), cooldown)
    self._active = active | start
    self._asset.permanent_wrench_composer.set_forces_and_torques_index(
      forces=self._wrench[..., :3], torques=self._wrench[..., 3:], body_ids=self._body_ids, is_global=True
    )


class DelayedJointPositionAction(JointPositionAction):
  """Joint position targets applied ``latency`` control steps late (st_gym's actuation latency).

  Each env draws its latency from ``cfg.latency_steps`` at reset; the PD targets of step t are
  those the policy produced at step t - latency (a ring buffer of the last max + 1 targets).
  After a reset the buffer is filled with the first target, so the robot holds it.
  """

  cfg: DelayedJointPositionActionCfg

  def __init__(self, cfg: DelayedJointPositionActionCfg, env):
    lo, hi = cfg.latency_steps
    if not 0 <= lo <= hi:
      raise ValueError(f"latency_steps must satisfy 0 <= min <= max, got {cfg.latency_steps}")
    super().__init__(cfg, env)
    self._depth = hi + 1
    self._history = torch.zeros(self.num_envs, self._depth, self.action_dim, device=self.device)
    self._head = 0
    self._latency = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
    self._env_idx = torch.arange(self.num_envs, device=self.device)
    self._fresh = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
    self.reset()

  def process_actions(self, actions: torch.Tensor) -> None:
    super().process_actions(actions)
    self._head = (self._head + 1) % self._depth
    self._history[:, self._head] = self._processed_actions
    fresh = self._fresh.view(-1, 1, 1)  # torch.where: no host-device sync in the step
    self._history = torch.where(fresh, self._processed_actions.unsqueeze(1), self._history)
    self._fresh.zero_()
    self._processed_actions = self._history[self._env_idx, (self._head - self._latency) % self._depth]

  def reset(self, env_ids: Sequence[int] | slice | None = None) -> None:
    super().reset(env_ids)
    ids = slice(None) if env_ids is None else env_ids
    count = self.num_envs if isinstance(ids, slice) else len(ids)
    lo, hi = self.cfg.latency_steps
    self._latency[ids] = torch.randint(lo, hi + 1, (count,), device=self.device)
    self._fresh[ids] = True


@configclass
class DelayedJointPositionActionCfg(JointPositionActionCfg):
  """Joint position action whose targets apply ``latency_steps`` (inclusive range) control steps late."""

  class_type: type = DelayedJointPositionAction
  latency_steps: tuple[int, int] = (0, 0)
