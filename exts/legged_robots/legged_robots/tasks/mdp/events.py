"""Event terms st_gym adds to mjlab's domain randomization."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.envs.mdp.dr._core import _randomize_model_field
from mjlab.managers.event_manager import requires_model_fields
from mjlab.managers.scene_entity_config import SceneEntityCfg

if TYPE_CHECKING:
  from mjlab.entity import Entity
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.managers.event_manager import EventTermCfg

_ROBOT = SceneEntityCfg("robot")


@requires_model_fields("geom_solref")
def geom_restitution(
  env: ManagerBasedRlEnv,
  env_ids: torch.Tensor | None,
  dampratio_range: tuple[float, float],
  asset_cfg: SceneEntityCfg = _ROBOT,
) -> None:
  """Randomize contact bounciness through the damping ratio of the geoms' solref.

  MuJoCo has no restitution coefficient: a soft contact is a mass-spring-damper with
  solref = (timeconst, dampratio). dampratio 1 is critically damped (no bounce); values
  below 1 let the contact rebound, which is how restitution is randomized here.
  """
  _randomize_model_field(
    env,
    env_ids,
    "geom_solref",
    entity_type="geom",
    ranges=dampratio_range,
    operation="abs",
    asset_cfg=asset_cfg,
    axes=[1],
    default_axes=[1],
    valid_axes=[0, 1],
  )


class apply_body_impulse:
  """mjlab's ``apply_body_impulse`` (random wrench for a random duration, then a random
  cooldown, per env) computed with masks instead of index lists: no host-device sync.

  mjlab's version asks ``if expired.any()`` / ``if eligible.any()`` and gathers env ids
  with ``nonzero()`` every step, which stalls the CPU until the GPU has finished the
  physics. Here every env runs the same tensor program each step and the wrench buffer
  is written whole. Timing matches mjlab's step for step (see the tests); only the
  random stream differs. Use with ``mode="step"``.
  """

  def __init__(self, cfg: EventTermCfg, env: ManagerBasedRlEnv):
    asset_cfg: SceneEntityCfg = cfg.params["asset_cfg"]
    self._asset: Entity = env.scene[asset_cfg.name]
    # A list, a device tensor (DeviceSceneEntityCfg: no host sync when writing) or a slice.
    self._body_ids = asset_cfg.body_ids
    num_bodies = self._asset.num_bodies if isinstance(self._body_ids, slice) else len(self._body_ids)
    self._dt = env.step_dt
    n, device = env.num_envs, env.device
    self._active = torch.zeros(n, dtype=torch.bool, device=device)
    self._time_left = torch.zeros(n, device=device)
    self._wrench = torch.zeros(n, num_bodies, 6, device=device)
    # One uniform draw per step gives every random number: [cooldown on expiry, wrench,
    # duration, cooldown on trigger]; bounds are laid out the same way.
    (f_lo, f_hi), (t_lo, t_hi) = cfg.params["force_range"], cfg.params["torque_range"]
    wrench_lo = torch.tensor([f_lo] * 3 + [t_lo] * 3).repeat(num_bodies)
    wrench_hi = torch.tensor([f_hi] * 3 + [t_hi] * 3).repeat(num_bodies)
    (c_lo, c_hi), (d_lo, d_hi) = cfg.params["cooldown_s"], cfg.params["duration_s"]
    lo = torch.cat([torch.tensor([c_lo]), wrench_lo, torch.tensor([d_lo, c_lo])])
    hi = torch.cat([torch.tensor([c_hi]), wrench_hi, torch.tensor([d_hi, c_hi])])
    self._lo, self._span = lo.to(device), (hi - lo).to(device)
    self._cooldown_left = self._cooldown(n)

  def _cooldown(self, n: int) -> torch.Tensor:
    return torch.rand(n, device=self._lo.device) * self._span[0] + self._lo[0]

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    env_ids: torch.Tensor | None,
    force_range: tuple[float, float],
    torque_range: tuple[float, float],
    duration_s: tuple[float, float],
    cooldown_s: tuple[float, float],
    asset_cfg: SceneEntityCfg,
  ) -> None:
    del env, env_ids, force_range, torque_range, duration_s, cooldown_s, asset_cfg  # Read at init.
    u = torch.rand_like(self._lo.expand(self._active.shape[0], -1)) * self._span + self._lo
    # Running impulses tick down; those that reach 0 stop and restart their cooldown.
    time_left = self._time_left - self._dt * self._active
    expired = self._active & (time_left <= 0.0)
    active = self._active & ~expired
    cooldown = torch.where(expired, u[:, 0], self._cooldown_left) - self._dt
    # Idle envs whose cooldown ran out start a new impulse.
    start = ~active & (cooldown <= 0.0)
    new_wrench = u[:, 1:-2].view_as(self._wrench)
    self._wrench = torch.where(start.view(-1, 1, 1), new_wrench, self._wrench * active.view(-1, 1, 1))
    self._time_left = torch.where(start, u[:, -2], time_left * active)
    self._cooldown_left = torch.where(start, u[:, -1], cooldown)
    self._active = active | start
    self._asset.write_external_wrench_to_sim(
      self._wrench[..., :3], self._wrench[..., 3:], body_ids=self._body_ids
    )

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    ids = slice(None) if env_ids is None else env_ids
    n = self._active.shape[0] if isinstance(ids, slice) else len(ids)
    self._active[ids] = False
    self._time_left[ids] = 0.0
    self._cooldown_left[ids] = self._cooldown(n)
    self._wrench[ids] = 0.0
    zeros = torch.zeros(n, self._wrench.shape[1], 3, device=self._wrench.device)
    self._asset.write_external_wrench_to_sim(zeros, zeros, env_ids=ids, body_ids=self._body_ids)


_SE3_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")
# q(roll, pitch, yaw) = qz(yaw) * qy(pitch) * qx(roll) (mjlab's quat_from_euler_xyz) written
# as 8 triple products of [cr, cp, cy, sr, sp, sy]: w, x, y, z = A + (+B, -B, +B, -B).
_EULER_FACTORS = torch.tensor([[2, 2, 2, 5, 5, 5, 5, 2], [0, 3, 0, 0, 3, 0, 3, 3], [1, 1, 4, 1, 4, 4, 1, 4]])
_EULER_SIGNS = torch.tensor([1.0, -1.0, 1.0, -1.0])


def _left_mul_matrix(q: torch.Tensor) -> torch.Tensor:
  """L with q * p = L @ p for quaternions (w, x, y, z)."""
  w, x, y, z = q.tolist()
  return torch.tensor([[w, -x, -y, -z], [x, w, -z, y], [y, z, w, -x], [z, -y, x, w]])


class reset_root_state_uniform:
  """mjlab's ``reset_root_state_uniform`` for floating bases in ~25 tensor ops instead of ~90.

  Same distribution: pose offsets (x, y, z, roll, pitch, yaw) and world-frame velocity
  offsets uniform in their ranges, added to the default root state and the env origin.
  Ranges live on the device (mjlab builds them with ``torch.tensor(list, device)`` on
  every call, a blocking copy), the Euler-to-quaternion map is one gather and product,
  and the rotation by the default orientation is one matmul.
  """

  def __init__(self, cfg: EventTermCfg, env: ManagerBasedRlEnv):
    asset_cfg: SceneEntityCfg = cfg.params.get("asset_cfg", _ROBOT)
    self._asset: Entity = env.scene[asset_cfg.name]
    if self._asset.is_fixed_base:
      raise ValueError(
        f"reset_root_state_uniform: entity '{asset_cfg.name}' has a fixed base; use mjlab's "
        "mjlab.envs.mdp.reset_root_state_uniform for mocap entities."
      )
    ranges = {
      "pose_range": cfg.params["pose_range"],
      "velocity_range": cfg.params.get("velocity_range") or {},
    }
    for name, rng in ranges.items():
      unknown = set(rng) - set(_SE3_KEYS)
      if unknown:
        raise ValueError(
          f"reset_root_state_uniform: {name} has unknown keys {sorted(unknown)}; use {_SE3_KEYS}."
        )
    bounds = torch.tensor([rng.get(k, (0.0, 0.0)) for rng in ranges.values() for k in _SE3_KEYS])
    default = self._asset.data.default_root_state
    if not torch.equal(default, default[:1].expand_as(default)):
      raise ValueError("reset_root_state_uniform: the default root state differs between envs.")
    rotate = _left_mul_matrix(default[0, 3:7].cpu()).T
    device = env.device
    self._lo = bounds[:, 0].to(device)
    self._span = (bounds[:, 1] - bounds[:, 0]).to(device)
    self._default_pos = default[0, :3].clone()
    self._default_vel = default[0, 7:13].clone()
    self._factors = _EULER_FACTORS.to(device)
    # [A, B] @ [rotate; diag(signs) @ rotate]: sign fix-up and default orientation at once.
    self._to_quat = torch.cat([rotate, _EULER_SIGNS[:, None] * rotate]).to(device)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    env_ids: torch.Tensor | None,
    pose_range: dict[str, tuple[float, float]],
    velocity_range: dict[str, tuple[float, float]] | None = None,
    asset_cfg: SceneEntityCfg = _ROBOT,
  ) -> None:
    del pose_range, velocity_range, asset_cfg  # Read at init.
    if env_ids is None:
      env_ids = torch.arange(env.num_envs, device=env.device)
    u = torch.rand(len(env_ids), 12, device=env.device) * self._span + self._lo
    half = 0.5 * u[:, 3:6]
    trig = torch.cat([torch.cos(half), torch.sin(half)], dim=1)
    quat = trig[:, self._factors].prod(dim=1) @ self._to_quat
    pos = u[:, :3] + (env.scene.env_origins[env_ids] + self._default_pos)
    self._asset.write_root_link_pose_to_sim(torch.cat([pos, quat], dim=1), env_ids=env_ids)
    self._asset.write_root_link_velocity_to_sim(u[:, 6:] + self._default_vel, env_ids=env_ids)
