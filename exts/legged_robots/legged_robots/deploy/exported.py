"""Find an exported policy folder and the MJCF to simulate it with (no torch, no mjlab).

Runs live in ``<log_root>/<experiment>/<YYYY-MM-DD_HH-MM-SS>[_name]/exported/``; the
``exported/`` folder always holds the newest checkpoint's export (``play.py`` exports an
older checkpoint to ``exported/model_<i>/``). "Newest" is defined in ``deploy/runs.py``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import onnxruntime as ort

from legged_robots.deploy import runs
from legged_robots.deploy.contract import DeployContract
from legged_robots.deploy.errors import DeployError, MissingFileError
from legged_robots.deploy.runtime import CONTRACT_FILE


def find_exported(
  log_root: Path, task: str, load_run: str = "-1", checkpoint: str = "-1", experiment: str | None = None
) -> Path:
  """The export of task's newest run (load_run -1) or of run ``load_run`` (a folder name or
  path), under experiment or every experiment of log_root (``deploy/runs.py``).

  checkpoint -1 takes ``exported/`` (the run's newest checkpoint); an iteration takes the
  export that holds it: ``exported/``, ``exported/model_<i>/``, or one of the runs the run
  was resumed from."""
  direct = Path(load_run)
  experiments = runs.experiment_dirs(log_root, experiment)
  if load_run != "-1" and runs.has_export(direct) and direct.parent != Path("."):
    run = direct
  else:
    found = runs.runs_of(experiments, task, runs.has_export)
    where = f"{log_root}/{experiment or '<experiment>'}/<run>/exported/"
    if not found:
      raise MissingFileError(
        f"no exported policy of task {task} under {where}{_exported_tasks(experiments, task)}: train it "
        "first (scripts/st_rl/train.py), pass --log_root or --experiment_name, or pass the folder with "
        "--policy."
      )
    named = found if load_run == "-1" else [r for r in found if r.name == load_run]
    if not named:
      have = ", ".join(r.name for r in found[-8:])
      raise MissingFileError(f"no run {load_run} of task {task} under {where}; runs: {have}")
    run = named[-1]
  if checkpoint == "-1":
    return run / runs.EXPORT_DIR
  return _export_of_iteration(run, checkpoint)


def _exported_tasks(experiments: list[Path], task: str) -> str:
  """'' or '; exports there are of <tasks> (did you mean <closest>?)': a mistyped --task."""
  tasks = sorted(
    {runs.read_run_info(run).task or "?" for run in runs.runs_of(experiments, None, runs.has_export)}
  )
  if not tasks:
    return ""
  close = difflib.get_close_matches(task, tasks, n=3, cutoff=0.6)
  hint = f" (did you mean {', '.join(close)}?)" if close else ""
  return f"; exports there are of {', '.join(tasks)}{hint}"


def _export_of_iteration(run: Path, checkpoint: str) -> Path:
  wanted = checkpoint.removeprefix("model_").removesuffix(".pt")
  for member, _ in runs.lineage(run):
    exported = member / runs.EXPORT_DIR
    for folder in (exported / f"model_{wanted}", exported):
      if _iteration_of(folder) == wanted:
        return folder
  if wanted.isdigit() and runs.find_in_lineage(run, int(wanted)) is None:
    have = ", ".join(map(str, runs.lineage_iterations(run))) or "none"
    raise MissingFileError(
      f"run {run.name} has no checkpoint model_{wanted}.pt to export; its checkpoints: "
      f"{have}. Pass one of them with --checkpoint, or -1 for the newest."
    )
  raise DeployError(
    f"no export of iteration {wanted} in {run / runs.EXPORT_DIR} (it holds iteration "
    f"{_iteration_of(run / runs.EXPORT_DIR)}): export it with scripts/st_rl/play.py "
    f"--load_run {run.name} --checkpoint {wanted}, or use --checkpoint -1."
  )


def _iteration_of(folder: Path) -> str | None:
  onnx_path = folder / "policy.onnx"
  if not (folder / CONTRACT_FILE).is_file() or not onnx_path.is_file():
    return None
  try:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
  except Exception:  # onnxruntime raises its own classes for unreadable files
    return None
  return session.get_modelmeta().custom_metadata_map.get("iteration")


def resolve_mjcf(folder: Path, contract: DeployContract, mjcf: str | None) -> tuple[Path, str]:
  """(MJCF path, where it came from): --mjcf, else exported robot.xml, else robot.mjcf_path."""
  if mjcf is not None:
    path = Path(mjcf)
    if not path.is_file():
      raise MissingFileError(f"--mjcf {path} does not exist")
    return path, "--mjcf"
  if contract.robot.sim_mjcf is not None:
    path = folder / contract.robot.sim_mjcf
    if not path.is_file():
      raise MissingFileError(
        f"deploy.yaml names robot.sim_mjcf={contract.robot.sim_mjcf} but {path} is missing: "
        "re-export with play.py, or pass --mjcf PATH."
      )
    return path, "exported robot model (robot.sim_mjcf)"
  if contract.robot.mjcf_path is not None and Path(contract.robot.mjcf_path).is_file():
    return Path(contract.robot.mjcf_path), (
      "robot.mjcf_path: the plain asset MJCF; its armature and collision settings may differ from "
      "training (re-export with play.py to get exported/robot.xml)"
    )
  raise MissingFileError(
    f"no robot model for {folder}: deploy.yaml has no robot.sim_mjcf and robot.mjcf_path "
    f"({contract.robot.mjcf_path}) does not exist here; pass --mjcf PATH."
  )
