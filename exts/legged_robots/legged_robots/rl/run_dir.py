"""Writing run folders: claimed atomically, exports swapped in whole, leftovers cleaned.

- ``claim_run_dir`` creates ``<experiment>/<YYYY-MM-DD_HH-MM-SS>[_<run_name>]`` with an
  exclusive ``mkdir``; when another run took the name (same second), ``_2``, ``_3``, ...
  is appended. It is called only after every input was validated.
- A training process holds an exclusive ``flock`` on ``<run>/.train.lock`` for its life;
  the kernel drops it when the process dies, even by ``kill -9``.
- ``publish_export`` writes a folder of files (an export) beside the run as a staging
  folder, then renames it into place under ``<run>/.export.lock``: a reader sees the
  previous complete export or the new one, never a mix. ``exported/model_<i>/`` folders
  (older checkpoints' exports) move into each new ``exported/``.
- ``clean_stale`` (at the start of train and play) finishes or undoes a swap a kill
  interrupted and removes staging folders and checkpoint temp files that no live process
  owns (runs whose ``.train.lock`` is held are left alone).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from legged_robots.deploy.runs import EXPORT_DIR, RUN_INFO
from legged_robots.rl.cfg_yaml import dump_cfg

TRAIN_LOCK = ".train.lock"
EXPORT_LOCK = ".export.lock"
_STAGING_PREFIX = ".export-"
_OLDER_EXPORT = re.compile(r"^model_\d+$")
_SIDECAR = re.compile(r"\.(.+)\.(?:new|old)")


def claim_run_dir(experiment_dir: Path, run_name: str | None, now: datetime | None = None) -> Path:
  """Create and return a new run folder that no other run has (exclusive mkdir)."""
  stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
  base = stamp + (f"_{run_name}" if run_name else "")
  experiment_dir.mkdir(parents=True, exist_ok=True)
  for n in range(1, 1000):
    run_dir = experiment_dir / (base if n == 1 else f"{base}_{n}")
    try:
      run_dir.mkdir()
    except FileExistsError:
      continue
    return run_dir
  raise FileExistsError(f"{experiment_dir}: 999 runs named {base}[_<n>] exist")


def write_run_info(run_dir: Path, task: str, resumed_from: Path | None) -> None:
  """params/run.yaml: the task and, for a resumed run, the checkpoint it continues."""
  info: dict[str, str] = {"task": task}
  if resumed_from is not None:
    log_root = run_dir.parent.parent
    origin = resumed_from.resolve()
    with contextlib.suppress(ValueError):
      origin = origin.relative_to(log_root.resolve())
    info["resumed_from"] = str(origin)
  path = run_dir / RUN_INFO
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(yaml.safe_dump(info, sort_keys=False))


def write_run_params(
  run_dir: Path, task: str, resumed_from: Path | None, env_cfg: Any, agent_cfg: Any
) -> None:
  """params/{run,env,agent}.yaml of a st_rl run: what play.py, goals.py and sim2mujoco read back."""
  write_run_info(run_dir, task, resumed_from)
  dump_cfg(env_cfg, run_dir / "params" / "env.yaml")
  dump_cfg(agent_cfg, run_dir / "params" / "agent.yaml")


@contextlib.contextmanager
def _flock(path: Path, blocking: bool = True) -> Iterator[bool]:
  """Hold an exclusive flock on path; yields False when not blocking and it is taken."""
  path.parent.mkdir(parents=True, exist_ok=True)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
      yield False
      return
    yield True
  finally:
    os.close(fd)  # closing releases the lock


class TrainLock:
  """``<run>/.train.lock`` held while a training process writes the run."""

  def __init__(self, run_dir: Path) -> None:
    self._lock = _flock(run_dir / TRAIN_LOCK)
    self._lock.__enter__()

  def release(self) -> None:
    self._lock.__exit__(None, None, None)


def _run_of(folder: Path) -> Path:
  """The run folder an export folder belongs to (``<run>/exported[/model_<i>]``)."""
  if folder.name == EXPORT_DIR:
    return folder.parent
  if folder.parent.name == EXPORT_DIR:
    return folder.parent.parent
  return folder.parent


def publish_export(target: Path, write: Callable[[Path], None]) -> None:
  """Call write(staging folder), then put the staging folder at target in one rename.

  A kill while writing leaves the previous export untouched (and a staging folder that
  ``clean_stale`` removes); a kill during the swap is finished by ``clean_stale``.
  """
  run = _run_of(target)
  run.mkdir(parents=True, exist_ok=True)
  with _flock(run / EXPORT_LOCK):
    staging = Path(tempfile.mkdtemp(dir=run, prefix=_STAGING_PREFIX))
    try:
      write(staging)
      _fsync_tree(staging)
      _swap(staging, target)
    except BaseException:
      shutil.rmtree(staging, ignore_errors=True)
      raise


def _fsync_tree(folder: Path) -> None:
  for path in folder.iterdir():
    if path.is_file():
      with open(path, "rb") as f:
        os.fsync(f.fileno())
  _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
  fd = os.open(folder, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _swap(staging: Path, target: Path) -> None:
  """staging -> target.new; target's older exports -> target.new; target -> target.old;
  target.new -> target; drop target.old. Each step is one rename (see _recover)."""
  new, old = _sidecars(target)
  target.parent.mkdir(parents=True, exist_ok=True)
  shutil.rmtree(new, ignore_errors=True)
  os.rename(staging, new)
  if target.is_dir():
    for child in target.iterdir():
      if child.is_dir() and _OLDER_EXPORT.match(child.name) and not (new / child.name).exists():
        os.rename(child, new / child.name)
    shutil.rmtree(old, ignore_errors=True)
    os.rename(target, old)
  os.rename(new, target)
  _fsync_dir(target.parent)
  shutil.rmtree(old, ignore_errors=True)


def _sidecars(target: Path) -> tuple[Path, Path]:
  return target.parent / f".{target.name}.new", target.parent / f".{target.name}.old"


def _recover(target: Path) -> None:
  """Finish a swap that a kill interrupted (the lock is held)."""
  new, old = _sidecars(target)
  if new.is_dir() and not target.exists():
    os.rename(new, target)  # killed between the two renames: new is complete
  elif new.is_dir():
    # Killed before target moved away: keep the previous export, give back its children.
    for child in new.iterdir():
      if _OLDER_EXPORT.match(child.name) and not (target / child.name).exists():
        os.rename(child, target / child.name)
    shutil.rmtree(new)
  if old.is_dir():
    if target.is_dir():
      for child in old.iterdir():
        if _OLDER_EXPORT.match(child.name) and not (target / child.name).exists():
          os.rename(child, target / child.name)
      shutil.rmtree(old)
    else:
      os.rename(old, target)


def _stale_entries(run: Path) -> tuple[list[Path], list[Path]]:
  """(export targets with an interrupted swap, temp files and staging folders) of run."""
  targets: set[Path] = set()
  temps: list[Path] = []
  for folder in (run, run / EXPORT_DIR):
    if not folder.is_dir():
      continue
    for path in folder.iterdir():
      swap = _SIDECAR.fullmatch(path.name)
      if swap and path.is_dir():
        targets.add(folder / swap.group(1))
      elif path.name.startswith(_STAGING_PREFIX) and path.is_dir():
        temps.append(path)
      elif path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
        temps.append(path)  # a checkpoint or file write that a kill interrupted
  return sorted(targets), temps


def clean_stale(runs: list[Path]) -> list[Path]:
  """Recover interrupted export swaps and remove temp files of runs no process owns.

  Runs with nothing stale are only read (no lock files appear in them). Returns what was
  recovered or removed, for the log line."""
  cleaned: list[Path] = []
  for run in runs:
    targets, temps = _stale_entries(run)
    if not targets and not temps:
      continue
    with _flock(run / TRAIN_LOCK, blocking=False) as free:
      if not free:
        continue  # a live training owns this run's temp files
      with _flock(run / EXPORT_LOCK):
        for target in targets:
          _recover(target)
        for path in temps:
          if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
          else:
            path.unlink(missing_ok=True)
      cleaned += targets + temps
  return cleaned
