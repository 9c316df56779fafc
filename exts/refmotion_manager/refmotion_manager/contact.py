"""Where a foot meets the ground: the lowest point of its collision geoms, and how fast
the foot's material at that point moves.

A walking foot rolls heel to toe: the ankle origin swings forward by several cm while the
heel or toe that carries the weight stays put. So skating is measured at the contact, not
at the body origin: per frame, the lowest point of the foot's collision geoms (sphere
bottom, capsule end, box corner, ...) is taken as a point fixed on the foot, and its world
velocity is the finite difference of that same body-fixed point through the neighbouring
frames' foot poses (central inside the clip, one-sided at its ends). A foot that pivots
about its heel or toe without slipping gives ~0 (the geom's rounding radius r moves the
contact by r * angle); a planted foot that slides gives the slide speed. Which point of a
flat sole is "lowest" may flip between heel and toe from frame to frame: that does not
matter, since every point of a planted sole has the same (zero) velocity.

A foot is on the ground (``on_ground``) when its lowest point is low *and* its height is
steady, for at least a few consecutive frames. Height alone is not enough: a swing foot
passes within 2 cm of the ground at 2-3 m/s right after lift-off and before touch-down, but
there it rises or falls, and it is steady only for the frame or two at the bottom of its
arc. The height's rate of change is used rather than the material's vertical velocity: at
the frame where the lowest point flips from heel to toe of a rolling foot, the material
there moves fast while the height does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from refmotion_manager.clip import MotionClip
from refmotion_manager.kinematics import qpos_trajectory
from refmotion_manager.model import RobotModel


@dataclass(frozen=True)
class FootContacts:
  """Per frame and foot: the lowest collision point and the horizontal speed of the foot there."""

  foot_bodies: tuple[str, ...]
  point: np.ndarray  # (T, F, 3) world position of the lowest collision-geom point
  speed_xy: np.ndarray  # (T, F) horizontal speed (m/s) of the foot's material at that point
  speed_z: np.ndarray  # (T, F) rate of change (m/s) of that point's height: ~0 for a rolling
  # foot, whichever of heel and toe is lowest; a swing foot's rise or fall

  @property
  def height(self) -> np.ndarray:
    """(T, F) world z of the lowest point."""
    return self.point[..., 2]


def geom_lowest_point(m: mujoco.MjModel, d: mujoco.MjData, g: int) -> np.ndarray:
  """World point of a geom with the lowest z: exact for spheres, capsules and boxes,
  the lowest corner of the geom's bounding box otherwise."""
  center, rot, size = d.geom_xpos[g], d.geom_xmat[g].reshape(3, 3), m.geom_size[g]
  # rot[2] holds the world-z components of the geom's axes; stepping against their signs
  # goes down. np.sign(0) = 0 keeps the centre of a level edge or face.
  down = np.sign(rot[2])
  kind = m.geom_type[g]
  if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
    return center - np.array([0.0, 0.0, size[0]])
  if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
    end = center - down[2] * size[1] * rot[:, 2]  # the lower end of the axis segment
    return end - np.array([0.0, 0.0, size[0]])
  if kind == mujoco.mjtGeom.mjGEOM_BOX:
    return center - rot @ (down * size)
  box_center, half = m.geom_aabb[g, :3], m.geom_aabb[g, 3:]
  return center + rot @ (box_center - down * half)


def geom_bottom(m: mujoco.MjModel, d: mujoco.MjData, g: int) -> float:
  """Lowest world z of a geom (``geom_lowest_point``'s z)."""
  return float(geom_lowest_point(m, d, g)[2])


def collision_geoms(model: RobotModel, body: str) -> list[int]:
  """Geoms of `body` that take part in contacts (contype or conaffinity set)."""
  m, bid = model.mj_model, model.body_id(body)
  return [
    g for g in range(m.ngeom) if m.geom_bodyid[g] == bid and (m.geom_contype[g] or m.geom_conaffinity[g])
  ]


def foot_contacts(clip: MotionClip, model: RobotModel, foot_bodies: tuple[str, ...]) -> FootContacts:
  """Lowest collision point of each foot per frame and the foot's horizontal speed there.

  A foot without collision geoms uses its body origin.
  """
  m = model.mj_model
  d = mujoco.MjData(m)
  feet = [model.body_id(n) for n in foot_bodies]
  geoms = [collision_geoms(model, n) for n in foot_bodies]
  qpos = qpos_trajectory(clip, model)
  t_count, f_count = clip.num_frames, len(feet)
  point = np.zeros((t_count, f_count, 3))
  origin, rot = np.zeros((t_count, f_count, 3)), np.zeros((t_count, f_count, 3, 3))
  for t in range(t_count):
    d.qpos[:] = qpos[t]
    mujoco.mj_kinematics(m, d)
    for k, (b, gs) in enumerate(zip(feet, geoms, strict=True)):
      origin[t, k], rot[t, k] = d.xpos[b], d.xmat[b].reshape(3, 3)
      candidates = [geom_lowest_point(m, d, g) for g in gs] or [d.xpos[b].copy()]
      point[t, k] = min(candidates, key=lambda p: p[2])
  # The contact point in the foot frame, p_b = R_t^T (p_t - x_t), carried to frames t +- 1.
  local = np.einsum("tfji,tfj->tfi", rot, point - origin)
  ahead = origin[1:] + np.einsum("tfij,tfj->tfi", rot[1:], local[:-1])  # frame t+1, point of t
  behind = origin[:-1] + np.einsum("tfij,tfj->tfi", rot[:-1], local[1:])  # frame t-1, point of t
  vel = np.zeros_like(point)
  vel[0] = (ahead[0] - point[0]) / clip.dt
  vel[-1] = (point[-1] - behind[-1]) / clip.dt
  vel[1:-1] = (ahead[1:] - behind[:-1]) / (2.0 * clip.dt)
  speed_z = np.gradient(point[..., 2], clip.dt, axis=0)
  return FootContacts(tuple(foot_bodies), point, np.linalg.norm(vel[..., :2], axis=-1), speed_z)


def on_ground(
  contacts: FootContacts,
  dt: float,
  max_height: float,
  max_speed_z: float,
  min_duration_s: float,
  touchdown_height: float,
) -> np.ndarray:
  """(T, F) True where a foot rests on the ground: runs of frames, at least
  ``min_duration_s`` long (and one frame), in which its lowest point is below ``max_height``
  (m) with its height changing slower than ``max_speed_z`` (m/s), and that get below
  ``touchdown_height`` (m) somewhere (hysteresis: a foot lands low, then may rise a little
  while it rolls). Shorter or higher runs are a swing passing low."""
  still = (contacts.height < max_height) & (np.abs(contacts.speed_z) < max_speed_z)
  min_frames = max(1, math.ceil(min_duration_s / dt - 1e-9))
  grounded = np.zeros_like(still)
  for k in range(still.shape[1]):
    edges = np.diff(np.concatenate([[0], still[:, k].astype(np.int8), [0]]))
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
      if stop - start >= min_frames and contacts.height[start:stop, k].min() < touchdown_height:
        grounded[start:stop, k] = True
  return grounded
