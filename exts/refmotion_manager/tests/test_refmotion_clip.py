import zipfile

import numpy as np
import pytest

from refmotion_manager import MotionClip, MotionFormatError


def test_save_load_round_trip_is_exact(tmp_path, clip):
  path = clip.save(tmp_path / "c.npz")
  back = MotionClip.load(path)
  np.testing.assert_array_equal(back.joint_pos, clip.joint_pos)
  np.testing.assert_array_equal(back.root_quat_wxyz, clip.root_quat_wxyz)
  assert back.joint_names == clip.joint_names and back.fps == clip.fps
  assert back.metadata == {"name": "smooth", "seed": 0}
  with zipfile.ZipFile(path) as z:  # no pickled objects inside
    assert "metadata_json.npy" in z.namelist()


def test_body_arrays_round_trip(tmp_path, clip):
  t = clip.num_frames
  with_bodies = clip.replace(
    body_names=("a", "b"), body_pos=np.ones((t, 2, 3)), body_quat=np.tile([1.0, 0, 0, 0], (t, 2, 1))
  )
  back = MotionClip.load(with_bodies.save(tmp_path / "b.npz"))
  assert back.body_names == ("a", "b")
  np.testing.assert_array_equal(back.body_pos, with_bodies.body_pos)


def test_duration_and_dt(clip):
  assert clip.num_frames == 40 and clip.dt == pytest.approx(1 / 30)
  assert clip.duration == pytest.approx(39 / 30)


def test_single_frame_clip_is_rejected():
  with pytest.raises(MotionFormatError, match="at least 2 frames"):
    MotionClip(30.0, ("j",), np.zeros((1, 3)), np.array([[1.0, 0, 0, 0]]), np.zeros((1, 1)))


def test_wrong_joint_column_count_names_the_array():
  with pytest.raises(MotionFormatError, match=r"joint_pos: shape \(5, 2\), expected \(5, 3\)"):
    MotionClip(30.0, ("a", "b", "c"), np.zeros((5, 3)), np.tile([1.0, 0, 0, 0], (5, 1)), np.zeros((5, 2)))


def test_loading_a_foreign_npz_says_how_to_convert(tmp_path, digest):
  path = tmp_path / "other.npz"
  np.savez(path, x=np.zeros(3))
  before = digest(path)
  with pytest.raises(MotionFormatError) as err:
    MotionClip.load(path)
  assert str(path) in str(err.value) and "convert" in str(err.value)
  assert digest(path) == before


def test_loading_a_text_file_as_npz_is_a_clear_error(tmp_path):
  path = tmp_path / "notes.npz"
  path.write_text("hello")
  with pytest.raises(MotionFormatError, match=r"not a readable \.npz"):
    MotionClip.load(path)
