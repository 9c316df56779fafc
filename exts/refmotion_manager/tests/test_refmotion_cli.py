"""The command line, including every bad input the issue lists: one clear message naming
file, frame/column and the fix, a non-zero exit, and the input left untouched."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from refmotion_manager import G1_29DOF_JOINT_NAMES, MotionClip, load_motion, save_motion
from refmotion_manager.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
  code = main(list(argv))
  captured = capsys.readouterr()
  return code, captured.out, captured.err


def test_module_entry_point_inspects_a_shipped_clip():
  from refmotion_manager import shipped_clips

  out = subprocess.run(
    [sys.executable, "-m", "refmotion_manager", "inspect", str(shipped_clips()[0])],
    capture_output=True,
    text=True,
    check=True,
    env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
  )
  assert "fps: 50" in out.stdout and "left_knee_joint" in out.stdout


def test_convert_csv_to_23dof_npz_at_50fps_and_validate(tmp_path, capsys, clip, digest):
  src = save_motion(clip, tmp_path / "in.csv")
  before = digest(src)
  out = tmp_path / "out.npz"
  code, text, _ = run(
    capsys, "convert", str(src), str(out), "--input-fps", "30", "--joints", "g1_23dof", "--fps", "50"
  )
  assert code == 0 and "23 joints" in text
  converted = MotionClip.load(out)
  assert converted.fps == 50 and len(converted.joint_names) == 23
  assert digest(src) == before
  code, text, _ = run(capsys, "validate", str(out), "--expected-fps", "50")
  assert code == 0 and "OK" in text


def test_convert_to_mjlab_and_stgym(tmp_path, capsys, clip):
  src = clip.save(tmp_path / "c.npz")
  assert run(capsys, "convert", str(src), str(tmp_path / "m.npz"), "--to", "mjlab")[0] == 0
  assert run(capsys, "convert", str(tmp_path / "m.npz"), str(tmp_path / "s.pkl"), "--fk")[0] == 0
  back = load_motion(tmp_path / "s.pkl")
  np.testing.assert_allclose(back.joint_pos, clip.joint_pos, atol=1e-6)


def test_not_a_motion_file(tmp_path, capsys, digest):
  path = tmp_path / "readme.npz"
  np.savez(path, weights=np.ones(4))
  before = digest(path)
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.npz"))
  assert code == 2 and str(path) in err and "not a motion npz" in err and "Fix:" in err
  assert digest(path) == before
  pkl = tmp_path / "thing.pkl"
  pkl.write_bytes(pickle.dumps([1, 2, 3]))
  code, _, err = run(capsys, "inspect", str(pkl))
  assert code == 2 and "not an st_gym motion dict" in err


def test_csv_with_wrong_column_count(tmp_path, capsys, digest):
  path = tmp_path / "short.csv"
  path.write_text(
    "0,0,0.8,0,0,0,1," + ",".join(["0"] * 29) + "\n0,0,0.8,0,0,0,1," + ",".join(["0"] * 28) + "\n"
  )
  before = digest(path)
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.npz"), "--input-fps", "30")
  assert code == 2
  assert "short.csv: row 2: 35 columns, expected 36 (7 root + 29 joints)" in err
  assert "Fix:" in err and digest(path) == before


def test_unknown_joint_names(tmp_path, capsys, clip, digest):
  names = ("mystery_joint", *G1_29DOF_JOINT_NAMES[1:])
  path = clip.replace(joint_names=names).save(tmp_path / "odd.npz")
  before = digest(path)
  code, text, _ = run(capsys, "validate", str(path))
  assert code == 1 and "'mystery_joint' (column 0)" in text
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.npz"), "--to", "mjlab")
  assert code == 2 and "joint column 0 'mystery_joint'" in err and "Fix:" in err
  assert digest(path) == before


def test_nan_frames(tmp_path, capsys, clip, digest):
  clip.joint_pos[12, 4] = np.nan
  path = clip.save(tmp_path / "nan.npz")
  before = digest(path)
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.csv"))
  assert code == 2
  assert "nan.npz: frame 12" in err and "left_ankle_pitch_joint" in err and "Fix:" in err
  code, text, _ = run(capsys, "validate", str(path))
  assert code == 1 and "frame 12" in text
  assert digest(path) == before


def test_mismatched_fps(tmp_path, capsys, clip, digest):
  path = clip.save(tmp_path / "c30.npz")
  before = digest(path)
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.npz"), "--input-fps", "50")
  assert code == 2 and "the file is 30 fps, but 50 fps was declared" in err
  code, text, _ = run(capsys, "validate", str(path), "--expected-fps", "50")
  assert code == 1 and "clip is 30 fps, expected 50" in text
  assert digest(path) == before


def test_csv_without_a_rate_exits_2_with_one_line(tmp_path, capsys, clip, digest):
  path = save_motion(clip, tmp_path / "walk.csv")
  before = digest(path)
  good = clip.save(tmp_path / "good.npz")
  for argv in (
    ("inspect", str(path)),
    ("convert", str(path), str(tmp_path / "o.npz")),
    ("validate", str(good), str(path)),
  ):
    code, text, err = run(capsys, *argv)
    assert code == 2, argv
    (line,) = err.strip().splitlines()
    assert (
      line.startswith(f"error: {path}: frame rate: a CSV does not store its rate") and "--input-fps" in line
    )
  assert "good.npz: OK" in text  # validate still checked the readable file
  assert not (tmp_path / "o.npz").exists() and digest(path) == before
  code, text, _ = run(capsys, "inspect", str(path), "--input-fps", "120")
  assert code == 0 and "fps: 120" in text


def test_rate_in_the_file_name_is_used_and_checked(tmp_path, capsys, clip):
  path = save_motion(clip, tmp_path / "walk_30hz.csv")
  code, text, _ = run(capsys, "inspect", str(path))
  assert code == 0 and "fps: 30" in text
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "o.npz"), "--input-fps", "120")
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "the file name says 30 fps, but 120 fps was given" in err
  code, text, _ = run(capsys, "convert", str(path), str(tmp_path / "out.csv"), "--fps", "50")
  assert code == 0 and "read it back with --input-fps 50" in text
  assert load_motion(tmp_path / "out.csv", fps=50.0).fps == 50.0


def test_convert_refuses_to_overwrite_its_input(tmp_path, capsys, clip, digest):
  path = clip.save(tmp_path / "same.npz")
  before = digest(path)
  code, _, err = run(capsys, "convert", str(path), str(path))
  assert code == 2 and "inputs are never modified" in err
  assert digest(path) == before


@pytest.mark.parametrize(
  ("flags", "says"),
  [
    (["--fps", "0"], "target fps 0.0"),  # was taken as "no --fps"
    (
      ["--joints", "g1_23dof", "--fill", "left_wrist_rol_joint=0"],
      "fill ['left_wrist_rol_joint']: not among",
    ),
    (["--joints", "g1_23dof", "--fill", "waist_roll_joint"], "--fill waist_roll_joint: is not JOINT=VALUE"),
    (
      ["--joints", "g1_23dof", "--fill", "waist_roll_joint=x"],
      "--fill waist_roll_joint=x: is not JOINT=VALUE",
    ),
    (["--fill", "waist_roll_joint=0"], "--fill: only applies with --joints"),
  ],
)
def test_convert_options_that_did_nothing_or_crashed_exit_2(tmp_path, capsys, clip, flags, says):
  path = clip.save(tmp_path / "in.npz")
  code, _, err = run(capsys, "convert", str(path), str(tmp_path / "out.npz"), *flags)
  assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
  assert not (tmp_path / "out.npz").exists()


def test_fill_values_the_joints_the_clip_lacks(tmp_path, capsys, clip):
  small = tmp_path / "small.npz"
  assert (
    run(capsys, "convert", str(clip.save(tmp_path / "in.npz")), str(small), "--joints", "g1_23dof")[0] == 0
  )
  wrists = [f"{n}={0.25 * (i + 1)}" for i, n in enumerate(n for n in G1_29DOF_JOINT_NAMES if "wrist" in n)]
  code, _, err = run(
    capsys, "convert", str(small), str(tmp_path / "full.npz"), "--joints", "g1_29dof", "--fill", *wrists
  )
  assert code == 0, err
  full = load_motion(tmp_path / "full.npz")
  for entry in wrists:
    name, value = entry.split("=")
    np.testing.assert_array_equal(full.joint_pos[:, full.joint_names.index(name)], float(value))


def test_strict_turns_warnings_into_failure(tmp_path, capsys, clip):
  path = clip.save(tmp_path / "c.npz")  # 1.3 s fixture floats at 0.79 m, feet slide
  code, _, _ = run(capsys, "validate", str(path))
  assert code == 0
  code, text, _ = run(capsys, "validate", str(path), "--strict")
  assert code == 1 and "FAILED" in text


def test_synthesize_writes_named_clips(tmp_path, capsys):
  code, _, _ = run(
    capsys, "synthesize", "--out", str(tmp_path), "--motion", "squat", "--fps", "25", "--duration", "0.4"
  )
  assert code == 0 and (tmp_path / "g1_squat.npz").is_file()
  assert MotionClip.load(tmp_path / "g1_squat.npz").num_frames == 11
  code, _, err = run(capsys, "synthesize", "--out", str(tmp_path), "--motion", "moonwalk")
  assert code == 2 and "moonwalk" in err


@pytest.mark.parametrize("bad", ["--format"])
def test_unknown_format_choice_is_rejected_by_argparse(capsys, bad):
  with pytest.raises(SystemExit):
    main(["inspect", "x.npz", bad, "bvh"])
