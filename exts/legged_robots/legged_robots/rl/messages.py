"""What training tells a first-time user: a CPU run is a smoke test, and where things are.

Also the quiet-by-default build: mjlab prints a table per manager and Warp a line per
kernel module while an env is built; ``quiet_build`` keeps them for ``--verbose``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import yaml

from legged_robots.deploy.runs import base_task
from legged_robots.rl.checkpoint import list_checkpoints

DEFAULT_LOG_ROOT = "logs/st_rl"
POLICIES = Path("policies")
"""Shipped exported policies (relative to the repository root, where ./run.sh runs)."""


def shipped_policies(task: str, root: Path = POLICIES) -> list[Path]:
  """Shipped exported folders of task (by their deploy.yaml), newest name last."""
  found = []
  for contract in sorted(root.glob("*/deploy.yaml")):
    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError):
      if base_task(yaml.safe_load(contract.read_text()).get("task", "")) == base_task(task):
        found.append(contract.parent)
  return found


def smoke_test_note(task: str, num_envs: int, iterations: int, root: Path = POLICIES) -> str:
  """The CPU default run checks the pipeline; it does not learn to walk."""
  note = (
    f"[st_rl] no CUDA device: a smoke test with {num_envs} envs and {iterations} iterations. It "
    "checks that training, checkpoints and export work; it will not learn to walk (that takes "
    "thousands of envs on a GPU: --num_envs/--max_iterations choose)."
  )
  policies = shipped_policies(task, root)
  if policies:
    note += (
      f"\n[st_rl] a trained {base_task(task)} policy ships in {policies[-1]}/: "
      f"python scripts/st_rl/sim2mujoco.py --policy {policies[-1]}"
    )
  return note


def next_steps(run_dir: Path, task: str, log_root: str) -> str:
  """Where the run's checkpoint and export are, and the commands that use them."""
  checkpoints = list_checkpoints(run_dir)
  extra = "" if log_root == DEFAULT_LOG_ROOT else f" -- --log_root {log_root}"
  lines = [f"[st_rl] done: {run_dir}"]
  if checkpoints:
    lines.append(f"  checkpoint  {checkpoints[-1][1]}")
  lines += [
    f"  export      {run_dir / 'exported'}/ (policy.onnx, deploy.yaml, robot.xml)",
    f"  evaluate    ./run.sh play -n {task} -l {run_dir.name}{extra}   # metrics, plot, video",
    f"  in MuJoCo   ./run.sh sim -n {task} -l {run_dir.name}{extra}    # the export alone, no torch",
    f"  continue    ./run.sh -n {task} -l {run_dir.name}{extra}",
  ]
  return "\n".join(lines)


@contextlib.contextmanager
def quiet_build(verbose: bool) -> Iterator[None]:
  """Swallow what mjlab prints while an env is built (manager tables), unless verbose."""
  if verbose:
    yield
    return
  with contextlib.redirect_stdout(io.StringIO()):
    yield
