"""scripts/st_rl/sim2mujoco.py end to end: outputs, exit codes 0/1/2, run lookup, st_gym layout."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from legged_robots.deploy import DeployContract

from .helpers import REPO, linear_onnx, nan_below_zero_vx_policy, to_stgym

SCRIPT = REPO / "scripts" / "st_rl" / "sim2mujoco.py"
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
ENV.pop("DISPLAY", None)
ENV.pop("WAYLAND_DISPLAY", None)


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
  cmd = [sys.executable, str(SCRIPT), *args]
  return subprocess.run(cmd, env=ENV, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _main():
  spec = importlib.util.spec_from_file_location("sim2mujoco_script", SCRIPT)
  assert spec is not None and spec.loader is not None
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.main


def test_walks_and_writes_metrics_plot_video(g1_export, tmp_path):
  out = tmp_path / "out"
  result = _cli("--policy", str(g1_export), "--duration", "3", "--cmd", "0.5", "0", "0", "--out", str(out))
  assert result.returncode == 0, result.stderr
  assert "exported robot model (robot.sim_mjcf)" in result.stdout
  assert "[sim2mujoco] video: visual meshes from " in result.stdout and "g1.xml" in result.stdout
  assert result.stdout.strip().splitlines()[-1].startswith("[sim2mujoco] survived: 3.0/3.0 s")
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["survived"] and metrics["mjcf"].endswith("robot.xml")
  assert metrics["lin_vel_xy_error_mean"] < 0.2 and metrics["real_time_factor"] > 0
  assert (out / "plot.png").stat().st_size > 10_000
  reader = imageio_ffmpeg.read_frames(str(out / "video.mp4"))
  meta = next(reader)
  assert meta["size"] == (640, 360) and meta["fps"] == 25.0
  assert sum(1 for _ in reader) == 75  # 3 s at 25 frames/s


def test_policy_trained_on_isaac_lab_3_walks_unchanged(tmp_path):
  """The export of exts/legged_robots_isaaclab (Isaac Lab 3, Newton; trained on an H200)
  runs in the same runtime: same contract, its robot.xml, its observation funcs. On the
  CPU where it was checked, 60 s at 0.5 m/s gave xy error 0.079 m/s (docs/isaaclab.md)."""
  folder = REPO / "policies" / "isaaclab3_flat_g1_h200"
  result = _cli(
    "--policy",
    str(folder),
    "--duration",
    "10",
    "--cmd",
    "0.5",
    "0",
    "0",
    "--no-video",
    "--out",
    str(tmp_path),
  )
  assert result.returncode == 0, result.stdout + result.stderr
  assert "(Isaac-Flat-G1-StGym)" in result.stdout
  metrics = json.loads((tmp_path / "metrics.json").read_text())
  assert metrics["survived"] and metrics["mjcf"] == str(folder / "robot.xml")
  assert metrics["lin_vel_xy_error_mean"] < 0.15


def test_weak_motors_fall_with_exit_1(g1_export, tmp_path):
  result = _cli(
    "--policy",
    str(g1_export),
    "--duration",
    "5",
    "--motor-strength",
    "0.1",
    "--no-video",
    "--out",
    str(tmp_path),
  )
  assert result.returncode == 1, result.stdout + result.stderr
  metrics = json.loads((tmp_path / "metrics.json").read_text())
  assert metrics["status"] == "fell" and metrics["time_survived_s"] < 5.0


def test_nan_actions_exit_1(g1_export, tmp_path, capsys):
  folder = tmp_path / "nan"
  shutil.copytree(g1_export, folder)
  nan_below_zero_vx_policy(folder / "policy.onnx", vx_index=93)
  assert (
    _main()(["--policy", str(folder), "--cmd", "-0.5", "0", "0", "--no-video", "--out", str(tmp_path / "o")])
    == 1
  )
  assert json.loads((tmp_path / "o" / "metrics.json").read_text())["status"] == "nan_action"
  assert "nan_action" in capsys.readouterr().out


def _bad_inputs(g1_export: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
  (tmp / "empty").mkdir()
  renamed = tmp / "renamed.xml"
  renamed.write_text((g1_export / "robot.xml").read_text().replace('"left_knee_joint"', '"l_knee"'))
  wrong_size = tmp / "wrong_size"
  shutil.copytree(g1_export, wrong_size)
  linear_onnx(wrong_size / "policy.onnx", np.zeros((95, 29)), np.zeros(29))
  to_stgym(g1_export, tmp / "stgym")
  (tmp / "bad_schedule.yaml").write_text("- {t: 0, cmd: [1, 2]}\n")
  policy = ["--policy", str(g1_export), "--no-video", "--duration", "0.1"]
  return {
    "missing_folder": (["--policy", str(tmp / "nope")], "is not a folder"),
    "no_contract": (["--policy", str(tmp / "empty")], "no deploy.yaml in"),
    "stgym_without_mjcf": (
      ["--policy", str(tmp / "stgym")],
      "st_gym's layout (no deploy.yaml): pass the robot MJCF",
    ),
    "joint_not_in_mjcf": ([*policy, "--mjcf", str(renamed)], "policy joints are not hinge/slide joints"),
    "missing_mjcf": ([*policy, "--mjcf", str(tmp / "none.xml")], "does not exist"),
    "size_mismatch": (
      ["--policy", str(wrong_size)],
      "takes 95 observations but deploy.yaml's observation terms sum to 96",
    ),
    "no_run_of_task": (
      ["--task", "Flat-G1", "--log_root", str(tmp / "empty")],
      "no exported policy of task Flat-G1",
    ),
    "bad_schedule": (
      [*policy, "--schedule", str(tmp / "bad_schedule.yaml")],
      "expected a list of {t: seconds",
    ),
    "bad_perturbation": ([*policy, "--friction", "0"], "friction and motor strength must be > 0"),
  }


def test_bad_input_exits_2_with_the_problem_named(g1_export, tmp_path, capsys, monkeypatch):
  main = _main()
  monkeypatch.chdir(tmp_path)  # where a default output folder would go (logs/sim2mujoco/...)
  for name, (args, message) in _bad_inputs(g1_export, tmp_path).items():
    before = sorted(tmp_path.rglob("*"))
    assert main(args) == 2, name
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, (name, err)
    assert sorted(tmp_path.rglob("*")) == before, name  # nothing written
  with pytest.raises(SystemExit) as exit_info:
    main(["--policy", str(g1_export), "--task", "Flat-G1"])
  assert exit_info.value.code == 2


def test_task_lookup_takes_the_newest_run_and_checks_the_checkpoint(g1_export, tmp_path, capsys):
  for run in ("2026-01-01_00-00-00", "2026-02-01_00-00-00_newer"):
    shutil.copytree(g1_export, tmp_path / "g1_flat" / run / "exported")
  main = _main()
  common = ["--task", "Flat-G1", "--log_root", str(tmp_path), "--duration", "0.2", "--no-video"]
  assert main(common) == 0
  assert "2026-02-01_00-00-00_newer/exported (Flat-G1)" in capsys.readouterr().out
  assert main([*common, "--load_run", "2026-01-01_00-00-00", "--checkpoint", "900"]) == 0
  assert "2026-01-01_00-00-00/exported (Flat-G1)" in capsys.readouterr().out
  assert (tmp_path / "g1_flat" / "2026-01-01_00-00-00" / "sim2mujoco").is_dir()  # default --out
  assert main([*common, "--checkpoint", "5"]) == 2
  assert "has no checkpoint model_5.pt to export; its checkpoints: none" in capsys.readouterr().err


def test_stgym_layout_is_detected(g1_export, tmp_path, capsys):
  to_stgym(g1_export, tmp_path / "stgym")
  terms = ",".join(t.name for t in DeployContract.load(g1_export / "deploy.yaml").observations)
  args = ["--policy", str(tmp_path / "stgym"), "--mjcf", str(g1_export / "robot.xml"), "--obs-terms", terms]
  assert _main()([*args, "--duration", "2", "--no-video", "--out", str(tmp_path / "o")]) == 0
  out = capsys.readouterr().out
  assert "st_gym layout: control period 0.02 s" in out and "survived: 2.0/2.0 s" in out


def test_viewer_without_display_runs_headless(g1_export, tmp_path, capsys, monkeypatch):
  monkeypatch.delenv("DISPLAY", raising=False)
  monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
  args = ["--policy", str(g1_export), "--viewer", "--duration", "0.2", "--no-video", "--out", str(tmp_path)]
  assert _main()(args) == 0
  assert "--viewer needs a display" in capsys.readouterr().out


@pytest.mark.slow
def test_policy_trained_in_the_test_runs_through_sim2mujoco(tmp_path):
  """A 2-iteration Flat-G1 policy: it falls or not, but the run completes and says so consistently."""
  train = [sys.executable, str(REPO / "scripts" / "st_rl" / "train.py"), "--task", "Flat-G1"]
  train += [
    "--log_root",
    str(tmp_path),
    "--experiment_name",
    "tiny",
    "--max_iterations",
    "2",
    "--num_envs",
    "4",
  ]
  train += ["agent.num_steps_per_env=8", "agent.save_interval=1"]
  trained = subprocess.run(train, env=ENV, cwd=REPO, capture_output=True, text=True, timeout=600)
  assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
  (run,) = (tmp_path / "tiny").iterdir()
  assert (run / "exported" / "robot.xml").is_file()
  result = _cli("--task", "Flat-G1", "--log_root", str(tmp_path), "--duration", "5", "--no-video")
  assert result.returncode in (0, 1), result.stderr
  (out,) = (run / "sim2mujoco").iterdir()
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["mjcf"] == str(run / "exported" / "robot.xml")
  assert (result.returncode == 0) == metrics["survived"] and metrics["status"] in ("survived", "fell")
  assert 0 < metrics["time_survived_s"] <= 5.0
  finite = [metrics["lin_vel_xy_error_mean"], metrics["foot_slip_mean"], *metrics["torque_abs_max"].values()]
  assert all(v is not None and np.isfinite(v) for v in finite)


def test_default_output_of_a_shipped_policy_goes_under_logs_not_beside_it(
  g1_export, tmp_path, monkeypatch, capsys
):
  """--policy policies/<name> used to write policies/sim2mujoco/<time>/."""
  shipped = tmp_path / "policies" / "flat_g1"
  shutil.copytree(g1_export, shipped)
  monkeypatch.chdir(tmp_path)
  assert _main()(["--policy", str(shipped), "--duration", "0.2", "--no-video"]) == 0
  (out,) = (tmp_path / "logs" / "sim2mujoco" / "flat_g1").iterdir()
  assert (out / "metrics.json").is_file() and f"writing to {Path('logs')}" in capsys.readouterr().out
  assert sorted(p.name for p in (tmp_path / "policies").iterdir()) == ["flat_g1"]
  assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in g1_export.iterdir())
