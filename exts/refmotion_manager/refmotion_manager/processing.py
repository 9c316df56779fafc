"""Clip editing: resample to any rate, trim, loop with ground-plane offsets, blend clips.

Positions and joint angles are interpolated linearly, orientations by slerp. Body
poses, when present, are carried along the same way (or recompute them with
`kinematics.with_body_poses`).
"""

from __future__ import annotations

import numpy as np

from refmotion_manager import quat
from refmotion_manager.clip import MotionClip
from refmotion_manager.errors import MotionFormatError

# Frame times that are this close (in frames) to an integer count as that frame, so
# resampling at the original rate reproduces the original frames exactly.
_FRAME_SNAP = 1e-9


def frame_blend(num_frames: int, fps: float, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Index of the frame before each time (clamped to [0, T-2]) and the blend weight in [0, 1]."""
  f = np.clip(np.asarray(times, dtype=np.float64) * fps, 0.0, num_frames - 1)
  nearest = np.round(f)
  f = np.where(np.abs(f - nearest) < _FRAME_SNAP, nearest, f)
  i0 = np.minimum(np.floor(f).astype(np.int64), num_frames - 2)
  return i0, f - i0


def sample_clip(clip: MotionClip, times: np.ndarray) -> MotionClip:
  """Clip whose frames are the interpolated states at `times` (fps left as is)."""
  i0, a = frame_blend(clip.num_frames, clip.fps, times)
  i1 = i0 + 1

  def lerp(x: np.ndarray) -> np.ndarray:
    w = a.reshape((-1,) + (1,) * (x.ndim - 1))
    return (1.0 - w) * x[i0] + w * x[i1]  # exact at w = 0 and w = 1

  body = {}
  if clip.body_names is not None:
    assert clip.body_pos is not None and clip.body_quat is not None
    ab = np.broadcast_to(a[:, None], (a.shape[0], len(clip.body_names)))
    body = {
      "body_pos": lerp(clip.body_pos),
      "body_quat": quat.slerp(clip.body_quat[i0], clip.body_quat[i1], ab),
    }
  return clip.replace(
    root_pos=lerp(clip.root_pos),
    joint_pos=lerp(clip.joint_pos),
    root_quat_wxyz=quat.slerp(clip.root_quat_wxyz[i0], clip.root_quat_wxyz[i1], a),
    **body,
  )


def resample(clip: MotionClip, fps: float) -> MotionClip:
  """Same motion at `fps`; the new last frame is the last one at or before the clip's end."""
  if fps <= 0:
    raise MotionFormatError(clip.source, "resample", f"target fps {fps}", "use fps > 0")
  count = int(np.floor(clip.duration * fps + 1e-6)) + 1
  if count < 2:
    raise MotionFormatError(
      clip.source,
      "resample",
      f"only {count} frame at {fps} fps for a {clip.duration:.4f} s clip",
      "use a higher target fps",
    )
  out = sample_clip(clip, np.arange(count) / fps)
  meta = dict(out.metadata, resampled_from_fps=clip.fps)
  return out.replace(fps=float(fps), metadata=meta)


def trim(clip: MotionClip, start_s: float = 0.0, end_s: float | None = None) -> MotionClip:
  """Frames with start_s <= t <= end_s (nearest frames), at least two."""
  first = round(start_s * clip.fps)
  last = clip.num_frames - 1 if end_s is None else round(end_s * clip.fps)
  if not 0 <= first < last <= clip.num_frames - 1:
    raise MotionFormatError(
      clip.source,
      f"trim [{start_s}, {end_s}] s",
      f"selects frames {first}..{last} of 0..{clip.num_frames - 1}",
      "choose 0 <= start < end <= duration with at least two frames",
    )
  return _select(clip, np.arange(first, last + 1))


def _select(clip: MotionClip, frames: np.ndarray) -> MotionClip:
  body = {}
  if clip.body_names is not None:
    assert clip.body_pos is not None and clip.body_quat is not None
    body = {"body_pos": clip.body_pos[frames], "body_quat": clip.body_quat[frames]}
  return clip.replace(
    root_pos=clip.root_pos[frames],
    root_quat_wxyz=clip.root_quat_wxyz[frames],
    joint_pos=clip.joint_pos[frames],
    **body,
  )


def align_to(clip: MotionClip, frame: int, xy: np.ndarray, yaw: float) -> MotionClip:
  """Rigidly move the clip on the ground plane so frame `frame` has root (xy, heading yaw)."""
  d_yaw = yaw - float(quat.yaw_of(clip.root_quat_wxyz[frame]))
  q_delta = quat.from_yaw(d_yaw)
  pivot = clip.root_pos[frame] * np.array([1.0, 1.0, 0.0])
  offset = np.array([xy[0], xy[1], 0.0])

  def move(p: np.ndarray) -> np.ndarray:
    return quat.rotate(np.broadcast_to(q_delta, (*p.shape[:-1], 4)), p - pivot) + offset

  body = {}
  if clip.body_names is not None:
    assert clip.body_pos is not None and clip.body_quat is not None
    body = {
      "body_pos": move(clip.body_pos),
      "body_quat": quat.multiply(np.broadcast_to(q_delta, clip.body_quat.shape), clip.body_quat),
    }
  root_quat = quat.multiply(np.broadcast_to(q_delta, clip.root_quat_wxyz.shape), clip.root_quat_wxyz)
  return clip.replace(root_pos=move(clip.root_pos), root_quat_wxyz=root_quat, **body)


def _check_compatible(a: MotionClip, b: MotionClip) -> None:
  if a.joint_names != b.joint_names:
    raise MotionFormatError(
      b.source,
      "joint_names",
      "differ from the first clip's",
      "map both clips to one joint set with remap_joints",
    )
  if abs(a.fps - b.fps) > 1e-9:
    raise MotionFormatError(
      b.source, "fps", f"{b.fps} differs from {a.fps}", "resample one clip to the other's rate first"
    )
  if (a.body_names is None) != (b.body_names is None) or a.body_names != b.body_names:
    raise MotionFormatError(
      b.source,
      "body_names",
      "differ from the first clip's",
      "compute the same bodies for both clips (or none)",
    )


def blend(a: MotionClip, b: MotionClip, blend_s: float) -> MotionClip:
  """`a` then `b`, with `b` moved to continue from `a`'s end and a smooth cross-fade.

  The last n = round(blend_s * fps) frames of `a` are mixed with the first n of `b`
  using w = smoothstep(k / (n - 1)) (0 -> all `a`, 1 -> all `b`).
  """
  _check_compatible(a, b)
  n = max(1, round(blend_s * a.fps))
  if n > min(a.num_frames, b.num_frames):
    raise MotionFormatError(
      b.source, f"blend {blend_s} s", f"{n} frames exceed a clip", "use a blend shorter than both clips"
    )
  start = a.num_frames - n
  b = align_to(b, 0, a.root_pos[start, :2], float(quat.yaw_of(a.root_quat_wxyz[start])))
  k = np.arange(n) / max(n - 1, 1)
  w = k * k * (3.0 - 2.0 * k)
  mix = _mix(_select(a, np.arange(start, a.num_frames)), _select(b, np.arange(n)), w)
  return concatenate(
    [_select(a, np.arange(start)), mix, _select(b, np.arange(n, b.num_frames))]
    if start > 0
    else [mix, _select(b, np.arange(n, b.num_frames))]
  )


def _mix(a: MotionClip, b: MotionClip, w: np.ndarray) -> MotionClip:
  def lerp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x + w.reshape((-1,) + (1,) * (x.ndim - 1)) * (y - x)

  body = {}
  if a.body_names is not None:
    assert a.body_pos is not None and a.body_quat is not None
    assert b.body_pos is not None and b.body_quat is not None
    wb = np.broadcast_to(w[:, None], a.body_quat.shape[:2])
    body = {"body_pos": lerp(a.body_pos, b.body_pos), "body_quat": quat.slerp(a.body_quat, b.body_quat, wb)}
  return a.replace(
    root_pos=lerp(a.root_pos, b.root_pos),
    joint_pos=lerp(a.joint_pos, b.joint_pos),
    root_quat_wxyz=quat.slerp(a.root_quat_wxyz, b.root_quat_wxyz, w),
    **body,
  )


def concatenate(clips: list[MotionClip]) -> MotionClip:
  """Frames of all clips back to back (no alignment); clips must be compatible."""
  for c in clips[1:]:
    _check_compatible(clips[0], c)
  first = clips[0]
  body = {}
  if first.body_names is not None:  # then every clip has bodies (_check_compatible)
    body = {
      "body_pos": np.concatenate([c.body_pos for c in clips if c.body_pos is not None]),
      "body_quat": np.concatenate([c.body_quat for c in clips if c.body_quat is not None]),
    }
  return first.replace(
    root_pos=np.concatenate([c.root_pos for c in clips]),
    root_quat_wxyz=np.concatenate([c.root_quat_wxyz for c in clips]),
    joint_pos=np.concatenate([c.joint_pos for c in clips]),
    **body,
  )


def loop(clip: MotionClip, cycles: int) -> MotionClip:
  """Repeat a cyclic clip whose last frame is the same pose as its first (up to where it
  stands): each cycle is moved to start where the previous one ended, and the duplicated
  boundary frame is dropped, so the root keeps travelling (walks) or turning."""
  if cycles < 1:
    raise MotionFormatError(clip.source, "loop", f"cycles={cycles}", "use cycles >= 1")
  parts, current = [clip], clip
  for _ in range(cycles - 1):
    end = current.num_frames - 1
    current = align_to(clip, 0, current.root_pos[end, :2], float(quat.yaw_of(current.root_quat_wxyz[end])))
    parts.append(_select(current, np.arange(1, clip.num_frames)))
  return concatenate(parts)


def loop_error(clip: MotionClip) -> float:
  """Largest joint-angle difference between the last and first frame (rad)."""
  return float(np.max(np.abs(clip.joint_pos[-1] - clip.joint_pos[0])))
