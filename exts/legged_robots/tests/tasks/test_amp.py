"""AMP in the env: style features of sim and clips agree, the amp window, reference-state
init, and every bad motion input (missing file, CSV without rate, joint mismatch, NaN
frames, clip shorter than the window, unknown style field)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mjlab.managers.event_manager import EventTermCfg

from legged_robots.assets import g1_robot_cfg
from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.env import StGymRlEnv
from legged_robots.tasks.mdp.amp import (
  STYLE_FIELDS,
  check_style_fields,
  clip_style_state,
  expert_amp_observation,
  reset_from_motion,
  robot_style_state,
  style_features,
)
from legged_robots.tasks.motion import MotionDataCfg, load_motion_library, robot_model
from refmotion_manager import G1_29DOF_JOINT_NAMES, MotionClip, MotionFormatError, data_path, load_motion

CLIP = data_path() / "g1_walk_turn.npz"  # tilted, turning root: body and world frames differ
KEY_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link", "left_wrist_yaw_link", "torso_link")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env():
  """Amp-Flat-G1 with every style field (key bodies included), one clip, 2 envs."""
  cfg = load_env_cfg("Amp-Flat-G1")
  cfg.scene.num_envs = 2
  cfg.motion = MotionDataCfg(files=[str(CLIP)], body_names=list(KEY_BODIES))
  cfg.observations["amp"].terms["style"].params = {"fields": STYLE_FIELDS, "key_body_names": KEY_BODIES}
  env = StGymRlEnv(cfg, device="cpu")
  env.reset()
  yield env
  env.close()


def _fix_samples(env, monkeypatch, clip_id: int, time_s: float) -> None:
  library = env.motion_library
  monkeypatch.setattr(library, "sample_clip_ids", lambda n, generator=None: torch.full((n,), clip_id))
  monkeypatch.setattr(
    library, "sample_times", lambda ids, generator=None, truncate_s=0.0: torch.full(ids.shape, time_s)
  )
  frame = round(time_s * float(library.fps[clip_id]))  # RSI draws stored frames, not times
  monkeypatch.setattr(library, "sample_frame_ids", lambda ids, generator=None: torch.full(ids.shape, frame))


def _features(env) -> torch.Tensor:
  robot = env.scene["robot"]
  ids = robot.find_bodies(KEY_BODIES, preserve_order=True)[0]
  return style_features(robot_style_state(env, robot, ids), STYLE_FIELDS)


def _reset_from_clip(env, yaw: float, fraction: float = 1.0) -> None:
  params = {"fraction": fraction, "yaw_range": (yaw, yaw)}
  cfg = EventTermCfg(func=reset_from_motion, mode="reset", params=params)
  term = reset_from_motion(cfg, env)
  term(env, torch.arange(env.num_envs), **cfg.params)
  env.scene.write_data_to_sim()
  env.sim.forward()


@pytest.mark.parametrize("yaw", [0.0, 1.3])
def test_clip_frame_written_into_the_sim_has_the_library_features(env, monkeypatch, yaw):
  _fix_samples(env, monkeypatch, 0, 1.24)  # on frame 62: FK of lerped joints != lerped FK
  _reset_from_clip(env, yaw)
  library = env.motion_library
  sample = library.sample(torch.zeros(2, dtype=torch.long), torch.full((2,), 1.24))
  expected = style_features(clip_style_state(sample, with_bodies=True), STYLE_FIELDS)
  # 1 + 3 + 3 + 3 + 29 + 29 + 3 x 4 features; all heading-free, so the yaw changes nothing.
  assert expected.shape == (2, 80)
  torch.testing.assert_close(_features(env), expected, atol=1e-5, rtol=0)

  # RSI wrote the frame itself: joints exactly, root at the env origin, heading turned by yaw.
  robot = env.scene["robot"].data
  torch.testing.assert_close(robot.joint_pos, sample["joint_pos"], atol=1e-6, rtol=0)
  origin = env.scene.env_origins
  torch.testing.assert_close(robot.root_link_pos_w[:, :2], origin[:, :2], atol=1e-6, rtol=0)
  torch.testing.assert_close(
    robot.root_link_pos_w[:, 2], origin[:, 2] + sample["root_pos"][:, 2], atol=1e-6, rtol=0
  )
  w, x, y, z = sample["root_quat"][0].tolist()
  c, s = math.cos(yaw / 2), math.sin(yaw / 2)
  turned = torch.tensor([c * w - s * z, c * x - s * y, c * y + s * x, c * z + s * w])  # qz(yaw) * q
  q = robot.root_link_quat_w[0]
  assert min((q - turned).abs().max(), (q + turned).abs().max()) < 1e-5
  # World velocities turned by the same yaw: Rz(yaw) v.
  for ours, clip in (
    (robot.root_link_lin_vel_w, "root_lin_vel_w"),
    (robot.root_link_ang_vel_w, "root_ang_vel_w"),
  ):
    vx, vy, vz = sample[clip][0].tolist()
    expected_w = torch.tensor(
      [math.cos(yaw) * vx - math.sin(yaw) * vy, math.sin(yaw) * vx + math.cos(yaw) * vy, vz]
    )
    torch.testing.assert_close(ours[0], expected_w, atol=1e-5, rtol=0)


def test_envs_not_drawn_for_rsi_keep_the_state_the_other_resets_wrote(env):
  sim = env.sim.data
  sim.qvel[:, :6] = torch.tensor([0.1, -0.2, 0.3, 0.4, -0.5, 0.6])  # root: world lin, body ang
  qpos, qvel = sim.qpos[:].clone(), sim.qvel[:].clone()
  _reset_from_clip(env, 0.7, fraction=0.0)
  torch.testing.assert_close(sim.qpos[:], qpos, atol=1e-6, rtol=0)
  torch.testing.assert_close(sim.qvel[:], qvel, atol=1e-6, rtol=0)


def test_amp_group_is_two_frames_oldest_first(env):
  action = torch.zeros(2, env.action_manager.total_action_dim)
  env.step(action)
  before = _features(env)
  obs, *_ = env.step(action)
  window = obs["amp"].view(2, 2, -1)
  torch.testing.assert_close(window[:, 0], before, atol=1e-5, rtol=0)
  torch.testing.assert_close(window[:, 1], _features(env), atol=1e-5, rtol=0)


def test_expert_window_ends_at_the_sampled_time_one_control_step_apart(env, monkeypatch):
  _fix_samples(env, monkeypatch, 0, 2.0)  # the window adds its span: frames at 2.0 and 2.0 + dt
  window = expert_amp_observation(env, 3).view(3, 2, -1)
  library, dt = env.motion_library, env.step_dt
  for k, t in enumerate((2.0, 2.0 + dt)):
    sample = library.sample(torch.zeros(3, dtype=torch.long), torch.full((3,), t))
    expected = style_features(clip_style_state(sample, with_bodies=True), STYLE_FIELDS)
    torch.testing.assert_close(window[:, k], expected, atol=1e-6, rtol=0)


# Bad input: each is caught when the motions are loaded, naming the file and the fix.


@pytest.fixture(scope="module")
def g1():
  return robot_model(g1_robot_cfg(29).spec_fn()), tuple(G1_29DOF_JOINT_NAMES)


def _load(cfg: MotionDataCfg, g1):
  return load_motion_library(cfg, g1[0], g1[1], "cpu")


def test_missing_file_and_empty_list(g1):
  with pytest.raises(MotionFormatError, match=r"nope\.npz.*does not exist.*env\.motion\.files"):
    _load(MotionDataCfg(files=["/nope.npz"]), g1)
  with pytest.raises(MotionFormatError, match="no motion files"):
    _load(MotionDataCfg(files=[]), g1)


def _csv(tmp_path: Path) -> Path:
  clip = MotionClip.load(CLIP)
  q = clip.root_quat_wxyz
  rows = np.hstack([clip.root_pos, q[:, 1:], q[:, :1], clip.joint_pos])  # x y z, qx qy qz qw, joints
  path = tmp_path / "walk.csv"
  np.savetxt(path, rows, delimiter=",")
  return path


def test_csv_needs_its_rate_and_reads_with_it(tmp_path, g1):
  path = _csv(tmp_path)
  with pytest.raises(MotionFormatError, match=r"walk\.csv.*do not store their rate.*csv_fps"):
    _load(MotionDataCfg(files=[str(path)]), g1)
  library = _load(MotionDataCfg(files=[str(tmp_path)], csv_fps=50.0), g1)  # a directory: its files
  assert library.num_clips == 1 and float(library.duration[0]) == pytest.approx(load_motion(CLIP).duration)


def test_joint_mismatch_names_the_joints(tmp_path, g1):
  clip = MotionClip.load(CLIP)
  names = list(clip.joint_names)
  names[3] = "left_toe_joint"
  path = clip.replace(joint_names=tuple(names), source=None).save(tmp_path / "renamed.npz")
  with pytest.raises(
    MotionFormatError, match=r"renamed\.npz.*'left_knee_joint'.*not among the clip's joints"
  ):
    _load(MotionDataCfg(files=[str(path)]), g1)


def test_nan_frames_stop_the_build(tmp_path, g1):
  clip = MotionClip.load(CLIP)
  joint_pos = clip.joint_pos.copy()
  joint_pos[7, 2] = np.nan
  path = clip.replace(joint_pos=joint_pos, source=None).save(tmp_path / "nan.npz")
  with pytest.raises(MotionFormatError, match=r"nan\.npz.*frame 7"):
    _load(MotionDataCfg(files=[str(path)]), g1)


def test_weights_must_match_the_files(g1):
  with pytest.raises(MotionFormatError, match="2 weights for 1 clips"):
    _load(MotionDataCfg(files=[str(CLIP)], weights=[1.0, 2.0]), g1)


def test_clip_shorter_than_the_window_stops_the_env_build(tmp_path):
  clip = MotionClip.load(CLIP)
  short = MotionClip(
    fps=200.0,
    joint_names=clip.joint_names,
    root_pos=clip.root_pos[:2],
    root_quat_wxyz=clip.root_quat_wxyz[:2],
    joint_pos=clip.joint_pos[:2],
  ).save(tmp_path / "short.npz")  # 2 frames = 5 ms < one 20 ms control step
  cfg = load_env_cfg("Amp-Flat-G1")
  cfg.scene.num_envs = 1
  cfg.motion = MotionDataCfg(files=[str(short)])
  with pytest.raises(MotionFormatError, match=r"short\.npz.*shorter than the AMP window"):
    StGymRlEnv(cfg, device="cpu")


def test_unknown_style_field_lists_the_valid_ones():
  with pytest.raises(ValueError, match=r"unknown AMP style field\(s\) \['gait'\].*base_height"):
    check_style_fields(["joint_pos", "gait"], ())
  with pytest.raises(ValueError, match="needs key_body_names"):
    check_style_fields(["key_body_pos"], ())
