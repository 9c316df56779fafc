import numpy as np
import pytest

from refmotion_manager import (
  MotionClip,
  MotionFormatError,
  blend,
  derivatives,
  loop,
  quat,
  resample,
  trim,
)
from refmotion_manager.processing import loop_error

S = np.sqrt(0.5)


def two_frame_clip(fps: float = 10.0) -> MotionClip:
  """Frame 0: origin, identity, joint 0. Frame 1: x = 1, 90 deg yaw, joint 1."""
  return MotionClip(
    fps,
    ("j",),
    np.array([[0.0, 0, 0.8], [1.0, 0, 0.8]]),
    np.array([[1.0, 0, 0, 0], [S, 0, 0, S]]),
    np.array([[0.0], [1.0]]),
  )


def test_two_frame_clip_resamples_with_hand_computed_midpoints():
  out = resample(two_frame_clip(10.0), 40.0)  # 0.1 s -> frames at 0, 25, 50, 75, 100 ms
  assert out.num_frames == 5 and out.fps == 40.0
  np.testing.assert_allclose(out.joint_pos[:, 0], [0, 0.25, 0.5, 0.75, 1.0], atol=1e-15)
  np.testing.assert_allclose(out.root_pos[2], [0.5, 0, 0.8])
  # slerp: a quarter of the 90 deg turn is 22.5 deg about z.
  np.testing.assert_allclose(
    out.root_quat_wxyz[1], [np.cos(np.pi / 16), 0, 0, np.sin(np.pi / 16)], atol=1e-12
  )


def test_resample_at_own_rate_is_identity(clip):
  out = resample(clip, clip.fps)
  np.testing.assert_array_equal(out.joint_pos, clip.joint_pos)
  np.testing.assert_array_equal(out.root_quat_wxyz, clip.root_quat_wxyz)


def test_resample_down_keeps_last_frame_within_duration(clip):
  out = resample(clip, 7.0)  # 39/30 s = 1.3 s -> frames at 0..9/7 s
  assert out.num_frames == 10
  assert out.duration <= clip.duration


def test_velocities_in_world_and_body_frames():
  fps, t = 50.0, np.arange(20) / 50.0
  yaw_rate, speed = 0.7, 1.5
  yaw = yaw_rate * t
  # Moving forward along the heading: world velocity rotates, body velocity is (v, 0, 0).
  pos = np.stack(
    [speed / yaw_rate * np.sin(yaw), speed / yaw_rate * (1 - np.cos(yaw)), np.full_like(t, 0.8)], axis=1
  )
  clip = MotionClip(fps, ("j",), pos, quat.from_yaw(yaw), np.zeros((20, 1)))
  np.testing.assert_allclose(derivatives.root_ang_vel_w(clip), [[0, 0, yaw_rate]] * 20, atol=1e-9)
  np.testing.assert_allclose(derivatives.root_ang_vel_b(clip), [[0, 0, yaw_rate]] * 20, atol=1e-9)
  vb = derivatives.root_lin_vel_b(clip)
  np.testing.assert_allclose(vb[1:-1], [[speed, 0, 0]] * 18, atol=1e-3)


def test_pitched_body_angular_velocity_frames_differ():
  # Constant yaw rate while pitched 90 deg: world w = (0,0,r); body frame sees it on -x.
  t = np.arange(10) / 10.0
  q = quat.multiply(quat.from_yaw(0.5 * t), np.broadcast_to(quat.from_euler_xyz(0, np.pi / 2, 0), (10, 4)))
  clip = MotionClip(10.0, ("j",), np.zeros((10, 3)), q, np.zeros((10, 1)))
  np.testing.assert_allclose(derivatives.root_ang_vel_w(clip), [[0, 0, 0.5]] * 10, atol=1e-9)
  np.testing.assert_allclose(derivatives.root_ang_vel_b(clip), [[-0.5, 0, 0]] * 10, atol=1e-9)


def test_trim_selects_nearest_frames(clip):
  out = trim(clip, 0.1, 0.5)  # frames 3..15 at 30 fps
  assert out.num_frames == 13
  np.testing.assert_array_equal(out.joint_pos[0], clip.joint_pos[3])
  with pytest.raises(MotionFormatError, match="choose 0 <= start < end"):
    trim(clip, 1.0, 0.5)


def test_loop_continues_translation_and_heading():
  fps = 10.0
  t = np.arange(11) / fps  # one second, last frame same pose as first
  pos = np.stack([t, np.zeros_like(t), np.full_like(t, 0.8)], axis=1)
  joint = np.sin(2 * np.pi * t)[:, None]
  clip = MotionClip(fps, ("j",), pos, quat.from_yaw(0.0 * t), joint)
  assert loop_error(clip) < 1e-12
  out = loop(clip, 3)
  assert out.num_frames == 31
  np.testing.assert_allclose(out.root_pos[:, 0], np.arange(31) / fps, atol=1e-12)
  np.testing.assert_allclose(out.joint_pos[:, 0], np.sin(2 * np.pi * np.arange(31) / fps), atol=1e-12)


def test_blend_aligns_second_clip_and_crossfades():
  a = MotionClip(
    10.0,
    ("j",),
    np.tile([2.0, 0, 0.8], (10, 1)),
    np.tile(quat.from_yaw(np.pi / 2), (10, 1)),
    np.zeros((10, 1)),
  )
  b = MotionClip(
    10.0, ("j",), np.tile([0.0, 5.0, 0.8], (10, 1)), np.tile([1.0, 0, 0, 0], (10, 1)), np.ones((10, 1))
  )
  out = blend(a, b, 0.4)  # 4 overlapping frames
  assert out.num_frames == 16
  np.testing.assert_allclose(
    out.joint_pos[6:10, 0], [0, 0.259259259, 0.740740741, 1.0], atol=1e-8
  )  # smoothstep(0, 1/3, 2/3, 1)
  np.testing.assert_allclose(out.root_pos[:, :2], np.tile([2.0, 0.0], (16, 1)), atol=1e-12)
  np.testing.assert_allclose(quat.yaw_of(out.root_quat_wxyz), np.pi / 2, atol=1e-12)


def test_blend_rejects_different_rates(clip):
  with pytest.raises(MotionFormatError, match="resample one clip"):
    blend(clip, clip.replace(fps=60.0), 0.1)
