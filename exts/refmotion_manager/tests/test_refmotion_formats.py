import pickle
from pathlib import Path

import numpy as np
import pytest

from refmotion_manager import (
  G1_23DOF_JOINT_NAMES,
  G1_29DOF_JOINT_NAMES,
  MotionClip,
  MotionFormatError,
  load_motion,
  rate_from_name,
  remap_joints,
  save_motion,
  with_body_poses,
)
from refmotion_manager.formats.lafan_csv import load_lafan_csv
from refmotion_manager.formats.stgym_pkl import stgym_motion_names

S = np.sqrt(0.5)


def assert_same_motion(a: MotionClip, b: MotionClip, tol: float = 1e-6) -> None:
  assert a.joint_names == b.joint_names
  assert a.fps == pytest.approx(b.fps, abs=1e-9)
  np.testing.assert_allclose(a.joint_pos, b.joint_pos, atol=tol, rtol=0)
  # q and -q are the same orientation.
  dots = np.abs(np.sum(a.root_quat_wxyz * b.root_quat_wxyz, axis=1))
  np.testing.assert_allclose(dots, 1.0, atol=tol)
  np.testing.assert_allclose(a.root_quat_wxyz, b.root_quat_wxyz, atol=tol, rtol=0)
  np.testing.assert_allclose(a.root_pos, b.root_pos, atol=tol, rtol=0)


def test_lafan_csv_layout_is_xyz_then_xyzw_then_joints(tmp_path):
  """A hand-written 2-row CSV: root at (1, 2, 0.8) yawed 90 deg, left knee 0.5 rad."""
  row = [1.0, 2.0, 0.8, 0.0, 0.0, S, S] + [0.0] * 29
  row[7 + G1_29DOF_JOINT_NAMES.index("left_knee_joint")] = 0.5
  path = tmp_path / "walk.csv"
  path.write_text("\n".join(",".join(str(float(v)) for v in row) for _ in range(2)) + "\n")
  clip = load_motion(path, fps=30.0)
  assert clip.fps == 30.0 and clip.joint_names == G1_29DOF_JOINT_NAMES
  np.testing.assert_allclose(clip.root_quat_wxyz[0], [S, 0, 0, S])
  np.testing.assert_allclose(clip.root_pos[1], [1.0, 2.0, 0.8])
  assert clip.joint_pos[0, 3] == 0.5


@pytest.mark.parametrize("suffix", [".csv", ".pkl", ".npz"])
def test_round_trip_through_each_format(tmp_path, clip, suffix):
  path = save_motion(clip, tmp_path / f"clip_30hz{suffix}")  # a CSV's rate from its name
  assert_same_motion(load_motion(path), clip, tol=1e-12)


def test_round_trip_through_mjlab_npz(tmp_path, clip, g1):
  path = save_motion(clip, tmp_path / "motion.npz", "mjlab", model=g1)
  data = np.load(path)
  assert data["body_pos_w"].shape == (clip.num_frames, 30, 3)
  assert data["joint_vel"].shape == (clip.num_frames, 29) and data["fps"].shape == (1,)
  back = load_motion(path, model=g1)
  assert_same_motion(back, clip)  # float32 storage: within 1e-6
  assert back.body_names == g1.body_names


def test_chain_of_all_formats_keeps_angles_to_1e6(tmp_path, clip, g1):
  current = clip
  for name, fmt in (
    ("a_30fps.csv", None),
    ("b.pkl", None),
    ("c.npz", "mjlab"),
    ("d.npz", None),
    ("e_fps30.csv", None),
  ):
    path = save_motion(current, tmp_path / name, fmt, model=g1)
    current = load_motion(path, model=g1)
  assert_same_motion(current, clip)


def test_mjlab_npz_without_names_uses_mjcf_order(tmp_path, clip, g1):
  path = save_motion(clip, tmp_path / "m.npz", "mjlab", model=g1)
  data = dict(np.load(path))
  del data["joint_names"], data["body_names"]  # what mjlab's csv_to_npz.py writes
  bare = tmp_path / "bare.npz"
  np.savez(bare, **data)
  assert load_motion(bare, model=g1).joint_names == g1.joint_names
  with pytest.raises(MotionFormatError, match="pass the robot's MJCF"):
    load_motion(bare)


def test_stgym_pkl_fields_and_values(tmp_path, clip, g1):
  clip = with_body_poses(clip, g1, ("pelvis", "left_knee_link"))
  path = save_motion(clip, tmp_path / "dance.pkl")
  with path.open("rb") as f:
    motion = pickle.load(f)["dance"]
  fields = motion["Fields"]
  assert fields[:7] == [
    "root_pos_x",
    "root_pos_y",
    "root_pos_z",
    "root_rot_x",
    "root_rot_y",
    "root_rot_z",
    "root_rot_w",
  ]
  frames = motion["Frames"]
  assert motion["FrameDuration"] == pytest.approx(1 / 30)
  knee = G1_29DOF_JOINT_NAMES.index("left_knee_joint")
  np.testing.assert_array_equal(frames[:, fields.index("left_knee_joint_dof_pos")], clip.joint_pos[:, knee])
  # The pelvis is the root: in the root frame it sits at the origin.
  for axis in "xyz":
    np.testing.assert_allclose(frames[:, fields.index(f"pelvis_pos_{axis}_b")], 0.0, atol=1e-12)
  # Root linear velocity in world frame: x moves at 0.5 m/s in the fixture.
  np.testing.assert_allclose(frames[:, fields.index("root_vel_x_w")], 0.5, atol=1e-9)


def test_stgym_pkl_written_by_joblib_is_read(tmp_path, clip):
  joblib = pytest.importorskip("joblib")
  path = save_motion(clip, tmp_path / "plain.pkl")
  with path.open("rb") as f:
    obj = pickle.load(f)
  joblib_path = tmp_path / "joblib.pkl"
  joblib.dump(obj, joblib_path)
  assert_same_motion(load_motion(joblib_path), clip, tol=1e-12)


def test_multi_motion_pkl_needs_a_key(tmp_path, clip):
  path = save_motion(clip, tmp_path / "one.pkl")
  with path.open("rb") as f:
    obj = pickle.load(f)
  obj["second"] = obj["one"]
  multi = tmp_path / "multi.pkl"
  with multi.open("wb") as f:
    pickle.dump(obj, f)
  assert stgym_motion_names(multi) == ["one", "second"]
  with pytest.raises(MotionFormatError, match="--motion-key"):
    load_motion(multi)
  assert load_motion(multi, motion_key="second").num_frames == clip.num_frames


def test_29_to_23_dof_drops_the_wrists_by_name(clip):
  small = remap_joints(clip, G1_23DOF_JOINT_NAMES)
  assert len(small.joint_names) == 23
  assert not any("wrist" in n for n in small.joint_names)
  src = G1_29DOF_JOINT_NAMES.index("right_elbow_joint")
  dst = G1_23DOF_JOINT_NAMES.index("right_elbow_joint")
  assert (src, dst) == (25, 22)
  np.testing.assert_array_equal(small.joint_pos[:, dst], clip.joint_pos[:, src])


def test_23_to_29_needs_explicit_wrist_values(clip):
  small = remap_joints(clip, G1_23DOF_JOINT_NAMES)
  with pytest.raises(MotionFormatError, match="left_wrist_roll_joint"):
    remap_joints(small, G1_29DOF_JOINT_NAMES)
  wrists = {n: 0.0 for n in G1_29DOF_JOINT_NAMES if "wrist" in n}
  full = remap_joints(small, G1_29DOF_JOINT_NAMES, fill=wrists)
  np.testing.assert_array_equal(full.joint_pos[:, 19:22], 0.0)


def _csv_rows(tmp_path, name: str, frames: int = 3) -> Path:
  path = tmp_path / name
  path.write_text(
    "\n".join(",".join(["0", "0", "0.8", "0", "0", "0", "1"] + ["0"] * 29) for _ in range(frames))
  )
  return path


def test_a_csv_rate_is_never_assumed(tmp_path):
  path = _csv_rows(tmp_path, "walk.csv")
  for read in (load_motion, load_lafan_csv):
    with pytest.raises(MotionFormatError) as err:
      read(path)
    assert str(err.value).startswith(f"{path}: frame rate: a CSV does not store its rate")
    assert "fps=" in str(err.value) and "--input-fps" in str(err.value) and "e.g. 120" in str(err.value)
  assert load_motion(path, fps=120.0).fps == 120.0 and load_lafan_csv(path, fps=25.0).fps == 25.0


@pytest.mark.parametrize(
  ("name", "rate"),
  [
    ("G1_Take_102.bvh_60hz.csv", 60.0),
    ("walk60Hz.csv", 60.0),
    ("run_120FPS.csv", 120.0),
    ("take_fps30.pkl", 30.0),
    ("fps25.npz", 25.0),
    ("clip.29.97fps.csv", 29.97),
    ("walk_60hz_60hz.csv", 60.0),
    ("walk.csv", None),
    ("idle_turn_360_001__A047.csv", None),
    ("c30.npz", None),
    ("hzfps.csv", None),
  ],
)
def test_rate_from_name(name, rate):
  assert rate_from_name(name) == rate


def test_a_name_with_two_rates_is_an_error(tmp_path):
  with pytest.raises(
    MotionFormatError, match=r"walk_60hz_fps30\.csv: file name: names several rates \(30, 60\)"
  ):
    load_motion(_csv_rows(tmp_path, "walk_60hz_fps30.csv"))


def test_a_csv_reads_at_its_named_rate_and_a_contradiction_stops(tmp_path):
  path = _csv_rows(tmp_path, "G1_Take_102.bvh_60hz.csv")
  assert load_motion(path).fps == 60.0 and load_lafan_csv(path).fps == 60.0
  assert load_motion(path, fps=60.0).fps == 60.0
  for read in (load_motion, load_lafan_csv):
    with pytest.raises(
      MotionFormatError, match=r"60hz\.csv: frame rate: the file name says 60 fps, but 120 fps was given"
    ):
      read(path, fps=120.0)


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_a_stored_rate_must_agree_with_the_name(tmp_path, clip, suffix):
  assert load_motion(save_motion(clip, tmp_path / f"walk_30hz{suffix}")).fps == 30.0
  with pytest.raises(MotionFormatError, match="the name says 60 fps, but the clip is 30 fps"):
    save_motion(clip, tmp_path / f"walk_60hz{suffix}")
  assert not (tmp_path / f"walk_60hz{suffix}").exists()
  wrong = tmp_path / f"walk_60hz{suffix}"
  save_motion(clip, tmp_path / f"walk{suffix}").rename(wrong)
  with pytest.raises(
    MotionFormatError, match=r"60hz\.\w+: frame rate: the file name says 60 fps, but the file stores 30 fps"
  ):
    load_motion(wrong)


def test_a_csv_is_written_at_the_clip_rate(tmp_path, clip):
  clip50 = clip.replace(fps=50.0)
  path = save_motion(clip50, tmp_path / "x.csv")
  assert_same_motion(load_motion(path, fps=50.0), clip50, tol=1e-12)
  with pytest.raises(MotionFormatError, match="the name says 30 fps, but the clip is 50 fps"):
    save_motion(clip50, tmp_path / "x_30hz.csv")


def test_declared_fps_that_contradicts_the_file_is_an_error(tmp_path, clip):
  path = save_motion(clip, tmp_path / "c.npz")
  with pytest.raises(MotionFormatError, match="the file is 30 fps, but 50 fps was declared"):
    load_motion(path, fps=50.0)
