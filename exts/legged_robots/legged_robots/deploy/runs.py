"""Training run folders as the deploy side reads them (standard library and yaml only).

``<log_root>/<experiment>/<YYYY-MM-DD_HH-MM-SS>[_<run_name>][_<n>]/`` holds
``params/run.yaml`` (``task``, ``resumed_from``), ``model_<i>.pt`` checkpoints and
``exported/`` (the newest checkpoint's export; ``exported/model_<i>/`` for older ones).

A resumed run is a new folder whose ``resumed_from`` names the checkpoint it continued
(``<experiment>/<run>/model_<i>.pt`` under the log root, or an absolute path); a run and
its ancestors are one *lineage*, numbered without repeats. "Newest" (``-1``) means the
same to train ``--resume``, play, sim2mujoco, sim2sim and sweep: the newest run of the
task (by folder name) under one experiment, or under all experiments when none is
named; its lineage is searched for a checkpoint it does not hold itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

RUN_INFO = Path("params") / "run.yaml"
EXPORT_DIR = "exported"
CONTRACT_FILE = "deploy.yaml"
_CKPT_RE = re.compile(r"^model_(\d+)\.pt$")


@dataclass(frozen=True)
class RunInfo:
  """``params/run.yaml`` of a run folder."""

  task: str | None
  resumed_from: str | None = None
  """Checkpoint this run continued, relative to the log root, or absolute."""


def base_task(task: str) -> str:
  """A task id without its ``-Play`` suffix: both variants train and play one policy."""
  return task.removesuffix("-Play")


def run_sort_key(run: Path) -> list:
  """Folder names sort by time; the ``_<n>`` suffix of a taken name sorts numerically."""
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", run.name)]


def read_run_info(run: Path) -> RunInfo:
  """The run's task and origin; older runs without run.yaml get the task of their export."""
  data = _yaml_mapping(run / RUN_INFO)
  if data is not None:
    return RunInfo(task=data.get("task"), resumed_from=data.get("resumed_from"))
  exported = _yaml_mapping(run / EXPORT_DIR / CONTRACT_FILE)
  return RunInfo(task=None if exported is None else exported.get("task"))


def _yaml_mapping(path: Path) -> dict | None:
  try:
    data = yaml.safe_load(path.read_text())
  except (OSError, yaml.YAMLError):
    return None
  return data if isinstance(data, dict) else None


def checkpoint_iterations(run: Path) -> list[int]:
  """Iterations of the ``model_<i>.pt`` files in run, ascending."""
  try:
    names = [p.name for p in run.iterdir()]
  except OSError:
    return []
  return sorted(int(m.group(1)) for name in names if (m := _CKPT_RE.match(name)))


def has_checkpoint(run: Path) -> bool:
  return bool(checkpoint_iterations(run))


def has_export(run: Path) -> bool:
  return (run / EXPORT_DIR / CONTRACT_FILE).is_file()


def experiment_dirs(log_root: Path, experiment: str | None) -> list[Path]:
  """The experiment folder named, or every experiment folder under log_root."""
  if experiment is not None:
    return [log_root / experiment]
  return sorted(p for p in log_root.iterdir() if p.is_dir()) if log_root.is_dir() else []


def runs_of(
  experiments: list[Path], task: str | None, usable: Callable[[Path], bool] = has_checkpoint
) -> list[Path]:
  """Run folders (oldest first) of task (None: any) in experiments that pass ``usable``."""
  runs = [
    run
    for exp in experiments
    if exp.is_dir()
    for run in exp.iterdir()
    if run.is_dir() and not run.name.startswith(".") and usable(run)
  ]
  if task is not None:
    runs = [run for run in runs if base_task(read_run_info(run).task or "") == base_task(task)]
  return sorted(runs, key=run_sort_key)


def resumed_from_path(run: Path) -> Path | None:
  """The checkpoint file ``run`` was resumed from (it may no longer exist), or None."""
  origin = read_run_info(run).resumed_from
  if origin is None:
    return None
  path = Path(origin)
  return path if path.is_absolute() else run.parent.parent / path


def lineage(run: Path) -> Iterator[tuple[Path, int | None]]:
  """``(run, last iteration of it that belongs to the lineage)``: run first (None: all of
  it), then each run it was resumed from, up to the checkpoint it was resumed from."""
  seen: set[Path] = set()
  limit: int | None = None
  while run.resolve() not in seen:
    seen.add(run.resolve())
    yield run, limit
    origin = resumed_from_path(run)
    match = None if origin is None else _CKPT_RE.match(origin.name)
    if origin is None or match is None or not origin.parent.is_dir():
      return
    run, limit = origin.parent, int(match.group(1))


def lineage_iterations(run: Path) -> list[int]:
  """Iterations of the checkpoints of run's lineage, ascending (what find_in_lineage finds)."""
  found = {
    i for member, limit in lineage(run) for i in checkpoint_iterations(member) if limit is None or i <= limit
  }
  return sorted(found)


def find_in_lineage(run: Path, iteration: int) -> Path | None:
  """``model_<iteration>.pt`` of run's lineage (the newest run holding it), or None."""
  for member, limit in lineage(run):
    if limit is not None and iteration > limit:
      continue
    path = member / f"model_{iteration}.pt"
    if path.is_file():
      return path
  return None


def tool_output_dir(folder: Path, tool: str) -> Path:
  """A new ``<run>/<tool>/<time>/`` for a run's export (``exported/`` or ``exported/model_<i>/``),
  else ``logs/<tool>/<folder name>/<time>/``: never inside the exported folder, which the next
  export replaces, nor beside a shipped policy (``policies/``, tracked by git)."""
  folder = folder.resolve()
  if folder.name == EXPORT_DIR:
    base = folder.parent / tool
  elif folder.parent.name == EXPORT_DIR:
    base = folder.parent.parent / tool
  else:
    base = Path("logs") / tool / folder.name
  stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
  n = 1
  while (base / (stamp if n == 1 else f"{stamp}_{n}")).exists():
    n += 1
  return base / (stamp if n == 1 else f"{stamp}_{n}")
