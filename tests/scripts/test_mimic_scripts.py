"""End to end for Mimic-Flat-G1 and Tracking-Flat-G1: train, export with the goal table
(and, for tracking, the clip's start frame), sim2sim parity of the goal terms, and
sim2mujoco replaying the goals (from the clip's first frame, for tracking)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT, _run

TASK = "Mimic-Flat-G1"
TRACKING = "Tracking-Flat-G1"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


@pytest.fixture(scope="module")
def tracking_export(launcher, tmp_path_factory):
  """A 2-iteration Tracking-Flat-G1 run's exported folder (shared by the tracking tests)."""
  log_root = tmp_path_factory.mktemp("logs")
  fast = ["--num_envs", "4", "agent.num_steps_per_env=8"]
  result = _run(launcher, "train.py", log_root, "--max_iterations", "2", *fast, task=TRACKING)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / "g1_tracking_flat").iterdir()
  return run_dir / "exported"


@pytest.fixture(scope="module")
def mimic_export(launcher, tmp_path_factory):
  """A 2-iteration Mimic-Flat-G1 run's exported folder (shared by the mimic tests)."""
  log_root = tmp_path_factory.mktemp("logs")
  fast = ["--num_envs", "4", "agent.num_steps_per_env=8"]
  result = _run(launcher, "train.py", log_root, "--max_iterations", "2", *fast, task=TASK)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / "g1_mimic_flat").iterdir()
  return run_dir / "exported"


def test_mimic_trains_exports_goals_passes_parity_and_replays_in_mujoco(launcher, mimic_export, tmp_path):
  exported = mimic_export
  from legged_robots.deploy import DeployContract

  contract = DeployContract.load(exported / "deploy.yaml")
  (motion,) = [c for c in contract.commands if c.name == "motion"]
  assert motion.goals == "motion_goals.npz"
  table = np.load(exported / motion.goals)
  # Mimic starts from the default pose (no start state) and loops its clip past the table.
  assert table.files == ["goals", "joint_names", "loop"] and table["loop"].item() is True
  goals = table["goals"]
  # One 20 s episode at 50 Hz from clip time 0: 1001 rows; 17 mimicked joints x (pos, vel).
  assert goals.shape == (1001, 34) and np.isfinite(goals).all()
  assert [t.name for t in contract.observations][-1] == "motion_goal"

  script = ROOT / "scripts" / "st_rl"
  cmd = [sys.executable, str(script / "sim2sim.py"), "--task", TASK, "--policy", str(exported)]
  parity = launcher.run(cmd, cwd=ROOT, timeout=600)
  assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]
  assert "motion_goal" in parity.stdout

  out = tmp_path / "s2m"
  sim = subprocess.run(
    [sys.executable, str(script / "sim2mujoco.py"), "--policy", str(exported), "--duration", "1",
     "--no-video", "--out", str(out)],
    env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600,
  )  # fmt: skip
  assert sim.returncode in (0, 1), sim.stderr[-3000:]  # an untrained policy may fall: exit 1
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["status"] in ("survived", "fell")
  tracking = metrics["tracking"]  # scored against the replayed goals: joints only (no links)
  assert len(tracking["tracked_joints"]) == 17 and tracking["link_pos_error_world_m"] is None
  assert tracking["steps"] >= 1 and 0.0 < tracking["joint_pos_error_rad"] < 1.0


def test_mimic_policy_replays_its_goals_over_dds(mimic_export, tmp_path):
  from test_ros2interface import ENV as ROS_ENV  # same folder (pytest puts it on sys.path)
  from test_ros2interface import run as run_ros2

  out = tmp_path / "ros2"
  env = {**ROS_ENV, "ROS_DOMAIN_ID": str(random.randint(201, 230))}  # its own domain, localhost only
  result = run_ros2("--policy", str(mimic_export), "--with-sim", "--duration", "3", "--cmd", "0", "0", "0",
                    "--no-video", "--out", str(out), env=env)  # fmt: skip
  assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]  # 1: an untrained fall
  m = json.loads((out / "metrics.json").read_text())
  assert [t["to"] for t in m["transitions"]][:2] == ["SOFT_START", "RUNNING"], m["transitions"]
  steps = m["policy_steps"]
  assert steps >= 5 and m["control_loop"]["ticks"] > steps  # soft start ticks run no policy step
  # Policy step k showed goal row k + 1: the last of n steps showed row n (n < the 1001 rows).
  assert m["goal_row"] == steps, (m["goal_row"], steps)


def test_tracking_contract_is_refused_by_the_ros2_node_with_one_line(tracking_export):
  from test_ros2interface import ENV as ROS_ENV
  from test_ros2interface import run as run_ros2

  table = np.load(tracking_export / "motion_goals.npz")
  assert table["loop"].item() is False  # the dance is not looped: past the table, hold the last row
  env = {**ROS_ENV, "ROS_DOMAIN_ID": str(random.randint(201, 230))}
  result = run_ros2("--policy", str(tracking_export), "--with-sim", "--no-video", timeout=120.0, env=env)
  assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(lines) == 1 and "--accept-start-pose-mismatch" in lines[0] and "first frame" in lines[0], lines
  assert "Traceback" not in result.stderr
  assert not (tracking_export.parent / "ros2").exists()  # nothing written, no robot started


def test_tracking_deployment_starts_in_the_clips_first_frame(tracking_export):
  import mujoco

  from legged_robots.deploy import PolicyRuntime
  from legged_robots.deploy.closed_loop import ClosedLoop
  from refmotion_manager import MotionClip, data_path

  runtime = PolicyRuntime(tracking_export)
  loop = ClosedLoop(runtime, tracking_export / "robot.xml")
  clip = MotionClip.load(data_path() / "g1_dance.npz")  # the task's default clip, read on its own
  names = runtime.contract.joint_names
  cols = [clip.joint_names.index(n) for n in names]
  r, v, robot = loop.robot.root_qpos_adr, loop.robot.root_dof_adr, loop.robot
  # Frame 0 as training starts it: x, y on the origin, height, orientation and joints the clip's.
  np.testing.assert_allclose(loop.data.qpos[r : r + 3], [0.0, 0.0, clip.root_pos[0, 2]], atol=1e-6)
  quat = loop.data.qpos[r + 3 : r + 7]
  np.testing.assert_allclose(quat * np.sign(quat @ clip.root_quat_wxyz[0]), clip.root_quat_wxyz[0], atol=1e-6)
  np.testing.assert_allclose(loop.data.qpos[robot.qpos_adr], clip.joint_pos[0, cols], atol=1e-6)
  # Velocities: forward differences to frame 1 (the clip's own finite differences at its start).
  dt = 1.0 / clip.fps
  np.testing.assert_allclose(loop.data.qvel[v : v + 3], (clip.root_pos[1] - clip.root_pos[0]) / dt, atol=1e-4)
  body_w = np.zeros(3)  # q1 = q0 * exp(w_body dt): MuJoCo's free-joint angular velocity
  mujoco.mju_subQuat(body_w, clip.root_quat_wxyz[1], clip.root_quat_wxyz[0])
  np.testing.assert_allclose(loop.data.qvel[v + 3 : v + 6], body_w / dt, atol=1e-4)
  joint_vel = (clip.joint_pos[1, cols] - clip.joint_pos[0, cols]) / dt
  np.testing.assert_allclose(loop.data.qvel[robot.dof_adr], joint_vel, atol=1e-4)
  # Scored against goal row 0 in this state, the links' FK through robot.xml lands on the
  # export's reference (FK through the training model): both errors ~0.
  assert loop.tracking is not None
  loop.tracking.add(loop.data, 0)
  start = loop.tracking.summary()
  assert start["joint_pos_error_rad"] < 1e-6 and len(start["tracked_links"]) == 14
  assert start["link_pos_error_world_m"] < 1e-5 and start["link_pos_error_root_m"] < 1e-5
  loop.step(np.zeros(3))
  loop.reset()  # a reset goes back to the same frame
  np.testing.assert_allclose(loop.data.qpos[robot.qpos_adr], clip.joint_pos[0, cols], atol=1e-6)


def test_tracking_policy_runs_in_mujoco_scored_against_the_clip(tracking_export, tmp_path):
  out = tmp_path / "s2m"
  sim = subprocess.run(
    [sys.executable, str(ROOT / "scripts" / "st_rl" / "sim2mujoco.py"), "--policy", str(tracking_export),
     "--duration", "0.5", "--no-video", "--out", str(out)],
    env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600,
  )  # fmt: skip
  assert sim.returncode in (0, 1), sim.stderr[-3000:]
  tracking = json.loads((out / "metrics.json").read_text())["tracking"]
  assert tracking["steps"] == 25 and len(tracking["tracked_joints"]) == 29
  assert 0.0 < tracking["link_pos_error_root_m"] < 1.0 and 0.0 < tracking["link_pos_error_world_m"] < 2.0
  assert "[sim2mujoco] tracking the replayed reference: joints" in sim.stdout


def test_a_tracking_table_with_a_partial_start_state_is_refused(tracking_export, tmp_path):
  import shutil

  from legged_robots.deploy import DeployContract, MissingFileError
  from legged_robots.deploy.motion_goals import load_start_state

  folder = tmp_path / "exported"
  shutil.copytree(tracking_export, folder)
  contract = DeployContract.load(folder / "deploy.yaml")
  with np.load(folder / "motion_goals.npz") as table:
    arrays = {k: table[k] for k in table.files if k != "start_joint_vel"}
  np.savez(folder / "motion_goals.npz", **arrays)
  message = r"start_joint_vel must be 29 finite numbers \(missing\); re-export"
  with pytest.raises(MissingFileError, match=message):
    load_start_state(folder, contract)
  np.savez(folder / "motion_goals.npz", goals=arrays["goals"])  # an older export: default pose
  assert load_start_state(folder, contract) is None


def test_tracking_play_reports_link_errors_and_films_the_reference(launcher, tracking_export):
  run_dir = tracking_export.parent
  log_root = run_dir.parent.parent
  args = ["--load_run", run_dir.name, "--num_envs", "2", "--num_episodes", "2", "--episode_length_s", "1"]
  args += ["--video_length", "5", "--plot_steps", "20"]
  result = _run(launcher, "play.py", log_root, *args, task=TRACKING)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  out = run_dir / "play" / "model_1"
  metrics = json.loads((out / "metrics.json").read_text())
  mimic = metrics["mimic"]
  assert mimic["tracked_links"][0] == "pelvis" and len(mimic["tracked_links"]) == 14
  # No velocity command, so no walk to compare with the clips: no style report (not an error).
  assert metrics["velocity_command"] is None and "style" not in metrics
  # An untrained policy: the links drift from the clip by centimetres to decimetres in 1 s.
  assert 0.0 < mimic["link_pos_error_root_m"] < 1.0 and 0.0 < mimic["link_pos_error_world_m"] < 2.0
  assert 0.0 <= mimic["success_rate"] <= 1.0
  assert (out / "video.mp4").stat().st_size > 0 and (out / "mimic_joints.png").is_file()


def test_tracking_export_passes_sim2sim_parity(launcher, tracking_export):
  script = ROOT / "scripts" / "st_rl" / "sim2sim.py"
  cmd = [sys.executable, str(script), "--task", TRACKING, "--policy", str(tracking_export)]
  parity = launcher.run(cmd, cwd=ROOT, timeout=600)
  assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]
  assert "motion_goal" in parity.stdout


@pytest.mark.parametrize(
  ("task", "override", "message"),
  [
    (
      TRACKING,
      "env.motion.body_names=[pelvis]",
      r"link_height_error_above: bodies \['left_ankle_roll_link'.*add them",
    ),
    (TASK, "env.commands.base_velocity.motion_command=nope", "velocity command: motion_command 'nope'"),
  ],
)
def test_a_term_that_does_not_fit_the_task_is_bad_input(launcher, tmp_path, task, override, message):
  import re

  log_root = tmp_path / "logs"
  args = ["--num_envs", "2", "--max_iterations", "1", override]
  result = _run(launcher, "train.py", log_root, *args, task=task)
  assert result.returncode == 2, result.stderr[-3000:]
  assert "Traceback" not in result.stderr and re.search(f"error: {message}", result.stderr), result.stderr
  assert not log_root.exists()


def test_a_velocity_command_with_the_clip_base_velocity_deploys_it(launcher, tmp_path):
  from legged_robots.deploy import DeployContract, PolicyRuntime
  from legged_robots.deploy.closed_loop import ClosedLoop
  from refmotion_manager import MotionClip, data_path, derivatives

  walk = data_path() / "g1_walk.npz"  # 50 fps, walks 0.8 m/s along x: row k is frame k
  log_root = tmp_path / "logs"
  overrides = ["env.commands.base_velocity.motion_command=motion", f"env.motion.files=[{walk}]"]
  fast = ["--num_envs", "2", "agent.num_steps_per_env=8", *overrides]
  result = _run(launcher, "train.py", log_root, "--max_iterations", "1", *fast, task=TASK)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / "g1_mimic_flat").iterdir()
  exported = run_dir / "exported"
  contract = DeployContract.load(exported / "deploy.yaml")
  assert {c.name: c.adds for c in contract.commands} == {"base_velocity": "motion", "motion": None}
  table = np.load(exported / "motion_goals.npz")["base_velocity"]
  # The clip's own finite differences, in its root's frame: (vx, vy, wz) of frames 0..150.
  clip = MotionClip.load(walk)
  expected = np.concatenate(
    [derivatives.root_lin_vel_b(clip)[:, :2], derivatives.root_ang_vel_b(clip)[:, 2:]], axis=1
  )
  np.testing.assert_allclose(table[:150], expected[:150], atol=1e-4)
  assert abs(table[10, 0]) > 0.5  # it walks
  loop = ClosedLoop(PolicyRuntime(exported), exported / "robot.xml")
  loop.step(np.array([0.3, 0.0, 0.1]))  # control step 0 shows row 1, as training does
  np.testing.assert_allclose(loop.runtime.commands["base_velocity"], [0.3, 0.0, 0.1] + table[1], atol=1e-9)
