import numpy as np
import pytest
import torch

from refmotion_manager import (
  G1_23DOF_JOINT_NAMES,
  MotionClip,
  MotionFormatError,
  MotionLibrary,
  quat,
  with_body_poses,
)

S = np.sqrt(0.5)


def ramp_clip(fps: float = 10.0, frames: int = 5, offset: float = 0.0) -> MotionClip:
  """Joint j = offset + frame index; root x = frame index; yaw 0 -> 90 deg over the clip."""
  k = np.arange(frames, dtype=np.float64)
  yaw = np.pi / 2 * k / (frames - 1)
  return MotionClip(
    fps, ("a", "b"), np.stack([k, 0 * k, 0.8 + 0 * k], 1), quat.from_yaw(yaw), np.stack([offset + k, -k], 1)
  )


def test_sampling_at_frame_times_returns_frames_exactly():
  clip = ramp_clip()
  lib = MotionLibrary([clip])
  times = torch.arange(5, dtype=torch.float32) / 10.0  # 0.1 s * 3 is not exactly 0.3 in fp32
  out = lib.sample(torch.zeros(5, dtype=torch.long), times)
  assert torch.equal(out["joint_pos"], torch.tensor(clip.joint_pos, dtype=torch.float32))
  assert torch.equal(out["root_quat"], torch.tensor(clip.root_quat_wxyz, dtype=torch.float32))
  assert torch.equal(out["root_pos"], torch.tensor(clip.root_pos, dtype=torch.float32))


def test_stored_frames_equal_samples_at_their_times_and_random_frames_cover_each_clip():
  lib = MotionLibrary([ramp_clip(), ramp_clip(fps=20.0, frames=3, offset=10.0)])
  clip_ids, frame_ids = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 4, 0, 2])
  out = lib.frames(clip_ids, frame_ids)
  # Joint a = offset + frame index, root x = frame index (ramp_clip).
  assert torch.equal(out["joint_pos"][:, 0], torch.tensor([0.0, 4.0, 10.0, 12.0]))
  assert torch.equal(out["root_pos"][:, 0], torch.tensor([0.0, 4.0, 0.0, 2.0]))
  at_times = lib.sample(clip_ids, torch.tensor([0.0, 0.4, 0.0, 0.1]))
  assert set(out) == {k for k in at_times if not k.endswith("_b")}
  for key, value in out.items():
    torch.testing.assert_close(value, at_times[key], atol=1e-6, rtol=0)

  drawn = lib.sample_frame_ids(torch.tensor([0] * 500 + [1] * 500), torch.Generator().manual_seed(0))
  assert set(drawn[:500].tolist()) == {0, 1, 2, 3, 4} and set(drawn[500:].tolist()) == {0, 1, 2}


def test_sampling_between_frames_is_hand_computed_interpolation():
  lib = MotionLibrary([ramp_clip()])
  out = lib.sample(torch.tensor([0]), torch.tensor([0.125]))  # frame 1.25
  torch.testing.assert_close(out["joint_pos"], torch.tensor([[1.25, -1.25]]))
  # yaw goes 22.5 deg per frame: 1.25 frames -> 28.125 deg about z.
  half = np.deg2rad(28.125) / 2
  torch.testing.assert_close(
    out["root_quat"], torch.tensor([[np.cos(half), 0.0, 0.0, np.sin(half)]], dtype=torch.float32)
  )
  # joint velocity: +10 rad/s for joint a (1 per frame at 10 fps), root x at 10 m/s.
  torch.testing.assert_close(out["joint_vel"], torch.tensor([[10.0, -10.0]]))
  torch.testing.assert_close(out["root_lin_vel_w"], torch.tensor([[10.0, 0.0, 0.0]]))
  yaw_rate = np.pi / 8 * 10  # 22.5 deg per 0.1 s
  torch.testing.assert_close(out["root_ang_vel_w"], torch.tensor([[0.0, 0.0, yaw_rate]]))
  # body frame: the world x velocity seen from a heading of 28.125 deg.
  a = 2 * half
  torch.testing.assert_close(
    out["root_lin_vel_b"], torch.tensor([[10 * np.cos(a), -10 * np.sin(a), 0.0]], dtype=torch.float32)
  )


def test_times_are_clamped_or_wrapped():
  lib = MotionLibrary([ramp_clip()])  # duration 0.4 s
  clamped = lib.sample(torch.tensor([0, 0]), torch.tensor([-1.0, 9.0]))
  torch.testing.assert_close(clamped["joint_pos"][:, 0], torch.tensor([0.0, 4.0]))
  wrapped = lib.sample(torch.tensor([0]), torch.tensor([0.45]), loop=True)
  torch.testing.assert_close(wrapped["joint_pos"][:, 0], torch.tensor([0.5]))


def test_multiple_clips_with_different_rates_in_one_batch():
  lib = MotionLibrary([ramp_clip(10.0, 5, offset=0.0), ramp_clip(20.0, 3, offset=100.0)])
  out = lib.sample(torch.tensor([1, 0, 1]), torch.tensor([0.025, 0.25, 0.1]))
  torch.testing.assert_close(out["joint_pos"][:, 0], torch.tensor([100.5, 2.5, 102.0]))
  torch.testing.assert_close(lib.duration, torch.tensor([0.4, 0.1]))


def test_amp_window_is_oldest_first_and_matches_single_samples():
  lib = MotionLibrary([ramp_clip()])
  times = torch.tensor([0.4, 0.25, 0.05])
  win = lib.sample_amp_window(torch.zeros(3, dtype=torch.long), times, num_frames=3, dt=0.1)
  assert win["joint_pos"].shape == (3, 3, 2) and win["root_quat"].shape == (3, 3, 4)
  torch.testing.assert_close(win["joint_pos"][0, :, 0], torch.tensor([2.0, 3.0, 4.0]))
  torch.testing.assert_close(win["joint_pos"][1, :, 0], torch.tensor([0.5, 1.5, 2.5]))
  # before the clip start the window holds the first frame
  torch.testing.assert_close(win["joint_pos"][2, :, 0], torch.tensor([0.0, 0.0, 0.5]))
  last = lib.sample(torch.zeros(3, dtype=torch.long), times)
  for key, value in last.items():
    torch.testing.assert_close(win[key][:, -1], value)


def test_weighted_clip_sampling_and_random_start_times():
  lib = MotionLibrary([ramp_clip(), ramp_clip(offset=5.0), ramp_clip()], weights=[0.0, 3.0, 1.0])
  gen = torch.Generator().manual_seed(0)
  ids = lib.sample_clip_ids(20000, generator=gen)
  assert not bool((ids == 0).any())
  assert abs(float((ids == 1).float().mean()) - 0.75) < 0.02
  times = lib.sample_times(ids, generator=gen, truncate_s=0.1)
  assert float(times.min()) >= 0.0 and float(times.max()) <= 0.3 + 1e-6


def test_bad_weights_and_non_finite_clips_are_rejected():
  with pytest.raises(MotionFormatError, match="one non-negative weight per clip"):
    MotionLibrary([ramp_clip()], weights=[1.0, 2.0])
  bad = ramp_clip()
  bad.joint_pos[2, 1] = np.nan
  with pytest.raises(MotionFormatError, match="joint_pos frame 2 column 1"):
    MotionLibrary([bad])


def test_body_states_and_joint_mapping(g1, clip):
  clip = with_body_poses(clip, g1, ("pelvis", "left_ankle_roll_link", "torso_link"))
  lib = MotionLibrary([clip], body_names=("left_ankle_roll_link", "pelvis"), joint_names=G1_23DOF_JOINT_NAMES)
  out = lib.sample(torch.tensor([0]), torch.tensor([10 / 30]))  # frame 10 exactly
  assert out["joint_pos"].shape == (1, 23) and out["body_pos_w"].shape == (1, 2, 3)
  torch.testing.assert_close(out["body_pos_w"][0, 0], torch.tensor(clip.body_pos[10, 1], dtype=torch.float32))
  torch.testing.assert_close(out["body_pos_b"][0, 1], torch.zeros(3), atol=1e-6, rtol=0)
  with pytest.raises(MotionFormatError, match="with_body_poses"):
    MotionLibrary([clip], body_names=("right_knee_link",))
