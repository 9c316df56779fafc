"""scripts/st_rl/goals.py: a Mimic-Flat-G1 export shipped without its goal tables (strip) and
rebuilt from the user's clips (attach), checked against the original export's tables.

The run is made in-process, without training (an untrained actor exported as training
exports it, and params/env.yaml as train.py writes it), on the two clips refmotion_manager
ships, renamed so that basenames are seen to travel: the table's clip (the first) as a 60 fps
CSV like the real dance (``csv_fps`` must travel too), the second as npz. A 2 s episode
(101 rows) shows the run's episode length is replayed rather than the task's 20 s.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT

TASK = "Mimic-Flat-G1"
pytestmark = pytest.mark.slow


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
  cmd = [sys.executable, str(ROOT / "scripts" / "st_rl" / name), *args]
  return subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _goals(launcher: Launcher, *args: str) -> subprocess.CompletedProcess:
  cmd = [sys.executable, str(ROOT / "scripts" / "st_rl" / "goals.py"), *args]
  return launcher.run(cmd, cwd=ROOT, timeout=600)


def _sim2mujoco(folder: Path, out: Path) -> subprocess.CompletedProcess:
  return _script(
    "sim2mujoco.py", "--policy", str(folder), "--duration", "0.2", "--no-video", "--out", str(out)
  )


def _sha(path: Path) -> str:
  return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
  """A Mimic-Flat-G1 run folder (params/env.yaml, exported/) trained on clips/{wave.csv,dance.npz}."""
  import torch
  from rsl_rl.models import MLPModel
  from tensordict import TensorDict

  from legged_robots.rl.cfg_yaml import dump_cfg
  from legged_robots.rl.exporter import export_policy
  from legged_robots.tasks import load_env_cfg
  from legged_robots.tasks.env import StGymRlEnv
  from legged_robots.tasks.motion import MotionDataCfg
  from refmotion_manager import MotionClip, data_path, save_motion

  root = tmp_path_factory.mktemp("goals")
  clips = root / "clips"
  clips.mkdir()
  save_motion(MotionClip.load(data_path() / "g1_arm_wave.npz").replace(fps=60.0), clips / "wave.csv")
  shutil.copy(data_path() / "g1_dance.npz", clips / "dance.npz")
  cfg: Any = load_env_cfg(TASK)  # a MotionEnvCfg
  cfg.scene.num_envs = 1
  cfg.episode_length_s = 2.0
  cfg.motion = MotionDataCfg(files=[str(clips / "wave.csv"), str(clips / "dance.npz")], csv_fps=60.0)
  env = StGymRlEnv(cfg, device="cpu")
  try:
    (obs_dim,) = env.observation_manager.group_obs_dim["actor"]  # the group is concatenated
    assert isinstance(obs_dim, int)
    obs = TensorDict({"actor": torch.zeros(1, obs_dim)}, batch_size=[1])
    dist = {"class_name": "GaussianDistribution", "init_std": 1.0, "std_type": "scalar"}
    actions = env.action_manager.total_action_dim
    actor = MLPModel(obs, {"actor": ["actor"]}, "actor", actions, hidden_dims=[16], distribution_cfg=dist)
    run_dir = root / "logs" / "g1_mimic_flat" / "run"
    export_policy(actor, env, TASK, run_dir / "exported")
  finally:
    env.close()
  dump_cfg(cfg, run_dir / "params" / "env.yaml")
  return run_dir


@pytest.fixture(scope="module")
def stripping(launcher, run, tmp_path_factory) -> tuple[Path, str]:
  """(the stripped folder, strip's stdout)."""
  out = tmp_path_factory.mktemp("ship") / "mimic"
  result = _goals(launcher, "strip", str(run / "exported"), "--out", str(out))
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return out, result.stdout


@pytest.fixture(scope="module")
def stripped(stripping) -> Path:
  return stripping[0]


def test_strip_removes_the_tables_and_records_the_clips(run, stripping):
  stripped, stdout = stripping
  original = run / "exported"
  assert (original / "motion_goals.npz").is_file()  # the export itself is left as it was
  assert sorted(p.name for p in stripped.iterdir()) == [
    "deploy.yaml",
    "goals_source.yaml",
    "policy.onnx",
    "robot.xml",
  ]
  assert (stripped / "deploy.yaml").read_bytes() == (original / "deploy.yaml").read_bytes()
  source = yaml.safe_load((stripped / "goals_source.yaml").read_text())
  assert source["task"] == TASK and source["episode_length_s"] == 2.0
  motion = {
    "files": ["wave.csv", "dance.npz"],
    "csv_fps": 60.0,
    "weights": None,
    "body_names": [],
    "strict": False,
  }
  assert source["motion"] == motion  # basenames, in training order
  clips = run.parent.parent.parent / "clips"
  assert source["clips"] == [
    {"file": "wave.csv", "sha256": _sha(clips / "wave.csv")},
    {"file": "dance.npz", "sha256": _sha(clips / "dance.npz")},
  ]
  (table,) = source["tables"]
  # 2 s at 50 Hz from clip time 0: 101 rows; 17 mimicked joints x (pos, vel).
  assert table["file"] == "motion_goals.npz" and table["command"] == "motion" and table["shape"] == [101, 34]
  with np.load(original / "motion_goals.npz") as npz:
    goals = npz["goals"]
  assert table["arrays"]["goals"]["stats"]["max"] == pytest.approx(goals.max(axis=0).astype(np.float64))
  assert "[goals] removed motion_goals.npz (101, 34)" in stdout


def test_attach_with_the_clips_rebuilds_the_original_tables(launcher, run, stripped, tmp_path):
  # The clips in another folder under other names and order: found by sha256.
  mine = tmp_path / "my_clips"
  mine.mkdir()
  clips = run.parent.parent.parent / "clips"
  shutil.copy(clips / "dance.npz", mine / "a.npz")
  shutil.copy(clips / "wave.csv", mine / "b.csv")
  out = tmp_path / "attached"
  result = _goals(launcher, "attach", str(stripped), "--clips", str(mine), "--out", str(out))
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  assert f"[goals] wrote {out / 'motion_goals.npz'} (101, 34):" in result.stdout
  with np.load(run / "exported" / "motion_goals.npz") as a, np.load(out / "motion_goals.npz") as b:
    assert a.files == b.files == ["goals", "joint_names", "loop"]
    np.testing.assert_allclose(b["goals"], a["goals"], atol=1e-5, rtol=0)
    assert a["joint_names"].tolist() == b["joint_names"].tolist() and b["loop"].item() is True
  sim = _sim2mujoco(out, tmp_path / "s2m")
  assert sim.returncode in (0, 1), sim.stdout[-3000:] + sim.stderr[-3000:]  # 1: an untrained fall


@pytest.mark.parametrize("bad", ["one byte changed", "another clip"])
def test_attach_with_an_altered_or_other_clip_is_bad_input(launcher, run, stripped, tmp_path, bad):
  clips = run.parent.parent.parent / "clips"
  mine = tmp_path / "my_clips"
  mine.mkdir()
  shutil.copy(clips / "dance.npz", mine / "dance.npz")
  if bad == "one byte changed":
    data = bytearray((clips / "wave.csv").read_bytes())
    data[len(data) // 2] ^= 1
    (mine / "wave.csv").write_bytes(bytes(data))
  else:
    from refmotion_manager import MotionClip, data_path, save_motion

    save_motion(MotionClip.load(data_path() / "g1_walk.npz").replace(fps=60.0), mine / "wave.csv")
  out = tmp_path / "attached"
  result = _goals(
    launcher,
    "attach",
    str(stripped),
    "--clips",
    str(mine / "wave.csv"),
    str(mine / "dance.npz"),
    "--out",
    str(out),
  )
  assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and f"clip wave.csv (sha256 {_sha(clips / 'wave.csv')})" in lines[0], lines
  assert not out.exists() and not list(tmp_path.glob(".attached.*"))


def test_sim2mujoco_on_the_stripped_folder_names_the_attach_command(stripped, tmp_path):
  out = tmp_path / "s2m"
  sim = _sim2mujoco(stripped, out)
  assert sim.returncode == 2, sim.stdout[-3000:] + sim.stderr[-3000:]
  assert "Traceback" not in sim.stderr
  hint = f"python scripts/st_rl/goals.py attach {stripped} --clips <path to wave.csv dance.npz> --out <dir>"
  assert hint in sim.stderr, sim.stderr
  assert not out.exists()


def test_strip_refuses_a_folder_without_goal_tables(stripped, tmp_path):
  # In-process (the CLI's exit 2 for an StRlError is the attach cases' above).
  from legged_robots.rl.errors import StRlError
  from legged_robots.rl.goal_tables import strip_goal_tables

  out = tmp_path / "again"
  with pytest.raises(StRlError) as err:
    strip_goal_tables(stripped, out, [])
  assert str(err.value) == f"{stripped} has no goal tables (*_goals.npz): nothing to strip; it ships as it is"
  assert not out.exists()


def test_the_fingerprint_passes_float_noise_and_catches_other_tables(run):
  from legged_robots.rl.goal_tables import array_record, check_table, read_table

  arrays = read_table(run / "exported" / "motion_goals.npz")
  record = {"arrays": {k: array_record(v) for k, v in arrays.items()}}
  assert check_table("t", arrays, record).identical
  goals = arrays["goals"]
  noisy = check_table("t", arrays | {"goals": goals + np.float32(2e-6)}, record)
  assert not noisy.identical and not noisy.problems and 1e-6 < noisy.worst < 1e-5
  late = check_table("t", arrays | {"goals": np.roll(goals, 1, axis=0)}, record)  # one step late
  assert late.problems and "goals" in late.problems[0], late.problems
  changed = goals.copy()
  changed[50, 3] += 0.01  # one element: its column's mean moves by 0.01 / 101 rows
  check = check_table("t", arrays | {"goals": changed}, record)
  assert any(p.startswith("goals mean deviates by up to 9.90e-05") for p in check.problems), check.problems


def test_attach_whose_tables_differ_from_the_record_writes_nothing(launcher, run, stripped, tmp_path):
  folder = tmp_path / "shipped"
  shutil.copytree(stripped, folder)
  source = folder / "goals_source.yaml"
  source.write_text(source.read_text().replace("csv_fps: 60.0", "csv_fps: 50.0"))  # the clip read too slow
  out = tmp_path / "attached"
  result = _goals(
    launcher, "attach", str(folder), "--clips", str(run.parent.parent.parent / "clips"), "--out", str(out)
  )
  assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
  assert (
    "error: the rebuilt tables differ from the shipped policy's although the clips match" in result.stderr
  )
  assert "goals mean deviates" in result.stderr and not out.exists()
