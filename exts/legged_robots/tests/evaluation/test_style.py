"""Style metrics with hand-computed values; a shipped clip; style_report.py end to end."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from legged_robots.evaluation.style import (
  GaitTrajectory,
  dtw_distance,
  foot_contact,
  gait_cycle_dtw,
  gait_stats,
  gait_window,
  joint_distribution_distance,
  matched_clips,
  pitch_angle,
  style_report,
  touchdowns,
  wasserstein_1,
)

REPO = Path(__file__).resolve().parents[4]
SCRIPT = REPO / "scripts" / "st_rl" / "style_report.py"
POLICY = REPO / "policies" / "flat_g1_h200"
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
JOINTS = ("left_shoulder_pitch_joint", "right_shoulder_pitch_joint", "waist_yaw_joint")
YAW_90 = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])


def _walk(frames: int = 400, amplitude: float = 0.3, pitch: float = 0.1) -> GaitTrajectory:
  """dt 0.01 s, gait period 100 frames (1 s): each foot in contact 60 frames, right 50 frames after left.

  A foot lands at x = 0.5 k (k-th touchdown), swings 40 frames to the next spot, 0.1 m above
  its stance height at mid swing. Heading +y (yaw 90 deg), 0.5 m/s forward, torso pitched by
  `pitch`, shoulders amplitude * (sin, -sin) of the gait phase, waist constant 0.
  """
  t = np.arange(frames)
  feet, contact = np.zeros((frames, 2, 3)), np.zeros((frames, 2), dtype=bool)
  for k, offset in enumerate((0, 50)):
    u = (t - offset) % 100
    swing = np.clip((u - 60) / 40, 0.0, 1.0)
    feet[:, k, 0] = 0.5 * ((t - offset) // 100 + swing)
    feet[:, k, 2] = 0.05 + 0.1 * np.sin(np.pi * swing)
    contact[:, k] = u < 60
  arm = amplitude * np.sin(2 * np.pi * t / 100)
  c, s = math.cos(pitch / 2), math.sin(pitch / 2)
  w, z = YAW_90[0], YAW_90[3]
  yawed_torso = [w * c, -z * s, w * s, z * c]  # (w, 0, 0, z) (x) (c, 0, s, 0): yaw 90 deg, then pitch
  return GaitTrajectory(
    dt=0.01,
    joint_names=JOINTS,
    joint_pos=np.stack([arm, -arm, np.zeros(frames)], axis=1),
    base_pos_w=np.zeros((frames, 3)),
    base_quat_wxyz=np.tile(YAW_90, (frames, 1)),
    base_lin_vel_b=np.tile([0.5, 0.0, 0.0], (frames, 1)),
    foot_pos_w=feet,
    foot_contact=contact,
    torso_quat_wxyz=np.tile(yawed_torso, (frames, 1)),
    name="walk",
  )


def test_gait_stats_of_a_known_gait():
  s = gait_stats(_walk())
  # touchdowns: right at frames 50, 150, 250, 350; left at 100, 200, 300 -> 7 in 3 s
  assert s["steps"] == 7
  assert s["cadence_steps_per_min"] == pytest.approx(60 * 6 / 3.0)
  assert s["stride_length_m"] == pytest.approx(0.5)
  # frames 50..349: both feet down when the gait phase is in [0, 10) or [50, 60): 20 %
  assert s["double_support_fraction"] == pytest.approx(0.2)
  assert s["foot_clearance_m"] == pytest.approx(0.1)
  assert s["arm_swing_rad"] == pytest.approx(2 * 0.3)
  assert s["torso_pitch_rad"] == pytest.approx(0.1)
  assert s["forward_speed_m_s"] == pytest.approx(0.5)


def test_no_steps_gives_nan_not_a_crash():
  walk = _walk()
  standing = replace(walk, foot_contact=np.ones_like(walk.foot_contact))
  s = gait_stats(standing)
  assert s["steps"] == 0
  for key in ("cadence_steps_per_min", "stride_length_m", "double_support_fraction", "foot_clearance_m"):
    assert math.isnan(s[key]), key
  assert s["arm_swing_rad"] == pytest.approx(0.6) and s["forward_speed_m_s"] == pytest.approx(0.5)
  torso_less = replace(standing, torso_quat_wxyz=None)
  assert gait_stats(torso_less)["torso_pitch_rad"] == pytest.approx(0.0)  # the base is upright


def test_contact_touchdowns_and_pitch():
  assert touchdowns(np.array([1, 0, 1, 1, 0, 0, 1], dtype=bool)).tolist() == [2, 6]
  lowest = np.array([[0.0], [0.01], [0.05], [0.0]])
  # x moves 0, 0, 0.1, 0.1 per 0.1 s: central-difference speeds 0, 0.5, 0.5, 0 m/s
  feet = np.array([[[0.0, 0, 0]], [[0.0, 0, 0]], [[0.1, 0, 0]], [[0.1, 0, 0]]])
  assert foot_contact(lowest, feet, 0.1, 0.03, 0.4).ravel().tolist() == [True, False, False, True]
  assert pitch_angle(YAW_90) == pytest.approx(0.0)


def test_gait_window_cuts_standing_and_keeps_the_steps():
  walk = _walk()
  contact = walk.foot_contact.copy()
  contact[:50] = True  # stands still for the first 0.5 s
  padded = replace(walk, foot_contact=contact)
  cut = gait_window(padded)
  assert cut.joint_pos.shape[0] == 351 - 99  # frames 99 .. 350: first touchdown 100 (- 1) .. last 350
  assert gait_stats(cut)["steps"] == gait_stats(padded)["steps"] == 6


def test_wasserstein_1_hand_values():
  assert wasserstein_1(np.array([0.0, 1.0]), np.array([1.0, 2.0])) == pytest.approx(1.0)
  # F_a jumps to 1 at 0; F_b is 0.5 on [0, 1): the CDFs differ by 0.5 over a unit interval
  assert wasserstein_1(np.array([0.0]), np.array([0.0, 1.0])) == pytest.approx(0.5)


def test_joint_distance_matches_joints_by_name():
  a = _walk()
  b = replace(
    a, joint_names=tuple(reversed(JOINTS)), joint_pos=a.joint_pos[:, ::-1] + np.array([1.0, 0.0, 0.0])
  )  # waist + 1 rad, shoulders unchanged
  d = joint_distribution_distance(a, [b, b])
  assert d["waist_yaw_joint"] == pytest.approx(1.0)
  assert d["left_shoulder_pitch_joint"] == pytest.approx(0.0)
  assert d["mean_over_joints"] == pytest.approx(1.0 / 3)


def test_dtw_hand_values():
  assert dtw_distance(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0, 2.0])) == pytest.approx(0.0)
  # best path (0,0) (0,1) (1,2) (1,3): costs 0 + 1 + 1 + 0 = 2 over 4 cells
  assert dtw_distance(np.array([0.0, 3.0]), np.array([0.0, 1.0, 2.0, 3.0])) == pytest.approx(0.5)
  assert dtw_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)


def test_gait_cycle_dtw():
  walk = _walk()
  assert gait_cycle_dtw(walk, walk) == pytest.approx(0.0)
  waist = replace(walk, joint_pos=walk.joint_pos + np.array([0.0, 0.0, 0.2]))
  assert gait_cycle_dtw(walk, waist, ["waist_yaw_joint"]) == pytest.approx(0.2)  # every cell costs 0.2
  standing = replace(walk, foot_contact=np.ones_like(walk.foot_contact))
  assert math.isnan(gait_cycle_dtw(walk, standing))


def test_speed_matching_and_report():
  assert matched_clips(0.5, [0.3, 0.7, 1.0], 0.25) == [0, 1]
  assert matched_clips(0.5, [1.0, 0.9], 0.25) == [1]  # none within: the nearest
  walk = _walk()
  fast = replace(walk, base_lin_vel_b=walk.base_lin_vel_b * 3, name="fast")
  standing = replace(walk, foot_contact=np.ones_like(walk.foot_contact), name="standing")
  report = style_report(replace(walk, name="policy"), [fast, standing])
  assert report["clips"]["used"] == ["standing"] and report["clips"]["within_tolerance"]
  assert report["clips"]["stats"]["cadence_steps_per_min"] is None  # NaN -> null
  assert report["policy"]["stats"]["cadence_steps_per_min"] == pytest.approx(120.0)
  assert report["joint_w1_rad"]["waist_yaw_joint"] == pytest.approx(0.0)  # 0 rad in both
  assert report["gait_cycle_dtw_rad"] == {"per_clip": {"standing": None}, "mean": None}  # no cycle
  json.dumps(report, allow_nan=False)


def test_shipped_walk_clip():
  import refmotion_manager as rm
  from legged_robots.evaluation.style import clip_trajectory

  clip = rm.load_motion(rm.data_path() / "g1_walk.npz")
  s = gait_stats(clip_trajectory(clip, rm.RobotModel.from_mjcf(rm.default_g1_mjcf())))
  assert 0 < s["cadence_steps_per_min"] < math.inf
  assert s["cadence_steps_per_min"] == pytest.approx(60 / 0.4, rel=0.02)  # README: 0.4 s steps
  displacement = np.linalg.norm(clip.root_pos[-1, :2] - clip.root_pos[0, :2])
  assert s["forward_speed_m_s"] == pytest.approx(displacement / clip.duration, rel=0.02)
  assert s["stride_length_m"] == pytest.approx(0.8 * 0.8, rel=0.02)  # 0.8 m/s, 2 steps of 0.4 s


def test_rollout_module_imports_no_torch_or_mjlab():
  code = (
    "import sys, legged_robots.evaluation.style_rollout\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'mjlab', 'warp')))"
  )
  out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "[]"


def _cli(*args: str) -> subprocess.CompletedProcess:
  cmd = [sys.executable, str(SCRIPT), *args]
  return subprocess.run(cmd, env=ENV, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_script_writes_report(tmp_path):
  import refmotion_manager as rm

  out = tmp_path / "out"
  walk = str(rm.data_path() / "g1_walk.npz")
  result = _cli(str(POLICY), "--motions", walk, "--duration", "4", "--out", str(out))
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads((out / "style_report.json").read_text())
  assert set(report) == {"policy", "clips", "joint_w1_rad", "gait_cycle_dtw_rad", "units"}
  assert report["clips"]["used"] == [walk]
  assert report["policy"]["stats"]["steps"] > 0 and "cadence_steps_per_min" in result.stdout
  assert (out / "style_report.png").stat().st_size > 10_000


def test_script_bad_input_exits_2_and_writes_nothing(tmp_path):
  out = tmp_path / "out"
  missing = _cli(str(POLICY), "--motions", str(tmp_path / "nope.npz"), "--out", str(out))
  assert missing.returncode == 2 and "nope.npz does not exist" in missing.stderr
  csv = tmp_path / "walk.csv"
  csv.write_text(",".join(["0"] * 36) + "\n")
  no_fps = _cli(str(POLICY), "--motions", str(csv), "--out", str(out))
  assert no_fps.returncode == 2 and "--fps" in no_fps.stderr
  import refmotion_manager as rm

  walk = str(rm.data_path() / "g1_walk.npz")
  # a speed the policy never trained at fell (exit 1), a NaN one ran a NaN policy
  fast = _cli(str(POLICY), "--motions", walk, "--speed", "9", "--out", str(out))
  assert fast.returncode == 2 and "--speed 9.0 is outside" in fast.stderr and "[-0.5, 1]" in fast.stderr
  nan = _cli(str(POLICY), "--motions", walk, "--speed", "nan", "--out", str(out))
  assert nan.returncode == 2 and "--speed nan is outside" in nan.stderr
  zero_fps = _cli(str(POLICY), "--motions", str(csv), "--fps", "0", "--out", str(out))
  assert zero_fps.returncode == 2 and "--fps must be a finite number > 0, got 0.0" in zero_fps.stderr
  for result in (missing, no_fps, fast, nan, zero_fps):
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
  assert not out.exists()
