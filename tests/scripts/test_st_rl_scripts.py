"""End to end: scripts/st_rl/train.py and play.py in subprocesses, and every bad input.

One 2-iteration training run (module fixture) is shared; each bad-input test checks
exit status 2, a one-line message naming problem and fix, and an unchanged logs/ tree.
The scripts' processes are forked from one that imported the stack once (preloaded.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import yaml
from preloaded import Launcher

ROOT = Path(__file__).resolve().parents[2]
TASK = "Flat-G1"
EXP = "cli_test"
ENV = {
  **os.environ,
  "CUDA_VISIBLE_DEVICES": "",
  "MUJOCO_GL": "osmesa",
  "PYOPENGL_PLATFORM": "osmesa",
  "MJLAB_WARP_QUIET": "1",
}
FAST = ["--num_envs", "4", "agent.num_steps_per_env=8", "agent.save_interval=1"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _cmd(script: str, log_root: Path, *args: str, task: str = TASK) -> list[str]:
  cmd = [sys.executable, str(ROOT / "scripts" / "st_rl" / script), "--task", task]
  return [*cmd, "--log_root", str(log_root), *args]


def _run(
  launcher: Launcher, script: str, log_root: Path, *args: str, task: str = TASK
) -> subprocess.CompletedProcess:
  return launcher.run(_cmd(script, log_root, *args, task=task), cwd=ROOT, timeout=600)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
  return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def trained(launcher, tmp_path_factory) -> Path:
  log_root = tmp_path_factory.mktemp("logs")
  result = _run(launcher, "train.py", log_root, "--max_iterations", "2", "--experiment_name", EXP, *FAST)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / EXP).iterdir()
  (run_dir / "train_stdout.txt").write_text(result.stdout)
  return run_dir


def test_train_writes_checkpoints_params_and_exported_policy(trained):
  from legged_robots.deploy import DeployContract
  from legged_robots.rl.cfg_yaml import load_cfg

  assert sorted(p.name for p in trained.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
  assert list(trained.glob("events.out.tfevents.*")), "no TensorBoard events"
  progress = [ln for ln in (trained / "train_stdout.txt").read_text().splitlines() if ln.startswith("[it ")]
  assert len(progress) == 2 and all("steps/s" in ln and "ETA" in ln for ln in progress)
  stdout = (trained / "train_stdout.txt").read_text()
  assert "Active Reward Terms" not in stdout  # mjlab's manager tables only with --verbose
  assert f"[st_rl] done: {trained}" in stdout and f"checkpoint  {trained / 'model_1.pt'}" in stdout
  assert f"./run.sh play -n {TASK} -l {trained.name} -- --log_root" in stdout
  agent = load_cfg(trained / "params" / "agent.yaml")
  env = load_cfg(trained / "params" / "env.yaml")
  assert agent.num_steps_per_env == 8 and env.scene.num_envs == 4  # flags + overrides saved

  contract = DeployContract.load(trained / "exported" / "deploy.yaml")
  state = torch.load(trained / "model_1.pt", weights_only=False)
  assert state["iter"] == 1
  session = ort.InferenceSession(str(trained / "exported" / "policy.onnx"))
  meta = session.get_modelmeta().custom_metadata_map
  assert meta["iteration"] == "1" and json.loads(meta["joint_names"]) == contract.joint_names

  # Independent torch forward from the checkpoint: (obs - mean) / (std + eps) -> MLP -> mean.
  actor = state["actor_state_dict"]
  mean, std = actor["obs_normalizer._mean"], actor["obs_normalizer._std"]
  layers = sorted(int(k.split(".")[1]) for k in actor if k.startswith("mlp.") and k.endswith("weight"))
  rng = np.random.default_rng(0)
  worst = 0.0
  for _ in range(10):
    obs = rng.standard_normal((1, contract.policy.obs_dim)).astype(np.float32)
    x = (torch.from_numpy(obs) - mean) / (std + 1e-2)
    for i, layer in enumerate(layers):
      x = x @ actor[f"mlp.{layer}.weight"].T + actor[f"mlp.{layer}.bias"]
      x = torch.nn.functional.elu(x) if i < len(layers) - 1 else x
    (got,) = session.run(None, {"obs": obs})
    worst = max(worst, float(np.abs(got - x.numpy()).max()))
  assert worst <= 1e-5


def test_resume_continues_the_iteration_count(launcher, trained):
  log_root = trained.parent.parent
  before = _snapshot(trained)
  result = _run(
    launcher,
    "train.py",
    log_root,
    "--resume",
    "--load_run",
    trained.name,
    "--checkpoint",
    "-1",
    "--max_iterations",
    "1",
    "--experiment_name",
    EXP,
    "--run_name",
    "resumed",
    *FAST,
  )
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (resumed,) = (log_root / EXP).glob("*_resumed")
  assert [p.name for p in resumed.glob("model_*.pt")] == ["model_2.pt"]
  assert "[it 2/2]" in result.stdout
  assert _snapshot(trained) == before  # the source run is left as it was
  # One lineage: the resumed run names its origin, and -1 finds the first run's checkpoints.
  from legged_robots.deploy.runs import experiment_dirs
  from legged_robots.rl.checkpoint import resolve_checkpoint

  info = yaml.safe_load((resumed / "params" / "run.yaml").read_text())
  assert info == {"task": TASK, "resumed_from": f"{EXP}/{trained.name}/model_1.pt"}
  everywhere = experiment_dirs(log_root, None)
  assert resolve_checkpoint(everywhere, "-1", "-1", TASK) == resumed / "model_2.pt"
  assert resolve_checkpoint(everywhere, "-1", "0", TASK) == trained / "model_0.pt"


def test_run_sh_sim_takes_the_experiment(trained):
  """./run.sh sim -e EXP passed --experiment_name, which sim2mujoco.py did not accept."""
  log_root = trained.parent.parent
  cmd = ["./run.sh", "sim", "-n", TASK, "-e", EXP, "--", "--log_root", str(log_root)]
  cmd += ["--duration", "0.2", "--no-video", "--out", str(log_root.parent / "sim_out")]
  result = subprocess.run(cmd, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]  # 1: the robot fell
  assert f"{EXP}/" in result.stdout and "metrics.json" in {
    p.name for p in (log_root.parent / "sim_out").iterdir()
  }


def test_play_writes_metrics_plot_video_and_export(launcher, trained):
  log_root = trained.parent.parent
  result = _run(
    launcher,
    "play.py",
    log_root,
    "--experiment_name",
    EXP,
    "--load_run",
    trained.name,
    "--checkpoint",
    "1",
    "--num_envs",
    "2",
    "--num_episodes",
    "2",
    "--episode_length_s",
    "1.0",
    "--video_length",
    "10",
  )
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  out = trained / "play" / "model_1"
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["episodes"] >= 2 and metrics["iteration"] == 1
  assert 0.0 <= metrics["fall_rate"] <= 1.0 and metrics["lin_vel_error"] >= 0.0
  assert set(metrics["rewards"]) and (out / "velocity.png").stat().st_size > 1000
  assert (out / "video.mp4").stat().st_size > 1000
  assert (trained / "exported" / "policy.onnx").is_file()


def _export_iteration(folder: Path) -> str:
  return ort.InferenceSession(str(folder / "policy.onnx")).get_modelmeta().custom_metadata_map["iteration"]


def test_play_of_an_older_checkpoint_exports_beside_the_newest(launcher, trained):
  """exported/ stays the newest checkpoint's export; the older one gets exported/model_<i>/."""
  log_root = trained.parent.parent
  args = ["--experiment_name", EXP, "--load_run", trained.name, "--checkpoint", "0", "--no-video"]
  args += ["--num_envs", "1", "--num_episodes", "1", "--episode_length_s", "0.2"]
  result = _run(launcher, "play.py", log_root, *args)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  assert _export_iteration(trained / "exported") == "1"
  assert _export_iteration(trained / "exported" / "model_0") == "0"
  assert f"wrote {trained / 'play' / 'model_0'} and {trained / 'exported' / 'model_0'}" in result.stdout


def _bad_inputs(run: Path) -> dict[str, tuple[str, list[str], str, str]]:
  """name -> (script, args, task, expected message regex)."""
  first_obs = __import__("yaml").safe_load((run / "exported" / "deploy.yaml").read_text())["observations"][0][
    "name"
  ]
  at_run = ["--experiment_name", EXP, "--load_run", run.name]
  return {
    "unknown_task": ("train.py", [], "Flat-G2", r"Unknown task id 'Flat-G2'\. Did you mean: .*Flat-G1"),
    "unknown_override_key": (
      "train.py",
      ["env.rewards.nope.weight=1"],
      TASK,
      r"unknown override key .*valid keys",
    ),
    "wrong_value_type": (
      "train.py",
      ["agent.algorithm.learning_rate=fast"],
      TASK,
      r"expected float, got str",
    ),
    "resume_without_runs": (
      "train.py",
      ["--resume", "--experiment_name", "empty"],
      TASK,
      r"no runs in .*train first",
    ),
    "resume_missing_checkpoint": (
      "train.py",
      ["--resume", *at_run, "--checkpoint", "99"],
      TASK,
      r"model_99\.pt not found.*--checkpoint",
    ),
    "truncated_checkpoint": (
      "play.py",
      [*at_run, "--checkpoint", "truncated.pt"],
      TASK,
      r"truncated or not a torch checkpoint",
    ),
    "foreign_checkpoint": (
      "play.py",
      [*at_run, "--checkpoint", "foreign.pt"],
      TASK,
      r"not a st_rl/rsl_rl checkpoint",
    ),
    "size_mismatch": (
      "play.py",
      [*at_run, "--checkpoint", "0", f"env.observations.actor.terms.{first_obs}=null"],
      TASK,
      r"trained with \d+ observations .* but this task has \d+ observations",
    ),
  }


BAD = [
  "unknown_task",
  "unknown_override_key",
  "wrong_value_type",
  "resume_without_runs",
  "resume_missing_checkpoint",
  "truncated_checkpoint",
  "foreign_checkpoint",
  "size_mismatch",
]


@pytest.fixture(scope="module")
def bad_results(launcher, trained) -> dict[str, tuple[subprocess.CompletedProcess, bool]]:
  """Every bad input's command, run at once (each is a process forked after the stack's
  import: they overlap on two cores), with whether the log root was left as it was."""
  good = trained / "model_1.pt"
  (trained / "truncated.pt").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
  torch.save({"weights": torch.zeros(3)}, trained / "foreign.pt")
  log_root = trained.parent.parent
  before = _snapshot(log_root)
  bad = _bad_inputs(trained)
  cmds = [_cmd(script, log_root, *args, task=task) for script, args, task, _ in bad.values()]
  results = dict(zip(bad, launcher.run_all(cmds, cwd=ROOT, timeout=600), strict=True))
  unchanged = _snapshot(log_root) == before
  return {name: (result, unchanged) for name, result in results.items()}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_one_clear_error_and_writes_nothing(trained, bad_results, name):
  message = _bad_inputs(trained)[name][3]
  result, unchanged = bad_results[name]
  assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
  errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
  assert len(errors) == 1, result.stderr[-2000:]
  assert __import__("re").search(message, errors[0]), errors[0]
  assert "Traceback" not in result.stderr
  assert unchanged  # no bad input (of the batch) wrote anything under the log root
