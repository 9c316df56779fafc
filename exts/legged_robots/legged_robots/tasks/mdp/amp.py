"""AMP terms: style features of the robot and of the reference clips, and reference-state init.

Both sides go through one formula: ``style_features(state, fields)`` maps a dict of
robot-state tensors to the per-frame feature vector. ``robot_style_state`` fills the
dict from the simulator, ``clip_style_state`` from a ``MotionLibrary`` sample, so the
discriminator compares like with like (tested: a clip frame written into the sim gives
the library's features to 1e-5).

Features (st_gym's ``style_fields``), in this order when selected:
- ``base_height`` (1): root height above the ground (env origin z; clips: z = 0 ground);
- ``projected_gravity`` (3): gravity in the root frame, a heading-free orientation;
- ``base_lin_vel`` / ``base_ang_vel`` (3 + 3): root velocities in the root frame;
- ``joint_pos`` / ``joint_vel`` (J + J): absolute joint positions and velocities;
- ``key_body_pos`` (3 B): key-body positions relative to the root, in the root frame.

The ``amp`` observation group holds ``amp_obs_frame_num`` consecutive frames of these
(mjlab's term history, oldest first); ``expert_amp_observation`` returns the same
window from random clip times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, get_args

import torch
from mjlab.managers.scene_entity_config import SceneEntityCfg

from legged_robots.tasks.motion import motion_library
from refmotion_manager import MotionFormatError, MotionLibrary
from refmotion_manager.torch_quat import rotate_inverse

if TYPE_CHECKING:
  from mjlab.entity import Entity
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.event_manager import EventTermCfg
  from mjlab.managers.observation_manager import ObservationTermCfg

StyleField = Literal[
  "base_height", "projected_gravity", "base_lin_vel", "base_ang_vel", "joint_pos", "joint_vel", "key_body_pos"
]
STYLE_FIELDS: tuple[StyleField, ...] = get_args(StyleField)
DEFAULT_STYLE_FIELDS: tuple[StyleField, ...] = STYLE_FIELDS[:6]
AMP_GROUP = "amp"
AMP_TERM = "style"
_ROBOT = SceneEntityCfg("robot")


def check_style_fields(fields: Sequence[str], key_body_names: Sequence[str]) -> None:
  """Raise ValueError naming the valid fields for an unknown one, or key bodies missing."""
  unknown = [f for f in fields if f not in STYLE_FIELDS]
  if unknown:
    raise ValueError(f"unknown AMP style field(s) {unknown}; valid fields: {list(STYLE_FIELDS)}")
  if not fields:
    raise ValueError(f"no AMP style fields selected; choose from {list(STYLE_FIELDS)}")
  if "key_body_pos" in fields and not key_body_names:
    raise ValueError("style field 'key_body_pos' needs key_body_names (e.g. the feet and hands)")


def check_window_fits(library: MotionLibrary, num_frames: int, step_dt: float) -> None:
  """Raise MotionFormatError for a clip shorter than one AMP window ((K - 1) control steps)."""
  span = (max(num_frames, 1) - 1) * step_dt
  for name, duration in zip(library.names, library.duration.tolist(), strict=True):
    if duration < span - 1e-6:
      raise MotionFormatError(
        name,
        "duration",
        f"{duration:.3f} s is shorter than the AMP window ({num_frames} frames x {step_dt:g} s apart)",
        "drop the clip or lower amp_obs_frame_num",
      )


def projected_gravity(quat: torch.Tensor) -> torch.Tensor:
  """R(q)^T (0, 0, -1): minus the third row of R(q), in closed form (no constant tensor)."""
  w, x, y, z = quat.unbind(-1)
  return torch.stack([2.0 * (w * y - x * z), -2.0 * (y * z + w * x), 2.0 * (x * x + y * y) - 1.0], dim=-1)


def style_features(state: dict[str, torch.Tensor], fields: Sequence[str]) -> torch.Tensor:
  """Per-frame style features (..., D) from a style state (see the module docstring)."""
  parts = {
    "base_height": lambda: state["base_height"],
    "projected_gravity": lambda: projected_gravity(state["root_quat"]),
    "base_lin_vel": lambda: state["base_lin_vel"],
    "base_ang_vel": lambda: state["base_ang_vel"],
    "joint_pos": lambda: state["joint_pos"],
    "joint_vel": lambda: state["joint_vel"],
    "key_body_pos": lambda: state["key_body_pos"].flatten(-2),
  }
  return torch.cat([parts[f]() for f in fields], dim=-1)


def robot_style_state(
  env: ManagerBasedRlEnv, asset: Entity, key_body_ids: Sequence[int] | None
) -> dict[str, torch.Tensor]:
  """The style state of every env, read from the simulator."""
  data = asset.data
  quat = data.root_link_quat_w
  vel_b = rotate_inverse(
    quat.unsqueeze(1), torch.stack([data.root_link_lin_vel_w, data.root_link_ang_vel_w], 1)
  )
  state = {
    "base_height": (data.root_link_pos_w[:, 2] - env.scene.env_origins[:, 2]).unsqueeze(-1),
    "root_quat": quat,
    "base_lin_vel": vel_b[:, 0],
    "base_ang_vel": vel_b[:, 1],
    "joint_pos": data.joint_pos,
    "joint_vel": data.joint_vel,
  }
  if key_body_ids:
    rel = data.body_link_pos_w[:, key_body_ids] - data.root_link_pos_w.unsqueeze(1)
    state["key_body_pos"] = rotate_inverse(quat.unsqueeze(1).expand(-1, len(key_body_ids), -1), rel)
  return state


def clip_style_state(sample: dict[str, torch.Tensor], with_bodies: bool) -> dict[str, torch.Tensor]:
  """The style state of a ``MotionLibrary.sample``/``sample_amp_window`` result."""
  state = {
    "base_height": sample["root_pos"][..., 2:3],
    "root_quat": sample["root_quat"],
    "base_lin_vel": sample["root_lin_vel_b"],
    "base_ang_vel": sample["root_ang_vel_b"],
    "joint_pos": sample["joint_pos"],
    "joint_vel": sample["joint_vel"],
  }
  if with_bodies:
    state["key_body_pos"] = sample["body_pos_b"]
  return state


class amp_style_features:
  """Observation term: the current frame's style features, (num_envs, D).

  Put it alone in the ``amp`` group with ``history_length = amp_obs_frame_num``.
  """

  def __init__(self, cfg: ObservationTermCfg, env: ManagerBasedRlEnv):
    fields = tuple(cfg.params.get("fields", DEFAULT_STYLE_FIELDS))
    key_bodies = tuple(cfg.params.get("key_body_names", ()))
    check_style_fields(fields, key_bodies)
    asset_cfg: SceneEntityCfg = cfg.params.get("asset_cfg", _ROBOT)
    self._asset: Entity = env.scene[asset_cfg.name]
    self._key_body_ids = self._asset.find_bodies(key_bodies, preserve_order=True)[0] if key_bodies else None
    check_window_fits(motion_library(env), cfg.history_length, env.step_dt)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    fields: Sequence[str] = DEFAULT_STYLE_FIELDS,
    key_body_names: Sequence[str] = (),
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> torch.Tensor:
    del key_body_names, asset_cfg  # Resolved at init.
    return style_features(robot_style_state(env, self._asset, self._key_body_ids), fields)

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    del env_ids


def _turn(quat: torch.Tensor, vec: torch.Tensor, yaw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
  """qz(yaw) * quat and Rz(yaw) vec, for (N, 4), (N, 3) and (N,), in closed form."""
  half = 0.5 * yaw.unsqueeze(-1)
  w, x, y, z = quat.unbind(-1)
  turned = torch.cos(half) * quat + torch.sin(half) * torch.stack([-z, -y, x, w], dim=-1)
  c, s = torch.cos(yaw), torch.sin(yaw)
  vx, vy, vz = vec.unbind(-1)
  return turned, torch.stack([c * vx - s * vy, s * vx + c * vy, vz], dim=-1)


def expert_amp_observation(env: ManagerBasedRlEnv, num_samples: int) -> torch.Tensor:
  """(num_samples, K * D) windows of reference style features at random clip times.

  K, the fields and the key bodies are read from the env's ``amp`` group, and frames are
  one control step apart, so expert windows and policy windows are built alike.
  """
  group = env.cfg.observations[AMP_GROUP]
  term = group.terms[AMP_TERM]
  num_frames = max(int(group.history_length or term.history_length), 1)
  fields = tuple(term.params.get("fields", DEFAULT_STYLE_FIELDS))
  library = motion_library(env)
  clip_ids = library.sample_clip_ids(num_samples)
  span = (num_frames - 1) * env.step_dt
  times = library.sample_times(clip_ids, truncate_s=span) + span
  window = library.sample_amp_window(clip_ids, times, num_frames, env.step_dt)
  features = style_features(clip_style_state(window, "key_body_pos" in fields), fields)
  return features.flatten(1)


class reset_from_motion:
  """Reference state init: put ``fraction`` of the reset envs into random clip frames.

  Root pose (x, y at the env origin; z from the clip + ``height_offset``), root velocity
  and joint state come from a stored clip frame (uniform over the clip's frames, no
  interpolation); the heading is turned by a random yaw in ``yaw_range`` (velocities
  turned with it). Use as the last reset event, after the default-pose resets that the
  other envs keep.

  It runs at nearly every step of a large batch, so it is written for few kernel
  launches: masks instead of index lists (no host sync), the turn in closed form, and
  one write of qpos and one of qvel in the free joint's own layout (world linear, body
  angular velocity; a turn of the whole state leaves body-frame vectors unchanged).
  """

  def __init__(self, cfg: EventTermCfg, env: ManagerBasedRlEnv):
    fraction = cfg.params.get("fraction", 0.5)
    if not 0.0 <= fraction <= 1.0:
      raise ValueError(f"reset_from_motion: fraction {fraction} is outside [0, 1]")
    self._library = motion_library(env)
    self._asset: Entity = env.scene[cfg.params.get("asset_cfg", _ROBOT).name]
    index = self._asset.indexing
    # The library's joints are the robot's, in its order (motion_library maps them).
    self._q_adr = torch.cat([index.free_joint_q_adr, index.joint_q_adr]).to(env.device)
    self._v_adr = torch.cat([index.free_joint_v_adr, index.joint_v_adr]).to(env.device)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    env_ids: torch.Tensor | None,
    fraction: float = 0.5,
    yaw_range: tuple[float, float] = (-torch.pi, torch.pi),
    height_offset: float = 0.0,
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> None:
    del asset_cfg  # Resolved at init.
    if env_ids is None:
      env_ids = torch.arange(env.num_envs, device=env.device)
    # Every reset env gets a clip state and keeps it where a coin says so; the others keep
    # the state the default-pose events wrote (in qpos/qvel).
    n = len(env_ids)
    keep = torch.rand(n, 1, device=env.device) < fraction
    library = self._library
    clip_ids = library.sample_clip_ids(n)
    state = library.frames(clip_ids, library.sample_frame_ids(clip_ids))
    yaw = torch.rand(n, device=env.device) * (yaw_range[1] - yaw_range[0]) + yaw_range[0]
    quat, lin_vel = _turn(state["root_quat"], state["root_lin_vel_w"], yaw)
    ang_vel_b = rotate_inverse(state["root_quat"], state["root_ang_vel_w"])
    pos = env.scene.env_origins[env_ids] + torch.nn.functional.pad(
      state["root_pos"][:, 2:] + height_offset, (2, 0)
    )
    new_qpos = torch.cat([pos, quat, state["joint_pos"]], dim=1)
    new_qvel = torch.cat([lin_vel, ang_vel_b, state["joint_vel"]], dim=1)
    sim, rows = self._asset.data.data, env_ids.unsqueeze(1)
    sim.qpos[rows, self._q_adr] = torch.where(keep, new_qpos, sim.qpos[rows, self._q_adr])
    sim.qvel[rows, self._v_adr] = torch.where(keep, new_qvel, sim.qvel[rows, self._v_adr])

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    del env_ids
