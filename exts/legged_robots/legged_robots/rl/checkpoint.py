"""Checkpoint files: atomic writes, run/checkpoint lookup, and validation before loading.

``model_<i>.pt`` holds the training state after learning iteration ``i`` (0-based) and
``iter = i``. Writes go to a temp file in the same folder that is fsynced and renamed
over the target, so a run killed at any moment leaves only complete checkpoints.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from legged_robots.deploy import runs
from legged_robots.rl.errors import CheckpointError

_CKPT_RE = re.compile(r"^model_(\d+)\.pt$")
REQUIRED_KEYS = ("actor_state_dict", "critic_state_dict", "optimizer_state_dict", "iter")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
  """Call write(tmp) on a temp file beside path, fsync it, then rename it over path."""
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  os.close(fd)
  tmp = Path(tmp_name)
  try:
    write(tmp)
    with open(tmp, "rb+") as f:
      os.fsync(f.fileno())
    tmp.chmod(_default_file_mode())  # mkstemp creates 0600; give the usual mode
    os.replace(tmp, path)
  except BaseException:
    tmp.unlink(missing_ok=True)
    raise


def _default_file_mode() -> int:
  umask = os.umask(0)
  os.umask(umask)
  return 0o666 & ~umask


def atomic_torch_save(obj: Any, path: Path) -> None:
  atomic_write(path, lambda tmp: torch.save(obj, tmp))


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
  """``(iteration, path)`` of every ``model_<i>.pt`` in run_dir, by iteration."""
  found = []
  for path in run_dir.iterdir():
    match = _CKPT_RE.match(path.name)
    if match and path.is_file():
      found.append((int(match.group(1)), path))
  return sorted(found)


# The agent key of the checkpoint interval, per training library.
_CKPT_INTERVAL = {"st_rl": "agent.save_interval", "skrl": "agent.agent.experiment.checkpoint_interval"}


def resolve_checkpoint(
  experiments: Path | list[Path],
  load_run: str,
  checkpoint: str,
  task: str | None = None,
  library: str = "st_rl",
) -> Path:
  """Find the checkpoint named by ``--load_run`` and ``--checkpoint``.

  experiments: the experiment folder(s) to search (``deploy.runs.experiment_dirs``).
  load_run: a run folder name, a path to a run folder, or ``-1`` for the newest run of
  ``task`` (any task when None) that holds a checkpoint (``deploy/runs.py``).
  checkpoint: an iteration number, a file name, a path, or ``-1`` for the run's newest;
  an iteration the run does not hold is looked up in the runs it was resumed from.
  A run of another task than ``task`` is an error naming both. library (st_rl or skrl)
  names the train script and the checkpoint interval key in the errors.
  """
  candidate = Path(checkpoint)
  if checkpoint != "-1" and candidate.suffix == ".pt" and candidate.is_file():
    _check_task(candidate.parent, task)
    return candidate
  dirs = [experiments] if isinstance(experiments, Path) else experiments
  run_dir = _resolve_run(dirs, load_run, task, library)
  ckpts = list_checkpoints(run_dir)
  if checkpoint == "-1":
    if not ckpts:
      raise CheckpointError(
        f"run {run_dir} holds no model_<iter>.pt checkpoint: pick another run with "
        f"--load_run, or train longer (checkpoints are saved every {_CKPT_INTERVAL[library]})."
      )
    return ckpts[-1][1]
  if checkpoint.isdigit():
    found = runs.find_in_lineage(run_dir, int(checkpoint))
    if found is not None:
      return found
  else:
    wanted = run_dir / checkpoint
    if wanted.is_file():
      return wanted
  have = "; ".join(
    f"{member.name}: {', '.join(f'model_{i}.pt' for i in its[-8:])}"
    for member, limit in runs.lineage(run_dir)
    if (its := [i for i in runs.checkpoint_iterations(member) if limit is None or i <= limit])
  )
  name = f"model_{checkpoint}.pt" if checkpoint.isdigit() else checkpoint
  raise CheckpointError(
    f"checkpoint {name} not found in {run_dir} or the runs it was resumed from; available: "
    f"{have or 'none'}. Pass one of them with --checkpoint, or --checkpoint -1 for the newest."
  )


def _check_task(run_dir: Path, task: str | None) -> None:
  trained = runs.read_run_info(run_dir).task
  if task is not None and trained is not None and runs.base_task(trained) != runs.base_task(task):
    raise CheckpointError(
      f"run {run_dir} was trained on task {trained}, not {task}: pass --task {trained}, "
      f"or a run of {task} with --load_run."
    )


def _resolve_run(experiments: list[Path], load_run: str, task: str | None, library: str) -> Path:
  direct = Path(load_run)
  if load_run != "-1" and direct.is_dir() and direct.parent != Path("."):
    _check_task(direct, task)
    return direct
  where = ", ".join(str(e) for e in experiments) or "the log root (it holds no experiment)"
  if not any(e.is_dir() for e in experiments):
    raise CheckpointError(
      f"no runs in {where}: train first (scripts/{library}/train.py --task ...) "
      "or pass the --experiment_name the run was trained with."
    )
  with_ckpt = runs.runs_of(experiments, task)
  if load_run == "-1":
    if not with_ckpt:
      of = f" of task {task}" if task else ""
      raise CheckpointError(
        f"no run{of} in {where} holds a checkpoint: train first, or pass "
        "--load_run <folder> --checkpoint <file> explicitly."
      )
    return with_ckpt[-1]
  named = sorted((e / load_run for e in experiments if (e / load_run).is_dir()), key=runs.run_sort_key)
  if not named:
    have = ", ".join(r.name for r in with_ckpt[-8:]) or "none"
    raise CheckpointError(
      f"run {load_run!r} not found in {where}; available: {have} (runs holding a checkpoint). "
      "Pass one of them with --load_run, or --load_run -1 for the newest."
    )
  _check_task(named[-1], task)
  return named[-1]


def load_torch_file(path: Path) -> Any:
  """torch.load on CPU; an unreadable file (truncated, not torch) is one CheckpointError."""
  try:
    return torch.load(path, map_location="cpu", weights_only=False)
  except Exception as e:  # torch/pickle raise many unrelated classes for a bad file
    raise CheckpointError(
      f"cannot read checkpoint {path} ({type(e).__name__}): the file is truncated or "
      "not a torch checkpoint. Pick an earlier one with --checkpoint <iter>."
    ) from e


def read_checkpoint(path: Path) -> dict[str, Any]:
  """Load a checkpoint on CPU, or raise CheckpointError if truncated or foreign."""
  data = load_torch_file(path)
  missing = [k for k in REQUIRED_KEYS if not isinstance(data, dict) or k not in data]
  if missing:
    raise CheckpointError(
      f"{path} is not a st_rl/rsl_rl checkpoint (missing {missing}). Pass a "
      "model_<iter>.pt written by scripts/st_rl/train.py."
    )
  return data


def policy_io_dims(actor_state: dict[str, torch.Tensor]) -> tuple[int, int]:
  """(observation size, action size) of a saved actor, read from its weight shapes."""
  linear = sorted(
    (int(m.group(1)), key) for key in actor_state if (m := re.fullmatch(r"mlp\.(\d+)\.weight", key))
  )
  if not linear:
    raise CheckpointError("checkpoint actor has no mlp.<i>.weight layers: not an rsl_rl MLP")
  # The input side is the RNN when there is one, else the first MLP layer.
  first = actor_state.get("rnn.rnn.weight_ih_l0", actor_state[linear[0][1]])
  return int(first.shape[1]), int(actor_state[linear[-1][1]].shape[0])


def check_fits(path: Path, data: dict[str, Any], obs_dim: int, action_dim: int) -> None:
  """Raise CheckpointError when the checkpoint's actor does not fit the env's sizes."""
  ckpt_obs, ckpt_act = policy_io_dims(data["actor_state_dict"])
  if (ckpt_obs, ckpt_act) != (obs_dim, action_dim):
    raise CheckpointError(
      f"checkpoint {path} was trained with {ckpt_obs} observations and {ckpt_act} "
      f"actions, but this task has {obs_dim} observations and {action_dim} actions. "
      "Pick a run of the same task (--task/--load_run), or the same observation "
      "overrides it was trained with."
    )
