"""End to end: scripts/skrl/train.py and play.py in subprocesses, and every bad input.

One 2-iteration skrl PPO run of Flat-G1 (module fixture) is shared: it writes checkpoints,
params, TensorBoard and an export whose ONNX is skrl's normalizer + MLP mean, which passes
sim2sim parity (scripts/st_rl/sim2sim.py), resumes and plays. A 2-iteration skrl AMP run of
Amp-Flat-G1 checkpoints its discriminator. Bad inputs: one through the command line (exit 2,
one line, no Warp banner); the others through ``run_skrl_train`` in this process (the same
StRlError the command line prints), each leaving logs/ as it was.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT, _snapshot

TASK = "Flat-G1"
EXP = "cli_skrl"
FAST = [
  "--num_envs",
  "4",
  "agent.agent.rollouts=8",
  "agent.agent.experiment.checkpoint_interval=8",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _run(
  launcher: Launcher, script: str, log_root: Path, *args: str, task: str = TASK
) -> subprocess.CompletedProcess:
  cmd = [sys.executable, str(ROOT / "scripts" / "skrl" / script), "--task", task]
  return launcher.run([*cmd, "--log_root", str(log_root), *args], cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def trained(launcher, tmp_path_factory) -> Path:
  log_root = tmp_path_factory.mktemp("logs")
  result = _run(launcher, "train.py", log_root, "--max_iterations", "2", "--experiment_name", EXP, *FAST)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / EXP).iterdir()
  (run_dir / "train_stdout.txt").write_text(result.stdout)
  return run_dir


def test_train_writes_checkpoints_params_tensorboard_and_export(trained):
  from legged_robots.deploy import DeployContract
  from legged_robots.rl.cfg_yaml import load_cfg
  from legged_robots.tasks.agents_skrl import load_skrl_cfg

  assert sorted(p.name for p in trained.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
  assert list(trained.glob("events.out.tfevents.*")), "no TensorBoard events"
  stdout = (trained / "train_stdout.txt").read_text().splitlines()
  progress = [ln for ln in stdout if ln.startswith("[it ")]
  assert len(progress) == 2 and all("steps/s" in ln and "ETA" in ln for ln in progress)
  warp_lines = [ln for ln in stdout if ln.startswith(("Warp ", "Module "))]  # banner, module loads
  assert warp_lines == [], warp_lines[:5]  # MJLAB_WARP_QUIET=1 (and no --verbose)
  agent = load_skrl_cfg(trained / "params" / "agent.yaml")  # skrl's YAML layout, checked keys
  assert agent.agent.rollouts == 8 and agent.trainer.timesteps == 16 and agent.algorithm == "PPO"
  assert load_cfg(trained / "params" / "env.yaml").scene.num_envs == 4

  state = torch.load(trained / "model_1.pt", weights_only=False)
  meta = state["st_gym"]
  assert meta["library"] == "skrl" and meta["iteration"] == 1 and meta["algorithm"] == "PPO"
  assert {"policy", "value", "optimizer", "observation_preprocessor"} <= set(state)
  contract = DeployContract.load(trained / "exported" / "deploy.yaml")
  assert contract.action.raw_clip is None and contract.policy.obs_dim == meta["obs_dim"]
  session = ort.InferenceSession(str(trained / "exported" / "policy.onnx"))
  assert session.get_modelmeta().custom_metadata_map["iteration"] == "1"

  # Independent forward from the checkpoint, as deploy.yaml states the law:
  # clamp((obs - mean) / (sqrt(var) + eps), -5, 5) -> MLP (elu) -> mean action.
  scaler, policy = state["observation_preprocessor"], state["policy"]
  mean, var = scaler["running_mean"].float(), scaler["running_variance"].float()
  layers = sorted(int(k.split(".")[1]) for k in policy if k.startswith("net.") and k.endswith("weight"))
  rng = np.random.default_rng(0)
  worst = 0.0
  for scale in (1.0, 1.0, 30.0):
    obs = (scale * rng.standard_normal((1, contract.policy.obs_dim))).astype(np.float32)
    x = torch.clamp((torch.from_numpy(obs) - mean) / (torch.sqrt(var) + 1e-8), -5.0, 5.0)
    for i, layer in enumerate(layers):
      x = x @ policy[f"net.{layer}.weight"].T + policy[f"net.{layer}.bias"]
      x = torch.nn.functional.elu(x) if i < len(layers) - 1 else x
    (got,) = session.run(None, {"obs": obs})
    worst = max(worst, float(np.abs(got - x.numpy()).max()))
  assert worst <= 1e-5


def test_export_passes_sim2sim_parity(launcher, trained):
  cmd = [sys.executable, str(ROOT / "scripts" / "st_rl" / "sim2sim.py"), "--task", TASK]
  cmd += ["--policy", str(trained / "exported"), "--num_states", "50"]
  parity = launcher.run(cmd, cwd=ROOT, timeout=600)
  assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]
  assert "PASS" in parity.stdout


def test_resume_continues_the_iteration_count(launcher, trained):
  log_root = trained.parent.parent
  before = _snapshot(trained)
  args = ["--resume", "--load_run", trained.name, "--max_iterations", "1", "--experiment_name", EXP]
  result = _run(launcher, "train.py", log_root, *args, "--run_name", "resumed", *FAST)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (resumed,) = (log_root / EXP).glob("*_resumed")
  assert [p.name for p in resumed.glob("model_*.pt")] == ["model_2.pt"]
  assert "[it 2/2]" in result.stdout
  assert _snapshot(trained) == before  # the source run is left as it was


def test_play_writes_metrics_and_export(launcher, trained):
  log_root = trained.parent.parent
  args = ["--experiment_name", EXP, "--load_run", trained.name, "--checkpoint", "1", "--no-video"]
  args += ["--num_envs", "2", "--num_episodes", "2", "--episode_length_s", "0.5"]
  result = _run(launcher, "play.py", log_root, *args)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  metrics = json.loads((trained / "play" / "model_1" / "metrics.json").read_text())
  assert metrics["episodes"] >= 2 and metrics["iteration"] == 1 and metrics["library"] == "skrl"
  assert 0.0 <= metrics["fall_rate"] <= 1.0 and set(metrics["rewards"])


@pytest.mark.parametrize(
  ("task", "algorithm", "experiment"),
  [
    ("Mimic-Flat-G1", "PPO", "g1_mimic_flat"),
    ("Tracking-Flat-G1", "PPO", "g1_tracking_flat"),
    ("AmpMimic-Flat-G1", "AMP", "g1_amp_mimic_flat"),
  ],
)
def test_mimic_and_tracking_tasks_train_an_skrl_iteration_and_export_their_goals(
  launcher, tmp_path, task, algorithm, experiment
):
  small = ["agent.motion_dataset.memory_size=2048", "agent.reply_buffer.memory_size=4096"]
  args = ["--algorithm", algorithm, "--max_iterations", "1", *FAST, *(small if algorithm == "AMP" else [])]
  result = _run(launcher, "train.py", tmp_path, *args, task=task)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (tmp_path / experiment).iterdir()
  state = torch.load(run_dir / "model_0.pt", weights_only=False)
  assert state["st_gym"]["algorithm"] == algorithm and state["st_gym"]["iteration"] == 0
  from legged_robots.deploy import DeployContract

  contract = DeployContract.load(run_dir / "exported" / "deploy.yaml")
  (motion,) = [c for c in contract.commands if c.name == "motion"]  # the goal table ships
  assert motion.goals == "motion_goals.npz" and (run_dir / "exported" / motion.goals).is_file()
  onnx = ort.InferenceSession(str(run_dir / "exported" / "policy.onnx"))
  assert onnx.get_inputs()[0].shape[-1] == state["st_gym"]["obs_dim"]


def test_amp_trains_and_checkpoints_its_discriminator(launcher, tmp_path):
  log_root = tmp_path / "logs"
  small = [
    "agent.motion_dataset.memory_size=2048",
    "agent.reply_buffer.memory_size=4096",
    "agent.models.discriminator.network.0.layers=[64,32]",
    "agent.agent.learning_epochs=2",
  ]
  args = ["--algorithm", "AMP", "--max_iterations", "2", *FAST, *small]
  result = _run(launcher, "train.py", log_root, *args, task="Amp-Flat-G1")
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  (run_dir,) = (log_root / "g1_amp_flat").iterdir()
  state = torch.load(run_dir / "model_1.pt", weights_only=False)
  assert state["st_gym"]["algorithm"] == "AMP"
  # 2 frames x (1 + 3 + 3 + 3 + 29 + 29) = 136 inputs, hidden (64, 32), one logit.
  assert state["discriminator"]["net.0.weight"].shape == (64, 136)
  assert state["discriminator"]["net.4.weight"].shape == (1, 32)
  assert "amp_observation_preprocessor" in state and (run_dir / "exported" / "deploy.yaml").is_file()


# Warp's native library prints this on stderr where no NVIDIA driver is installed (a CPU-only
# machine), whatever its log level; a machine with a driver does not print it.
NO_DRIVER = "Warp CUDA warning: Could not find or load the NVIDIA CUDA driver."


def test_bad_agent_key_after_warp_starts_is_one_line_and_writes_nothing(launcher, trained):
  """Checked after skrl and Warp are imported: no Warp banner ahead of the error line."""
  log_root = trained.parent.parent
  before = _snapshot(log_root)
  result = _run(launcher, "train.py", log_root, "agent.agent.rollouts=32")
  assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
  assert result.stdout == ""
  stderr = [ln for ln in result.stderr.splitlines() if not ln.startswith(NO_DRIVER)]
  assert stderr == [
    "error: skrl agent config: agent.experiment.checkpoint_interval (1200) must be auto or a multiple "
    "of rollouts (32)."
  ], result.stderr[-2000:]
  assert _snapshot(log_root) == before


def test_play_without_runs_names_skrl_train(tmp_path):
  from legged_robots.evaluation.skrl_play import SkrlPlayOptions, skrl_play_cfgs
  from legged_robots.rl.errors import StRlError

  with pytest.raises(StRlError, match=r"no runs in .*: train first \(scripts/skrl/train\.py --task"):
    skrl_play_cfgs(SkrlPlayOptions(task=TASK, log_root=str(tmp_path), device="cpu"))
  assert list(tmp_path.iterdir()) == []


def _bad_yaml(tmp: Path) -> str:
  from legged_robots.tasks.config.g1.skrl_agents import PPO_YAML

  path = tmp / "bad_skrl_ppo_cfg.yaml"
  path.write_text(PPO_YAML.read_text().replace("learning_rate: 1.0e-3", "learnin_rate: 1.0e-3"))
  return str(path)


def _st_rl_run(tmp: Path) -> str:
  run = tmp / "st_rl_run"
  run.mkdir(exist_ok=True)
  keys = ("actor_state_dict", "critic_state_dict", "optimizer_state_dict")
  torch.save({**{k: {} for k in keys}, "iter": 0}, run / "model_0.pt")
  return str(run)


BAD = {
  "agent_yaml_unknown_key": (
    lambda tmp: {"agent_cfg": _bad_yaml(tmp)},
    r"unknown key agent\.learnin_rate; closest valid keys: agent\.learning_rate",
  ),
  "checkpoint_of_st_rl": (
    lambda tmp: {"resume": True, "load_run": _st_rl_run(tmp)},
    r"is an st_rl \(rsl_rl\) checkpoint, not an skrl one",
  ),
  "amp_without_motion_data": (
    lambda tmp: {"algorithm": "AMP"},
    r"--algorithm AMP: task Flat-G1 has no reference motions .* AMP tasks: Amp-Flat-G1",
  ),
  "agent_of_other_algorithm": (
    lambda tmp: {"agent": "skrl_ppo_lstm", "algorithm": "AMP", "task": "Amp-Flat-G1"},
    r"--algorithm AMP, but the agent config is skrl PPO",
  ),
  "unknown_override_key": (
    lambda tmp: {"overrides": ["agent.agent.learnin_rate=1e-3"]},
    r"unknown override key 'agent\.agent\.learnin_rate'.*agent\.agent\.learning_rate",
  ),
  "resume_without_runs": (
    lambda tmp: {"resume": True, "experiment_name": "empty"},
    r"no runs in .*train first \(scripts/skrl/train\.py --task",
  ),
  "unknown_algorithm": (
    lambda tmp: {"algorithm": "SAC"},
    r"^--algorithm SAC: skrl runners here are PPO, AMP\.$",
  ),
  "rnn_sequence_does_not_fit": (
    lambda tmp: {"agent": "skrl_ppo_lstm", "overrides": ["agent.agent.rollouts=10"]},
    r"rnn\.sequence_length \(24\) must divide agent\.rollouts \(10\)",
  ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_clear_error_and_writes_nothing(trained, tmp_path, name):
  from legged_robots.rl.errors import StRlError
  from legged_robots.rl.skrl.train import SkrlTrainOptions, run_skrl_train

  log_root = trained.parent.parent
  before = _snapshot(log_root)
  make, message = BAD[name]
  kwargs = {"task": TASK, "log_root": str(log_root), "device": "cpu", "num_envs": 4, **make(tmp_path)}
  with pytest.raises(StRlError) as err:
    run_skrl_train(SkrlTrainOptions(**kwargs))
  assert re.search(message, str(err.value)) and "\n" not in str(err.value), str(err.value)
  assert _snapshot(log_root) == before


def test_an_skrl_checkpoint_is_refused_by_st_rl(trained):
  from legged_robots.rl.checkpoint import read_checkpoint
  from legged_robots.rl.errors import CheckpointError

  with pytest.raises(CheckpointError, match=r"not a st_rl/rsl_rl checkpoint"):
    read_checkpoint(trained / "model_1.pt")
