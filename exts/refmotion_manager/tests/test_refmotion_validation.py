import mujoco
import numpy as np
import pytest

from refmotion_manager import (
  G1_29DOF_JOINT_NAMES,
  MotionClip,
  ValidationConfig,
  body_states,
  load_motion,
  quat,
  shipped_clips,
  validate_clip,
)
from refmotion_manager.contact import foot_contacts, geom_lowest_point
from refmotion_manager.synth.generate import ankle_height

# Three geoms whose lowest points are easy to compute by hand.
TOY_GEOMS = """
<mujoco>
  <worldbody>
    <geom name="ball" type="sphere" size="0.05" pos="1 2 3"/>
    <geom name="stick" type="capsule" fromto="0 0 1 0.3 0 1.4" size="0.02"/>
    <geom name="brick" type="box" size="0.1 0.2 0.3" pos="0 0 1" euler="30 0 0"/>
  </worldbody>
</mujoco>
"""


@pytest.fixture
def toy_geoms() -> tuple[mujoco.MjModel, mujoco.MjData]:
  m = mujoco.MjModel.from_xml_string(TOY_GEOMS)
  return m, mujoco.MjData(m)


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


FEET = ("left_ankle_roll_link", "right_ankle_roll_link")


def _ankle_pitch_clip(pitch: np.ndarray, root_pos: np.ndarray, fps: float) -> MotionClip:
  joint_pos = np.zeros((len(pitch), 29))
  for name in ("left_ankle_pitch_joint", "right_ankle_pitch_joint"):
    joint_pos[:, G1_29DOF_JOINT_NAMES.index(name)] = pitch
  quats = np.tile([1.0, 0.0, 0.0, 0.0], (len(pitch), 1))
  return MotionClip(fps, G1_29DOF_JOINT_NAMES, root_pos, quats, joint_pos)


def heel_to_toe_roll(g1, slide_speed: float = 0.0, fps: float = 120.0) -> MotionClip:
  """Straight legs; both ankles pitch from toes-up to heels-up (-0.5 -> +0.5 rad in 0.2 s,
  5 rad/s, between 0.4 s holds). The sole's long capsule (foot4_collision) rolls over its
  heel end, then its toe end: the pelvis moves so that the centre of the end that is down
  stays put one capsule radius above the ground. `slide_speed` then drags everything along x."""
  t = np.arange(round(1.0 * fps) + 1) / fps
  pitch = np.interp(t, [0.4, 0.6], [-0.5, 0.5])
  m = g1.mj_model
  g = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "left_foot4_collision")
  axis = quat.rotate(m.geom_quat[g], np.array([0.0, 0.0, 1.0]))
  heel, toe = sorted(
    (m.geom_pos[g] - m.geom_size[g, 1] * axis, m.geom_pos[g] + m.geom_size[g, 1] * axis), key=lambda p: p[0]
  )
  # Which end is down at negative pitch: the one lower after a small negative pitch.
  probe = body_states(_ankle_pitch_clip(np.array([-0.1, 0.0]), np.zeros((2, 3)), fps), g1, FEET[:1])
  low_end_neg = min((heel, toe), key=lambda p: (probe.pos[0, 0] + quat.rotate(probe.quat[0, 0], p))[2])
  high_end_neg = toe if low_end_neg is heel else heel
  flat = [probe.pos[1, 0] + quat.rotate(probe.quat[1, 0], p) for p in (low_end_neg, high_end_neg)]
  states = body_states(_ankle_pitch_clip(pitch, np.zeros((len(t), 3)), fps), g1, FEET[:1])
  pivot_b = np.where((pitch < 0)[:, None], low_end_neg, high_end_neg)
  pivot_w = states.pos[:, 0] + quat.rotate(states.quat[:, 0], pivot_b)
  radius = m.geom_size[g, 0]
  target = np.where((pitch < 0)[:, None], flat[0], flat[1]) - [0.0, 0.0, flat[0][2] - radius]
  root = target - pivot_w
  root[:, 0] += slide_speed * t
  return _ankle_pitch_clip(pitch, root, fps)


def test_heel_to_toe_roll_is_not_skating_but_the_ankle_origin_would_be(g1):
  clip = heel_to_toe_roll(g1)
  contacts = foot_contacts(clip, g1, FEET)
  assert np.abs(contacts.height).max() < 2e-3  # on the ground throughout, heel then toe
  # The contact moves heel -> toe by the sole's length (18.6 cm), the point itself stays put.
  travel = contacts.point[-1, :, 0] - contacts.point[0, :, 0]
  np.testing.assert_allclose(travel, 0.186, atol=0.01)
  # The old measure, the ankle body origin, swings forward while the foot is down.
  origin_speed = np.linalg.norm(body_states(clip, g1, FEET).lin_vel[..., :2], axis=-1)
  skate_speed = ValidationConfig().skate_speed
  assert origin_speed.max() > 1.5 * skate_speed
  # At the lowest point only the capsule's rounding (r = 1 cm, 5 rad/s) moves: <= 5 cm/s.
  assert contacts.speed_xy.max() < 0.06
  report = validate_clip(clip, g1, strict=True)
  assert report.ok and not report.issues, report.to_text()


def test_a_sliding_planted_foot_is_skating(g1):
  clip = heel_to_toe_roll(g1, slide_speed=0.4)
  report = validate_clip(clip, g1)
  skating = [i for i in report.issues if i.check == "foot_skating"]
  assert len(skating) == 2 and all(f"in {clip.num_frames} frame(s)" in i.message for i in skating)
  np.testing.assert_allclose(foot_contacts(clip, g1, FEET).speed_xy, 0.4, atol=0.06)


def skimming_swing(g1, fps: float = 50.0) -> MotionClip:
  """Feet swept forward at 2.5 m/s on an arc whose soles pass 1.2 cm above the ground at
  t = 0.5 s: height 0.012 + 3.8 (t - 0.5)^2 m, below 2 cm for 5 frames, still (|vz| <
  0.1 m/s) only at the bottom (vz = 7.6 (t - 0.5) m/s)."""
  clip = standing(g1, frames=round(fps) + 1, fps=fps)
  t = np.arange(clip.num_frames) / fps
  clip.root_pos[:, 0] = 2.5 * t
  clip.root_pos[:, 2] += 0.012 + 3.8 * (t - 0.5) ** 2
  return clip


def test_a_swing_foot_skimming_the_ground_fast_is_not_skating(g1):
  clip = skimming_swing(g1)
  contacts = foot_contacts(clip, g1, FEET)
  low = contacts.height < ValidationConfig().contact_height
  assert low.sum(axis=0).tolist() == [5, 5]  # the height-only test called these 5 frames skating
  np.testing.assert_allclose(contacts.speed_xy[low], 2.5, atol=1e-6)
  np.testing.assert_allclose(contacts.speed_z[25], 0.0, atol=1e-6)
  np.testing.assert_allclose(contacts.speed_z[26], 7.6 * 0.02, atol=1e-6)  # d(height)/dt, central
  report = validate_clip(clip, g1)
  assert "foot_skating" not in checks(report), report.to_text()
  # Held 1.2 cm up for 0.18 s (frames 21-29): hovering, not on the ground (touch-down < 1 cm).
  bottom = np.abs(np.arange(51) - 25) <= 4
  held = skimming_swing(g1)
  held.root_pos[bottom, 2] = held.root_pos[25, 2]
  assert "foot_skating" not in checks(validate_clip(held, g1))
  # Held on the ground instead: a planted foot sliding at 2.5 m/s (the 7 frames inside the
  # hold; at its ends the central difference of the height sees the 1.2 cm step).
  held.root_pos[bottom, 2] -= 0.012
  skating = [i for i in validate_clip(held, g1).issues if i.check == "foot_skating"]
  assert len(skating) == 2 and all("2.50 m/s" in i.message and "in 7 frame(s)" in i.message for i in skating)


def test_geom_lowest_point_by_hand(toy_geoms):
  m, d = toy_geoms
  mujoco.mj_kinematics(m, d)
  point = {
    name: geom_lowest_point(m, d, mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, name))
    for name in ("ball", "stick", "brick")
  }
  np.testing.assert_allclose(point["ball"], [1.0, 2.0, 2.95], atol=1e-12)
  # Axis (0.6, 0, 0.8), half-length 0.25 from (0.15, 0, 1.2): lower end (0, 0, 1), minus r.
  np.testing.assert_allclose(point["stick"], [0.0, 0.0, 0.98], atol=1e-12)
  # Box half-sizes (0.1, 0.2, 0.3) rolled 30 deg about x: lowest edge at
  # -(0.2 * (0, cos30, sin30) + 0.3 * (0, -sin30, cos30)), centred in x.
  c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
  expected = np.array([0.0, 0.0, 1.0]) - (0.2 * np.array([0, c, s]) + 0.3 * np.array([0, -s, c]))
  np.testing.assert_allclose(point["brick"], expected, atol=1e-12)
