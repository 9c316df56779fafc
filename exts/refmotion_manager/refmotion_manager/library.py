"""Batched reference-motion sampling on the training device.

All clips are stacked into flat frame tensors; a query (clip id, time) becomes two
frame indices and a blend weight, so any number of envs is served by a few gathers,
without Python loops over envs. Velocities are finite differences computed once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from refmotion_manager import derivatives, quat, torch_quat
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.joints import remap_joints

# A frame position within this many frames of an integer is that frame (float32 times
# such as 0.1 s * 30 fps land a few ulps off 3.0).
_FRAME_SNAP = 1e-4


def _check_finite(clip: MotionClip) -> None:
  for key in ("root_pos", "root_quat_wxyz", "joint_pos"):
    bad = np.argwhere(~np.isfinite(getattr(clip, key)))
    if len(bad):
      raise MotionFormatError(
        clip.source,
        f"{key} frame {bad[0][0]} column {bad[0][1]}",
        "is not finite",
        "run `validate` and repair or trim the clip",
      )


def _frame_arrays(clip: MotionClip, body_names: tuple[str, ...] | None) -> dict[str, np.ndarray]:
  q = quat.make_continuous(clip.root_quat_wxyz)
  arrays = {
    "joint_pos": clip.joint_pos,
    "joint_vel": derivatives.joint_velocity(clip),
    "root_pos": clip.root_pos,
    "root_quat": q,
    "root_lin_vel_w": derivatives.root_lin_vel_w(clip),
    "root_ang_vel_w": derivatives.angular_velocity_world(q, clip.dt),
  }
  if body_names:
    if clip.body_names is None or not set(body_names) <= set(clip.body_names):
      raise MotionFormatError(
        clip.source,
        "body_names",
        f"clip lacks bodies {sorted(set(body_names) - set(clip.body_names or ()))}",
        "add them with kinematics.with_body_poses(clip, model)",
      )
    assert clip.body_pos is not None and clip.body_quat is not None
    cols = [clip.body_names.index(b) for b in body_names]
    pos, bq = clip.body_pos[:, cols], quat.make_continuous(clip.body_quat[:, cols])
    arrays.update(
      body_pos_w=pos,
      body_quat_w=bq,
      body_lin_vel_w=derivatives.linear_velocity(pos, clip.dt),
      body_ang_vel_w=derivatives.angular_velocity_world(bq, clip.dt),
    )
  return arrays


class MotionLibrary:
  """Clips on one device, sampled by (clip id, time) in batches.

  Args:
      clips: clips to serve; all are mapped by name to `joint_names`.
      device: torch device of every returned tensor.
      body_names: bodies whose states `sample` returns (clips must carry their poses).
      weights: relative sampling weight per clip (default: equal).
      joint_names: joint order of the returned joint tensors (default: first clip's).
  """

  def __init__(
    self,
    clips: Sequence[MotionClip],
    device: str | torch.device = "cpu",
    body_names: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    joint_names: Sequence[str] | None = None,
  ) -> None:
    if not clips:
      raise MotionFormatError(None, "clips", "no clips given", "pass at least one clip")
    self.device = torch.device(device)
    self.joint_names = tuple(joint_names or clips[0].joint_names)
    self.body_names = tuple(body_names) if body_names else ()
    per_clip = []
    for clip in clips:
      _check_finite(clip)
      per_clip.append(_frame_arrays(remap_joints(clip, self.joint_names), self.body_names))
    self._pack({k: np.concatenate([a[k] for a in per_clip]) for k in per_clip[0]})
    counts = torch.tensor([c.num_frames for c in clips], dtype=torch.long)
    self.num_frames = counts.to(self.device)
    self.start = (torch.cumsum(counts, 0) - counts).to(self.device)
    self.fps = torch.tensor([c.fps for c in clips], dtype=torch.float32, device=self.device)
    self.duration = torch.tensor([c.duration for c in clips], dtype=torch.float32, device=self.device)
    w = torch.tensor(
      weights if weights is not None else [1.0] * len(clips), dtype=torch.float32, device=self.device
    )
    if w.shape != (len(clips),) or bool((w < 0).any()) or float(w.sum()) <= 0:
      raise MotionFormatError(
        None,
        "weights",
        f"{list(w.cpu().numpy())} for {len(clips)} clips",
        "give one non-negative weight per clip, not all 0",
      )
    self.weights = w / w.sum()
    self.names = [c.metadata.get("name") or c.source or f"clip_{i}" for i, c in enumerate(clips)]

  def _pack(self, arrays: dict[str, np.ndarray]) -> None:
    """All per-frame data in one (frames, D) tensor, so a query is two row gathers.

    Quaternion columns come first and are contiguous ((1 + B) x 4), so one slerp call
    covers the root and every body.
    """
    quat_keys = [k for k in ("root_quat", "body_quat_w") if k in arrays]
    keys = quat_keys + [k for k in arrays if k not in quat_keys]
    self._layout: dict[str, tuple[int, int, tuple[int, ...]]] = {}
    column = 0
    for key in keys:
      shape = arrays[key].shape[1:]
      width = int(np.prod(shape))
      self._layout[key] = (column, column + width, shape)
      column += width
    self._num_quat_columns = sum(self._layout[k][1] - self._layout[k][0] for k in quat_keys)
    flat = np.concatenate([arrays[k].reshape(len(arrays[k]), -1) for k in keys], axis=1)
    self._packed = torch.as_tensor(flat, dtype=torch.float32, device=self.device)

  @property
  def num_clips(self) -> int:
    return int(self.fps.shape[0])

  def sample_clip_ids(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(n,) clip ids drawn with the clip weights."""
    return torch.multinomial(self.weights, n, replacement=True, generator=generator)

  def sample_times(
    self, clip_ids: torch.Tensor, generator: torch.Generator | None = None, truncate_s: float = 0.0
  ) -> torch.Tensor:
    """Uniform random start times in [0, duration - truncate_s] (at least 0)."""
    span = (self.duration[clip_ids] - truncate_s).clamp(min=0.0)
    u = torch.rand(clip_ids.shape, device=self.device, generator=generator)
    return u * span

  def sample_frame_ids(
    self, clip_ids: torch.Tensor, generator: torch.Generator | None = None
  ) -> torch.Tensor:
    """(n,) uniformly random frame indices of clips `clip_ids`, in [0, num_frames - 1]."""
    n = self.num_frames[clip_ids]
    u = torch.rand(clip_ids.shape, device=self.device, generator=generator)
    return torch.minimum((u * n).long(), n - 1)

  def frames(self, clip_ids: torch.Tensor, frame_ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """The stored states of frames `frame_ids` of clips `clip_ids` (both (N,)), without
    interpolation: one row gather. The keys of `sample` without the derived `_b` ones;
    equal to `sample` at the frame's time."""
    return self._unpack(
      self._packed[self.start[clip_ids.to(self.device, torch.long)] + frame_ids.to(self.device)]
    )

  def _unpack(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
    """Packed (N, D) rows -> the per-key views of ``_layout``."""
    return {key: rows[:, lo:hi].view(len(rows), *shape) for key, (lo, hi, shape) in self._layout.items()}

  def _blend(self, clip_ids: torch.Tensor, times: torch.Tensor, loop: bool):
    duration = self.duration[clip_ids]
    t = torch.remainder(times, duration) if loop else torch.minimum(times.clamp(min=0.0), duration)
    n = self.num_frames[clip_ids]
    f = (t * self.fps[clip_ids]).clamp(min=0.0)
    f = torch.minimum(f, (n - 1).to(f.dtype))
    nearest = torch.round(f)
    f = torch.where((f - nearest).abs() < _FRAME_SNAP, nearest, f)
    i0 = torch.minimum(f.floor().long(), n - 2)
    alpha = f - i0.to(f.dtype)
    idx0 = self.start[clip_ids] + i0
    return idx0, idx0 + 1, alpha

  def sample(
    self, clip_ids: torch.Tensor, times: torch.Tensor, loop: bool = False
  ) -> dict[str, torch.Tensor]:
    """States at `times` (s) of clips `clip_ids`, both (N,) tensors on the device.

    Times outside [0, duration] are clamped, or wrapped when `loop`. Returns joint_pos,
    joint_vel (N, J); root_pos, root_lin_vel_w, root_ang_vel_w, root_lin_vel_b,
    root_ang_vel_b (N, 3); root_quat (N, 4, wxyz); and for the library's bodies
    body_pos_w, body_lin_vel_w, body_ang_vel_w, body_pos_b (N, B, 3) and body_quat_w
    (N, B, 4). `_b` quantities are relative to the root, in root axes.
    """
    clip_ids = clip_ids.to(self.device, torch.long)
    i0, i1, a = self._blend(clip_ids, times.to(self.device, torch.float32), loop)
    f0, f1 = self._packed[i0], self._packed[i1]
    mixed = torch.lerp(f0, f1, a.unsqueeze(1))
    nq = self._num_quat_columns
    q0, q1 = f0[:, :nq].view(len(a), -1, 4), f1[:, :nq].view(len(a), -1, 4)
    mixed[:, :nq] = torch_quat.slerp(q0, q1, a.unsqueeze(1).expand(q0.shape[:2])).flatten(1)
    out = self._unpack(mixed)
    q = out["root_quat"]
    out["root_lin_vel_b"] = torch_quat.rotate_inverse(q, out["root_lin_vel_w"])
    out["root_ang_vel_b"] = torch_quat.rotate_inverse(q, out["root_ang_vel_w"])
    if self.body_names:
      qb = q.unsqueeze(1).expand(-1, len(self.body_names), -1)
      rel = out["body_pos_w"] - out["root_pos"].unsqueeze(1)
      out["body_pos_b"] = torch_quat.rotate_inverse(qb, rel)
    return out

  def sample_amp_window(
    self, clip_ids: torch.Tensor, times: torch.Tensor, num_frames: int, dt: float, loop: bool = False
  ) -> dict[str, torch.Tensor]:
    """`num_frames` states ending at `times`, spaced `dt` apart, oldest first.

    Window k of env i is at times[i] - (num_frames - 1 - k) * dt (clamped at the clip
    start, or wrapped when `loop`). Every tensor of `sample` gains a window axis:
    (N, K, ...). This is st_gym's `amp_obs_frame_num` history.
    """
    if num_frames < 1:
      raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    n = clip_ids.shape[0]
    offsets = (torch.arange(num_frames, device=self.device, dtype=torch.float32) - (num_frames - 1)) * dt
    window_times = times.to(self.device, torch.float32).unsqueeze(1) + offsets
    flat = self.sample(
      clip_ids.to(self.device).repeat_interleave(num_frames), window_times.reshape(-1), loop=loop
    )
    return {k: v.view(n, num_frames, *v.shape[1:]) for k, v in flat.items()}
