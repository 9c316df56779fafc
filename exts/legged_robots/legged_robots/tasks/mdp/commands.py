"""mjlab's uniform velocity command without host-device syncs.

mjlab's ``UniformVelocityCommand`` finds the envs to resample, the heading-controlled and
the standing envs with ``nonzero()`` and reports its metrics with ``.item()``: five
syncs per env step and three per reset, each a stall of the CPU until the GPU is idle.
This subclass updates every env with masked tensor math instead. The command, its
distribution and its timing are mjlab's; only the random stream differs.

With ``motion_command`` set, the command is st_gym's ``BaseVelocityCommand``: the sampled
(vx, vy, wz) is an offset added to the base velocity of the env's reference clip, so a
robot that mimics a walking clip is asked to walk as the clip does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from mjlab.tasks.velocity.mdp.velocity_command import UniformVelocityCommand as _MjlabCommand
from mjlab.tasks.velocity.mdp.velocity_command import UniformVelocityCommandCfg as _MjlabCommandCfg
from mjlab.utils.lab_api.math import quat_apply_inverse, wrap_to_pi

from legged_robots.tasks.errors import TermCfgError
from legged_robots.tasks.mdp.motion_command import MotionCommand

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


def clip_base_velocity(reference: dict[str, torch.Tensor]) -> torch.Tensor:
  """(N, 3) a clip root's (vx, vy, wz) in its own frame, from ``MotionLibrary.sample`` states."""
  lin = quat_apply_inverse(reference["root_quat"], reference["root_lin_vel_w"])
  ang = quat_apply_inverse(reference["root_quat"], reference["root_ang_vel_w"])
  return torch.cat([lin[:, :2], ang[:, 2:]], dim=1)


@dataclass(kw_only=True)
class UniformVelocityCommandCfg(_MjlabCommandCfg):
  """mjlab's velocity command cfg; builds the sync-free command."""

  motion_command: str | None = None
  """Name of a ``MotionCommand`` whose clip base velocity is added to the sampled command:
  the clip root's (vx, vy) and yaw rate in its own frame at the command's current frame
  (st_gym's ``BaseVelocityCommand``). None (default): the sampled command alone."""

  def build(self, env: ManagerBasedRlEnv) -> UniformVelocityCommand:
    if self.init_velocity_prob > 0.0:
      raise TermCfgError(
        "st_gym's UniformVelocityCommand does not start envs at their commanded velocity "
        f"(init_velocity_prob={self.init_velocity_prob}); use mjlab's "
        "mjlab.tasks.velocity.mdp.UniformVelocityCommandCfg for that."
      )
    return UniformVelocityCommand(self, env)


class UniformVelocityCommand(_MjlabCommand):
  """Body-frame (vx, vy, wz) command; resampled, heading-steered and zeroed with masks."""

  cfg: UniformVelocityCommandCfg

  def __init__(self, cfg: UniformVelocityCommandCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg, env)
    r = cfg.ranges
    # One uniform draw per resample: [timer, vx, vy, wz, heading, 4 env-kind coins].
    bounds = [cfg.resampling_time_range, r.lin_vel_x, r.lin_vel_y, r.ang_vel_z, r.heading or (0.0, 0.0)]
    bounds += [(0.0, 1.0)] * 4
    lo, hi = torch.tensor(bounds, device=self.device).unbind(1)
    self._lo, self._span = lo, hi - lo
    self._kind_rates = torch.tensor(
      [cfg.rel_heading_envs, cfg.rel_standing_envs, cfg.rel_world_envs, cfg.rel_forward_envs],
      device=self.device,
    )
    self._forward_keep = torch.tensor([1.0, 0.0, 0.0], device=self.device)
    self._wz_range = r.ang_vel_z
    self._motion: MotionCommand | None = None

  @property
  def command(self) -> torch.Tensor:
    """(num_envs, 3) body-frame (vx, vy, wz): the sampled command, plus the clip's base
    velocity when ``motion_command`` is set."""
    if self.cfg.motion_command is None:
      return self.vel_command_b
    return self.vel_command_b + self.clip_velocity()

  def clip_velocity(self) -> torch.Tensor:
    """(num_envs, 3) the reference clip root's (vx, vy, wz) in its own frame, at the motion
    command's current frame (the one rewards compare with; observations see the next)."""
    if self._motion is None:  # the motion command may be built after this one
      manager, name = self._env.command_manager, str(self.cfg.motion_command)
      term = manager.get_term(name) if name in manager.active_terms else None
      if not isinstance(term, MotionCommand):
        raise TermCfgError(
          f"velocity command: motion_command '{name}' is not a MotionCommand of this task "
          f"(commands: {manager.active_terms}); name the motion command or set motion_command=None"
        )
      self._motion = term
    return clip_base_velocity(self._motion.reference)

  def _update_metrics(self) -> None:
    """mjlab's episode-mean errors, against ``command`` (the clip velocity included)."""
    steps = self.cfg.resampling_time_range[1] / self._env.step_dt
    command, data = self.command, self.robot.data
    self.metrics["error_vel_xy"] += (command[:, :2] - data.root_link_lin_vel_b[:, :2]).norm(dim=-1) / steps
    self.metrics["error_vel_yaw"] += (command[:, 2] - data.root_link_ang_vel_b[:, 2]).abs() / steps

  def compute(self, dt: float | torch.Tensor, env_ids: torch.Tensor | None = None) -> None:
    if env_ids is not None:  # env.reset(env_ids): mjlab's indexed path.
      super().compute(dt, env_ids)
      return
    self._update_metrics()
    self.time_left -= dt
    self._resample_where(self.time_left <= 0.0)
    self._update_command(None)
    if self._joystick_enabled is not None and self._joystick_enabled.value:
      assert self._joystick_get_env_idx is not None
      idx = self._joystick_get_env_idx()
      for i, s in enumerate(self._joystick_sliders):
        self.vel_command_b[idx, i] = s.value

  def reset(self, env_ids: torch.Tensor | slice | None) -> dict[str, torch.Tensor]:  # pyright: ignore[reportIncompatibleMethodOverride]
    """Log the finished episodes' mean errors (as tensors: no ``.item()``) and resample."""
    ids = slice(None) if env_ids is None else env_ids
    extras = {name: value[ids].mean() for name, value in self.metrics.items()}
    for value in self.metrics.values():
      value[ids] = 0.0
    self.command_counter[ids] = 0
    due = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
    due[ids] = True
    self._resample_where(due)
    return extras

  def _resample_where(self, due: torch.Tensor) -> None:
    """mjlab's ``_resample`` + ``_resample_command`` for the envs where ``due`` is True."""
    u = torch.rand(self.num_envs, self._lo.shape[0], device=self.device) * self._span + self._lo
    heading, standing, world, forward = (u[:, 5:] <= self._kind_rates).unbind(1)
    sampled = u[:, 1:4]
    # Forward envs walk straight ahead: |vx| >= 0.3, no lateral or yaw command.
    command = torch.where(forward[:, None], sampled.abs().clamp(min=0.3) * self._forward_keep, sampled)
    col = due[:, None]
    torch.where(col, command, self.vel_command_b, out=self.vel_command_b)
    torch.where(col, sampled, self.vel_command_w, out=self.vel_command_w)  # mjlab: before the fix.
    torch.where(due, u[:, 0], self.time_left, out=self.time_left)
    if self.cfg.heading_command:
      torch.where(due, u[:, 4], self.heading_target, out=self.heading_target)
      torch.where(due, heading, self.is_heading_env, out=self.is_heading_env)
    torch.where(due, standing, self.is_standing_env, out=self.is_standing_env)
    torch.where(due, world, self.is_world_env, out=self.is_world_env)
    torch.where(due, forward, self.is_forward_env, out=self.is_forward_env)
    self.command_counter += due

  def _update_command(self, env_ids: torch.Tensor | None = None) -> None:
    del env_ids  # As mjlab: a pure function of the state, for all envs.
    cmd = self.vel_command_b
    heading_w = self.robot.data.heading_w
    if self.cfg.heading_command:
      self.heading_error = wrap_to_pi(self.heading_target - heading_w)
      wz = torch.clip(self.cfg.heading_control_stiffness * self.heading_error, *self._wz_range)
      torch.where(self.is_heading_env, wz, cmd[:, 2], out=cmd[:, 2])
    if self.cfg.rel_world_envs > 0.0:  # mjlab checks is_world_env.any(); False unless > 0.
      cos_h, sin_h = torch.cos(heading_w), torch.sin(heading_w)
      vx_w, vy_w = self.vel_command_w[:, 0], self.vel_command_w[:, 1]
      world_b = torch.stack([cos_h * vx_w + sin_h * vy_w, -sin_h * vx_w + cos_h * vy_w], dim=1)
      torch.where(self.is_world_env[:, None], world_b, cmd[:, :2], out=cmd[:, :2])
    moving = ~self.is_standing_env[:, None]
    cmd.mul_(moving)
    self.vel_command_w.mul_(moving)
