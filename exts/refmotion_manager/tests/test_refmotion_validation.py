import numpy as np
import pytest

from refmotion_manager import (
  G1_29DOF_JOINT_NAMES,
  MotionClip,
  ValidationConfig,
  load_motion,
  shipped_clips,
  validate_clip,
)
from refmotion_manager.synth.generate import ankle_height


def standing(g1, frames: int = 51, fps: float = 50.0) -> MotionClip:
  """Straight legs, feet flat exactly on the ground."""
  # With the pelvis at 0.8 m and zero joints the ankle_roll_link origin is 0.04314 m high;
  # the sole is ankle_height below it, so this pelvis height puts the sole at z = 0.
  z = 0.8 - (0.0431362476 - ankle_height(g1))
  root = np.tile([0.0, 0.0, z], (frames, 1))
  return MotionClip(
    fps, G1_29DOF_JOINT_NAMES, root, np.tile([1.0, 0, 0, 0], (frames, 1)), np.zeros((frames, 29))
  )


def checks(report) -> set[str]:
  return {i.check for i in report.issues}


def test_standing_clip_is_clean(g1):
  report = validate_clip(standing(g1), g1, strict=True)
  assert report.ok and not report.issues, report.to_text()


def test_nan_is_an_error_naming_frame_and_column(g1):
  clip = standing(g1)
  clip.joint_pos[7, 3] = np.nan
  report = validate_clip(clip, g1)
  assert not report.ok
  (issue,) = [i for i in report.issues if i.check == "finite"]
  assert issue.frame == 7 and "left_knee_joint" in issue.message


def test_joint_limit_violation_is_a_warning_with_amount(g1):
  clip = standing(g1)
  clip.joint_pos[5, G1_29DOF_JOINT_NAMES.index("left_elbow_joint")] = 2.2  # limit 2.0944
  report = validate_clip(clip, g1)
  assert report.ok and checks(report) == {"joint_limit"}
  assert "0.1056 rad outside" in report.issues[0].message and report.issues[0].frame == 5
  assert not validate_clip(clip, g1, strict=True).ok


def test_penetration_and_root_height(g1):
  clip = standing(g1)
  clip.root_pos[10:20, 2] -= 0.05
  clip.root_pos[30, 2] = 2.0
  report = validate_clip(clip, g1)
  assert {"foot_penetration", "root_height"} <= checks(report)
  pen = next(i for i in report.issues if i.check == "foot_penetration")
  assert "0.050 m below" in pen.message


def test_sliding_feet_are_skating(g1):
  clip = standing(g1)
  clip.root_pos[:, 0] = np.arange(clip.num_frames) / clip.fps * 0.5  # drag at 0.5 m/s
  report = validate_clip(clip, g1)
  assert "foot_skating" in checks(report)


def test_fps_mismatch_and_short_clip(g1):
  clip = standing(g1, frames=10)
  report = validate_clip(clip, g1, ValidationConfig(expected_fps=30.0))
  assert not report.ok and {"fps", "short"} <= checks(report)


def test_unknown_joint_is_an_error(g1):
  clip = standing(g1)
  clip = clip.replace(joint_names=("elbow_of_a_robot_arm", *G1_29DOF_JOINT_NAMES[1:]))
  report = validate_clip(clip, g1)
  assert not report.ok and "'elbow_of_a_robot_arm' (column 0)" in report.to_text()


def test_non_unit_quaternion_is_an_error(g1):
  clip = standing(g1)
  clip.root_quat_wxyz[3] = [2.0, 0, 0, 0]
  assert "quaternion" in {i.check for i in validate_clip(clip, g1).errors}


@pytest.mark.parametrize("path", shipped_clips(), ids=lambda p: p.stem)
def test_shipped_clips_validate_strictly(g1, path):
  report = validate_clip(load_motion(path), g1, ValidationConfig(expected_fps=50.0), strict=True)
  assert report.ok, report.to_text()
