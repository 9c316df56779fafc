# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""An Isaac Lab rsl_rl run of these tasks: its checkpoint, its task, its policy in a play env.

Shared by ``export``, ``evaluate`` and ``check_export``. The run folder is ``isaaclab train``'s
``logs/rsl_rl/<experiment>/<timestamp>``; the task comes from its ``run.json``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

from legged_robots_isaaclab import g1

TASKS = ("Isaac-Flat-G1-StGym", "Isaac-Rough-G1-StGym")


class RunInputError(Exception):
  """Bad command-line input: reported as one line, exit code 2, nothing written."""


def checkpoint_of(run: Path, name: str | None) -> Path:
  """``run/name``, or the run's latest ``model_<N>.pt``."""
  if not run.is_dir():
    raise RunInputError(f"--run {run} is not a folder: pass logs/rsl_rl/<experiment>/<run>")
  if name is not None:
    path = run / name
    if not path.is_file():
      raise RunInputError(f"--checkpoint {name} is not in {run}: pass one of its model_<N>.pt files")
    return path
  saved = sorted(run.glob("model_*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or -1))
  if not saved:
    raise RunInputError(
      f"{run} holds no model_<N>.pt: train first, or pass the run folder of a trained policy"
    )
  return saved[-1]


def task_of(run: Path) -> str:
  """The task id in the run's ``run.json`` (one of ``TASKS``)."""
  manifest = run / "run.json"
  try:
    task = json.loads(manifest.read_text())["task"]
  except (OSError, ValueError, KeyError) as e:
    raise RunInputError(
      f"cannot read the task from {manifest} ({e}): is {run} an Isaac Lab rsl_rl run?"
    ) from e
  if task not in TASKS:
    raise RunInputError(f"{run} trained {task!r}; known: {list(TASKS)}")
  return task


def run_inputs(run: Path, checkpoint: str | None) -> tuple[Path, str]:
  """(checkpoint path, task) of a run, and mjlab's g1.xml found, before any heavy import."""
  found = checkpoint_of(run, checkpoint), task_of(run)
  try:
    g1.g1_xml_path()
  except FileNotFoundError as e:
    raise RunInputError(str(e)) from e
  return found


@contextlib.contextmanager
def play_policy(task: str, checkpoint: Path, num_envs: int, device: str) -> Iterator[tuple]:
  """(env, wrapped env, runner with the checkpoint loaded, agent cfg) on ``task``'s -Play variant."""
  import isaacsim.asset.importer.mjcf  # noqa: F401  (before any stage: see legged_robots_isaaclab.tasks)
  from isaaclab.app import launch_simulation
  from isaaclab_tasks.utils import load_cfg_from_registry

  import legged_robots_isaaclab.tasks  # noqa: F401  (registers the tasks)

  env_cfg = load_cfg_from_registry(task + "-Play", "env_cfg_entry_point")
  agent_cfg = load_cfg_from_registry(task, "rsl_rl_cfg_entry_point")
  env_cfg.scene.num_envs = num_envs
  env_cfg.sim.device = agent_cfg.device = device
  env_cfg.sim.physics = env_cfg.sim.physics.newton_mjwarp
  env_cfg.sim.physics.use_cuda_graph = device.startswith("cuda")
  with launch_simulation(env_cfg, {"device": device}):
    from isaaclab.envs import ManagerBasedRLEnv
    from isaaclab_rl.rsl_rl import (
      RslRlVecEnvWrapper,
      check_rsl_rl_version,
      create_rsl_rl_runner,
      handle_deprecated_rsl_rl_cfg,
    )

    # as isaaclab train does: turn the cfg into the installed rsl_rl's keyword set
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    env = ManagerBasedRLEnv(cfg=env_cfg)
    try:
      wrapped = RslRlVecEnvWrapper(env, clip_actions=agent_cfg.clip_actions)
      runner = create_rsl_rl_runner(wrapped, agent_cfg)
      runner.load(str(checkpoint), map_location=device)
      yield env, wrapped, runner, agent_cfg
    finally:
      env.close()
