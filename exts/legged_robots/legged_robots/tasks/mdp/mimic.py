"""Mimic terms on a ``MotionCommand``: future goals, tracking rewards, adaptive terminations.

Joint groups are name patterns resolved on the robot when the env is built (a group that
matches no joint is an error): st_gym's upper (waist + arms), lower (hips + knees) and
feet (ankles) groups are ``UPPER_JOINTS``, ``LOWER_JOINTS``, ``FEET_JOINTS``.

Rewards ``track_<group>_joint_{pos,vel}_exp`` = exp(-mse / sigma), mse the mean over the
group's joints of the squared error to the command's reference frame (rad^2 or
(rad/s)^2). sigma is fixed, or adaptive per term and env (st_gym's rule, with bounds per
term): after each evaluation sigma <- clamp(0.95 sigma + 0.075 mse, sigma_min, sigma_max).
``track_link_exp`` (``track_link_{pos,vel,quat,ang_vel}_exp``: links of
``env.motion.body_names``, whose reference poses the library computes by forward kinematics
of the clip frames through the robot's own MuJoCo model, once when it is built) and
``track_root_quat_exp`` use the same kernel and sigma rule. ``link_height_error_above`` is
BeyondMimic's end-effector termination.

Terminations use the root-mean-square joint error in rad (st_gym's thresholds are in
mean squared rad: its lower 0.3 / 1.5 and upper 0.2 / 1.5 become sqrt: 0.548 / 1.225 and
0.447 / 1.225 rad here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import torch
from mjlab.utils.lab_api.math import quat_apply_inverse, quat_error_magnitude, quat_inv, quat_mul, yaw_quat

from legged_robots.tasks.errors import TermCfgError
from legged_robots.tasks.mdp.motion_command import MotionCommand, planar, resolve_joints

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.reward_manager import RewardTermCfg
  from mjlab.managers.termination_manager import TerminationTermCfg

UPPER_JOINTS = (r"waist_.*_joint", r".*_shoulder_.*_joint", r".*_elbow_joint", r".*_wrist_.*_joint")
LOWER_JOINTS = (r".*_hip_.*_joint", r".*_knee_joint")
FEET_JOINTS = (r".*_ankle_.*_joint",)
Field = Literal["joint_pos", "joint_vel"]
LinkField = Literal["pos", "vel", "quat", "ang_vel"]
_LINK_DATA = {
  "vel": ("body_link_lin_vel_w", "body_lin_vel_w"),
  "quat": ("body_link_quat_w", "body_quat_w"),
  "ang_vel": ("body_link_ang_vel_w", "body_ang_vel_w"),
}
"""(robot entity data, library sample) keys of the link fields other than ``pos``."""


def _motion(env: ManagerBasedRlEnv, command_name: str) -> MotionCommand:
  term = env.command_manager.get_term(command_name)
  if not isinstance(term, MotionCommand):
    raise TermCfgError(f"command '{command_name}' is a {type(term).__name__}, not a MotionCommand")
  return term


def motion_goal_future(env: ManagerBasedRlEnv, command_name: str, steps: int) -> torch.Tensor:
  """The command's goal ``steps`` control steps after the next frame, (num_envs, 2 J)."""
  motion = _motion(env, command_name)
  return motion.goal(motion.sample(motion.time + steps * env.step_dt))


def joint_mse(motion: MotionCommand, ids: list[int], field: Field) -> torch.Tensor:
  """Mean over ``ids`` of (robot - reference)^2 of ``field``, (num_envs,)."""
  robot = getattr(motion.asset.data, field)[:, ids]
  return (robot - motion.reference[field][:, ids]).pow(2).mean(dim=1)


class _adaptive_exp:
  """exp(-mse / sigma) with a fixed sigma, or with st_gym's adaptive sigma per env and
  this term's own bounds when the params give ``sigma_range`` (module docstring)."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    p = cfg.params
    lo, hi = p.get("sigma_range") or (p["sigma"], p["sigma"])
    if not 0.0 < lo <= hi:
      name = type(self).__name__
      raise TermCfgError(f"{name}: sigma range ({lo}, {hi}) must satisfy 0 < min <= max")
    self._bounds = (lo, hi)
    self._adaptive = p.get("sigma_range") is not None
    self._sigma = torch.full((env.num_envs,), float(p["sigma"]), device=env.device).clamp_(lo, hi)

  def kernel(self, mse: torch.Tensor) -> torch.Tensor:
    reward = torch.exp(-mse / self._sigma)
    if self._adaptive:
      self._sigma = (0.95 * self._sigma + 0.075 * mse).clamp_(*self._bounds)
    return reward

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    del env_ids  # sigma adapts over training, not per episode


class track_joint_exp(_adaptive_exp):
  """exp(-mse / sigma) of a joint group's positions or velocities (module docstring)."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg, env)
    motion = _motion(env, cfg.params["command_name"])
    self._ids = resolve_joints(motion.asset, tuple(cfg.params["joint_names"]), "track_joint_exp")

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    command_name: str,
    joint_names: tuple[str, ...],
    field: Field = "joint_pos",
    sigma: float = 0.5,
    sigma_range: tuple[float, float] | None = None,
  ) -> torch.Tensor:
    del joint_names, sigma, sigma_range  # Resolved at init.
    return self.kernel(joint_mse(_motion(env, command_name), self._ids, field))


def resolve_links(
  motion: MotionCommand, body_names: tuple[str, ...], what: str
) -> tuple[list[int], list[int]]:
  """(robot body ids, reference body columns) of ``body_names``; a body the robot or the
  motion library lacks is an error naming the fix."""
  library = motion.library.body_names
  missing = [b for b in body_names if b not in library or b not in motion.asset.body_names]
  if missing or not body_names:
    raise TermCfgError(
      f"{what}: bodies {missing or list(body_names)} are not served by the motion library "
      f"(env.motion.body_names={list(library)}) or not on the robot; add them to "
      "env.motion.body_names (the library computes their poses by forward kinematics)"
    )
  return [motion.asset.body_names.index(b) for b in body_names], [library.index(b) for b in body_names]


def _heading_frame(quat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
  """(N, B, 3) world vectors, or (N, B, 4) world orientations (wxyz), in the heading
  (yaw-only) frame of each env's root ``quat``."""
  heading = yaw_quat(quat).unsqueeze(1).expand(-1, x.shape[1], -1)
  return quat_mul(quat_inv(heading), x) if x.shape[-1] == 4 else quat_apply_inverse(heading, x)


def link_states(
  motion: MotionCommand,
  ids: list[int],
  cols: list[int],
  field: LinkField,
  reference: dict[str, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
  """(robot, reference) link positions, linear velocities, angular velocities (N, B, 3) or
  orientations (N, B, 4), each in its own root's heading frame: positions with x, y
  relative to the root and z the height (as BeyondMimic aligns the reference to the
  robot's anchor by yaw and xy). The reference is the command's current frame unless
  another (a saved one) is given."""
  data, ref = motion.asset.data, motion.reference if reference is None else reference
  if field == "pos":
    robot = data.body_link_pos_w[:, ids] - planar(data.root_link_pos_w).unsqueeze(1)
    target = ref["body_pos_w"][:, cols] - planar(ref["root_pos"]).unsqueeze(1)
  else:
    robot_key, ref_key = _LINK_DATA[field]
    robot, target = getattr(data, robot_key)[:, ids], ref[ref_key][:, cols]
  return _heading_frame(data.root_link_quat_w, robot), _heading_frame(ref["root_quat"], target)


class track_link_exp(_adaptive_exp):
  """exp(-mse / sigma), mse the mean over links of the squared error in the root's heading
  frame (``link_states``): ||robot - reference||^2 of positions (m^2), linear velocities
  ((m/s)^2) or angular velocities ((rad/s)^2), or the squared angle of the rotation
  between robot and reference orientation (``quat``, rad^2).

  Orientations and angular velocities are compared in each root's heading frame, as the
  positions: BeyondMimic turns the reference's orientations by the yaw between the anchors
  (torso), which gives the same angle up to the anchors' tilt, and compares angular
  velocities in the world, which differs from this only when robot and reference headings
  differ (here a heading error does not count twice: ``track_root_rotation_exp`` has it)."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg, env)
    motion = _motion(env, cfg.params["command_name"])
    self._ids, self._cols = resolve_links(motion, tuple(cfg.params["body_names"]), "track_link_exp")

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    command_name: str,
    body_names: tuple[str, ...],
    field: LinkField = "pos",
    sigma: float = 0.1,
    sigma_range: tuple[float, float] | None = None,
  ) -> torch.Tensor:
    del body_names, sigma, sigma_range  # Resolved at init.
    robot, reference = link_states(_motion(env, command_name), self._ids, self._cols, field)
    if field == "quat":
      return self.kernel(quat_error_magnitude(robot, reference).pow(2).mean(dim=-1))
    return self.kernel((robot - reference).pow(2).sum(dim=-1).mean(dim=-1))


class link_height_error_above:
  """Terminate when any link's height is more than ``threshold`` (m) off its reference's
  (BeyondMimic's end-effector termination, ``bad_motion_body_pos_z_only``: its yaw and xy
  alignment of the reference leaves heights as they are, so both compare world z)."""

  def __init__(self, cfg: TerminationTermCfg, env: ManagerBasedRlEnv):
    motion = _motion(env, cfg.params["command_name"])
    self._ids, self._cols = resolve_links(motion, tuple(cfg.params["body_names"]), "link_height_error_above")

  def __call__(
    self, env: ManagerBasedRlEnv, command_name: str, body_names: tuple[str, ...], threshold: float
  ) -> torch.Tensor:
    del body_names  # Resolved at init.
    # Heights: the same in the world and in link_states' heading frames (no rotation needed).
    motion = _motion(env, command_name)
    robot = motion.asset.data.body_link_pos_w[:, self._ids, 2]
    reference = motion.reference["body_pos_w"][:, self._cols, 2]
    return ((robot - reference).abs() > threshold).any(dim=-1)

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    del env_ids


class track_root_quat_exp(_adaptive_exp):
  """exp(-mse / sigma), mse the mean over w, x, y, z of (q_root - q_ref)^2 with q_ref's sign
  taken to match (q and -q are one orientation); ~ angle^2 / 16 for small angles."""

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    command_name: str,
    sigma: float = 0.01,
    sigma_range: tuple[float, float] | None = None,
  ) -> torch.Tensor:
    del sigma, sigma_range  # Read at init.
    motion = _motion(env, command_name)
    q, ref = motion.asset.data.root_link_quat_w, motion.reference["root_quat"]
    sign = torch.where((q * ref).sum(dim=-1, keepdim=True) < 0, -1.0, 1.0)
    return self.kernel((q - sign * ref).pow(2).mean(dim=-1))


class tracking_error_adaptive_termination:
  """Terminate when a group's RMS joint error (rad) exceeds a threshold that falls linearly
  from ``max_error`` at the episode start to ``min_error`` at its time limit."""

  def __init__(self, cfg: TerminationTermCfg, env: ManagerBasedRlEnv):
    p = cfg.params
    motion = _motion(env, p["command_name"])
    self._ids = resolve_joints(motion.asset, tuple(p["joint_names"]), "tracking_error_adaptive_termination")
    if not 0.0 < p["min_error"] <= p["max_error"]:
      raise TermCfgError(
        f"tracking termination: need 0 < min_error <= max_error, got {p['min_error']}, {p['max_error']}"
      )

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    command_name: str,
    joint_names: tuple[str, ...],
    min_error: float,
    max_error: float,
  ) -> torch.Tensor:
    del joint_names  # Resolved at init.
    error = joint_mse(_motion(env, command_name), self._ids, "joint_pos").sqrt()
    progress = env.episode_length_buf.float() / env.max_episode_length
    return error > max_error - (max_error - min_error) * progress.clamp(max=1.0)

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    del env_ids


# Whole-body tracking: the root against the reference (world frame, clip moved to the env).


def _root_errors(env: ManagerBasedRlEnv, command_name: str) -> dict[str, torch.Tensor]:
  motion = _motion(env, command_name)
  data, ref = motion.asset.data, motion.reference
  dot = (data.root_link_quat_w * ref["root_quat"]).sum(dim=-1).abs().clamp(max=1.0)
  return {
    "pos": (data.root_link_pos_w - motion.reference_root_pos_w).pow(2).sum(dim=-1),
    "height": (data.root_link_pos_w[:, 2] - motion.reference_root_pos_w[:, 2]).abs(),
    "angle": 2.0 * torch.acos(dot),
    "lin_vel": (data.root_link_lin_vel_w - ref["root_lin_vel_w"]).pow(2).sum(dim=-1),
    "ang_vel": (data.root_link_ang_vel_w - ref["root_ang_vel_w"]).pow(2).sum(dim=-1),
  }


def track_root_pos_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
  """exp(-||p_root - p_ref||^2 / std^2), world frame (m)."""
  return torch.exp(-_root_errors(env, command_name)["pos"] / std**2)


def track_root_rotation_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
  """exp(-angle(q_root, q_ref)^2 / std^2), the rotation between the orientations (rad)."""
  return torch.exp(-_root_errors(env, command_name)["angle"].pow(2) / std**2)


def track_root_lin_vel_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
  """exp(-||v_root - v_ref||^2 / std^2), world frame (m/s)."""
  return torch.exp(-_root_errors(env, command_name)["lin_vel"] / std**2)


def track_root_ang_vel_exp(env: ManagerBasedRlEnv, command_name: str, std: float) -> torch.Tensor:
  """exp(-||w_root - w_ref||^2 / std^2), world frame (rad/s)."""
  return torch.exp(-_root_errors(env, command_name)["ang_vel"] / std**2)


def root_height_error_above(env: ManagerBasedRlEnv, command_name: str, threshold: float) -> torch.Tensor:
  """Terminate when |z_root - z_ref| > threshold (m) (BeyondMimic's anchor-height check)."""
  return _root_errors(env, command_name)["height"] > threshold


def root_rotation_error_above(env: ManagerBasedRlEnv, command_name: str, threshold: float) -> torch.Tensor:
  """Terminate when the root is turned more than threshold (rad) from the reference."""
  return _root_errors(env, command_name)["angle"] > threshold


def motion_ended(env: ManagerBasedRlEnv, command_name: str) -> torch.Tensor:
  """The clip (not looped) has no frame left for the next step: a time-out."""
  motion = _motion(env, command_name)
  return motion.time > motion.library.duration[motion.clip_ids] + 1e-6
