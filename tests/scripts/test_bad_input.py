"""Every command line, every input a user can get wrong: exit status 2, one ``error:`` line
naming the problem and the fix, no traceback, nothing new under the log root.

The scripts run in this process (their ``main(argv)``, through the same wrapper as on the
command line), so the table stays cheap; ``test_st_rl_scripts.py`` runs a few of the same
cases as subprocesses end to end.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "policies" / "flat_g1_h200"
RUN = "2026-01-01_00-00-00"

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
os.environ.setdefault("MJLAB_WARP_QUIET", "1")


def _script(name: str, runner: str = "st_rl"):
  path = ROOT / "scripts" / runner / f"{name}.py"
  spec = importlib.util.spec_from_file_location(f"cli_{runner}_{name}", path)
  assert spec is not None and spec.loader is not None
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _st_rl(name: str, runner: str = "st_rl") -> Callable[[list[str]], int]:
  """train/play/sim2sim (and skrl's train) as on the command line: run_main turns errors
  into exit 2."""
  from legged_robots.rl.cli import run_main

  module = _script(name, runner)

  def call(argv: list[str]) -> int:
    try:
      run_main(lambda: module.main(argv))
    except SystemExit as e:
      return int(e.code or 0)
    return 0

  return call


def _returning(name: str) -> Callable[[list[str]], int]:
  """sim2mujoco and sweep return their exit status."""
  return _script(name).main


def _refmotion(argv: list[str]) -> int:
  from refmotion_manager.cli import main

  return main(argv)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
  """A log root with one Flat-G1 run, and broken copies of the shipped policy."""
  root = tmp_path_factory.mktemp("bad_input")
  run = root / "logs" / "g1_flat" / RUN
  (run / "params").mkdir(parents=True)
  (run / "params" / "run.yaml").write_text("task: Flat-G1\n")
  (run / "model_0.pt").write_bytes(b"not opened: the task check comes first")
  shutil.copytree(SHIPPED, run / "exported")

  def broken(name: str, edit: Callable[[Path], None]) -> None:
    shutil.copytree(SHIPPED, root / name)
    edit(root / name)

  def set_gain(value) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
      data = yaml.safe_load((folder / "deploy.yaml").read_text())
      data["stiffness"][3] = value
      (folder / "deploy.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    return edit

  broken("gain_text", set_gain("stiff"))
  broken("gain_negative", set_gain(-40.0))
  broken("gain_nan", set_gain(math.nan))
  broken("onnx_truncated", lambda f: (f / "policy.onnx").write_bytes((f / "policy.onnx").read_bytes()[:500]))
  broken("yaml_malformed", lambda f: (f / "deploy.yaml").write_text("task: Flat-G1\njoint_names: [a, b\n"))
  (root / "schedule.yaml").write_text("- {t: 0.0, cmd: [fast, 0.0, 0.0]}\n")
  (root / "garbage.npz").write_bytes(b"not a motion file")
  return root


def _cases(world: Path) -> dict[str, tuple[str, list[str], str]]:
  """case -> (command line, arguments, regex of the error line)."""
  logs = ["--log_root", str(world / "logs")]
  g1 = ["--task", "Flat-G1", *logs]
  sim_ok = ["--duration", "1", "--no-video"]
  run = str(world / "logs" / "g1_flat" / RUN)
  return {
    # train: counts and rates are checked before the env is built
    "train_num_envs_0": ("train", [*g1, "--num_envs", "0"], r"--num_envs must be at least 1, got 0"),
    "train_device_not_a_device": ("train", [*g1, "--device", "gpu0"], r"--device gpu0: not a device"),
    "train_device_not_cpu_or_cuda": (
      "train",
      [*g1, "--device", "meta"],
      r"--device meta: st_gym runs on cpu or cuda",
    ),
    "train_num_envs_negative": ("train", [*g1, "--num_envs", "-3"], r"--num_envs must be at least 1, got -3"),
    "train_max_iterations_0": (
      "train",
      [*g1, "--max_iterations", "0"],
      r"--max_iterations must be at least 1",
    ),
    "train_learning_rate_negative": (
      "train",
      [*g1, "agent.algorithm.learning_rate=-1"],
      r"agent\.algorithm\.learning_rate must be a finite number > 0, got -1\.0: set agent\.algorithm",
    ),
    "train_gamma_above_1": (
      "train",
      [*g1, "agent.algorithm.gamma=1.5"],
      r"gamma must be .*<= 1\.0, got 1\.5",
    ),
    "train_reward_weight_nan": (
      "train",
      [*g1, "env.rewards.alive.weight=nan"],
      r"env\.rewards\.alive\.weight is nan: set it to a number",
    ),
    "train_reward_weight_inf": (
      "train",
      [*g1, "env.rewards.alive.weight=inf"],
      r"env\.rewards\.alive\.weight must be a finite number, got inf",
    ),
    "skrl_train_unknown_task": ("skrl_train", ["--task", "Flat-G2", *logs], r"Unknown task id 'Flat-G2'"),
    "skrl_train_reward_weight_nan": (
      "skrl_train",
      [*g1, "env.rewards.alive.weight=nan"],
      r"env\.rewards\.alive\.weight is nan",
    ),
    "train_num_envs_override_0": (
      "train",
      [*g1, "env.scene.num_envs=0"],
      r"env\.scene\.num_envs .* at least 1",
    ),
    "train_string_in_a_list": (
      "train",
      [*g1, "env.events.push_robot.params.velocity_range.x=[-1e3, fast]"],
      r"velocity_range\.x\[1\]='fast': expected float",
    ),
    "train_resume_run_of_another_task": (
      "train",
      ["--task", "Flat-Go1", *logs, "--resume", "--load_run", RUN],
      r"trained on task Flat-G1, not Flat-Go1: pass --task Flat-G1",
    ),
    # play
    "play_run_of_another_task": (
      "play",
      ["--task", "Flat-Go1", *logs, "--load_run", run],
      r"trained on task Flat-G1, not Flat-Go1",
    ),
    "play_num_envs_0": ("play", [*g1, "--num_envs", "0"], r"--num_envs must be at least 1, got 0"),
    "play_num_episodes_negative": (
      "play",
      [*g1, "--num_episodes", "-1"],
      r"--num_episodes must be at least 1",
    ),
    "play_episode_length_nan": (
      "play",
      [*g1, "--episode_length_s", "nan"],
      r"--episode_length_s must be a finite",
    ),
    # sim2sim
    "sim2sim_num_states_0": ("sim2sim", [*g1, "--load_run", RUN, "--num_states", "0"], r"--num_states \(0\)"),
    # sim2mujoco: the exported folder and the flags
    "sim2mujoco_gain_not_a_number": (
      "sim2mujoco",
      ["--policy", str(world / "gain_text"), *sim_ok],
      r"stiffness\[3\] must be a number, got 'stiff'",
    ),
    "sim2mujoco_gain_negative": (
      "sim2mujoco",
      ["--policy", str(world / "gain_negative"), *sim_ok],
      r"stiffness\[3\] must be >= 0, got -40\.0",
    ),
    "sim2mujoco_gain_nan": (
      "sim2mujoco",
      ["--policy", str(world / "gain_nan"), *sim_ok],
      r"stiffness\[3\] must be finite, got nan",
    ),
    "sim2mujoco_truncated_onnx": (
      "sim2mujoco",
      ["--policy", str(world / "onnx_truncated"), *sim_ok],
      r"cannot load .*policy\.onnx .*truncated or not an ONNX model\. Re-export",
    ),
    "sim2mujoco_malformed_yaml": (
      "sim2mujoco",
      ["--policy", str(world / "yaml_malformed"), *sim_ok],
      r"cannot read .*deploy\.yaml: .*Fix the YAML",
    ),
    "sim2mujoco_schedule_not_numbers": (
      "sim2mujoco",
      ["--policy", str(SHIPPED), "--schedule", str(world / "schedule.yaml"), *sim_ok],
      r"--schedule .*finite numbers",
    ),
    "sim2mujoco_cmd_outside_the_trained_ranges": (
      "sim2mujoco",
      ["--policy", str(SHIPPED), "--cmd", "2.0", "0", "0", *sim_ok],
      r"lin_vel_x=2\.0 is outside the training range \[-0\.5, 1\.0\]",
    ),
    "sim2mujoco_seed_negative": (
      "sim2mujoco",
      ["--policy", str(SHIPPED), "--seed", "-1", *sim_ok],
      r"--seed must be a non-negative integer, got -1",
    ),
    "sim2mujoco_duration_negative": (
      "sim2mujoco",
      ["--policy", str(SHIPPED), "--duration", "-1"],
      r"--duration must be a finite number of seconds > 0, got -1\.0",
    ),
    "sim2mujoco_friction_0": (
      "sim2mujoco",
      ["--policy", str(SHIPPED), "--friction", "0", *sim_ok],
      r"friction and motor strength must be > 0 and finite, got friction scale 0\.0",
    ),
    "sim2mujoco_no_run_of_the_experiment": (
      "sim2mujoco",
      [*g1, "--experiment_name", "go1_flat", *sim_ok],
      r"no exported policy of task Flat-G1 under .*go1_flat",
    ),
    # sweep and refmotion_manager
    "sweep_truncated_onnx": (
      "sweep",
      ["--policies", str(world / "onnx_truncated"), "--duration", "1"],
      r"cannot load .*truncated or not an ONNX model",
    ),
    "sweep_duration_0": (
      "sweep",
      ["--policies", str(SHIPPED), "--duration", "0"],
      r"--duration must be a finite number > 0, got 0\.0",
    ),
    "sweep_missing_run": (
      "sweep",
      ["--run", str(world / "no_such_run"), "--task", "Flat-G1", "--checkpoints", "1", "--duration", "1"],
      r"--run .*no_such_run: no such run folder",
    ),
    "refmotion_validate_unreadable": (
      "refmotion_manager",
      ["validate", str(world / "garbage.npz")],
      r"garbage\.npz: .*not a readable \.npz",
    ),
  }


CLIS = {
  "train": lambda: _st_rl("train"),
  "skrl_train": lambda: _st_rl("train", "skrl"),
  "play": lambda: _st_rl("play"),
  "sim2sim": lambda: _st_rl("sim2sim"),
  "sim2mujoco": lambda: _returning("sim2mujoco"),
  "sweep": lambda: _returning("sweep"),
  "refmotion_manager": lambda: _refmotion,
}
CASES = sorted(_cases(Path("/")))


def _snapshot(root: Path) -> set[tuple[str, int]]:
  return {(str(p), p.stat().st_size) for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_message_and_writes_nothing(world, case, capsys):
  cli, args, message = _cases(world)[case]
  before = _snapshot(world)
  code = CLIS[cli]()(args)
  out, err = capsys.readouterr()
  errors = [line for line in err.splitlines() if line.startswith("error: ")]
  assert code == 2, (code, out[-1500:], err[-1500:])
  assert len(errors) == 1, err[-1500:]
  assert re.search(message, errors[0]), errors[0]
  assert "Traceback" not in out + err
  assert _snapshot(world) == before
