"""Find an exported policy folder and the MJCF to simulate it with (no torch, no mjlab).

Runs live in ``<log_root>/<experiment>/<YYYY-MM-DD_HH-MM-SS>[_name]/exported/``; the
``exported/`` folder always holds the newest checkpoint's export (``play.py`` re-exports
a chosen checkpoint).
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import yaml

from legged_robots.deploy.contract import DeployContract
from legged_robots.deploy.errors import DeployError, MissingFileError
from legged_robots.deploy.runtime import CONTRACT_FILE


def _task_of(contract_path: Path) -> str | None:
  try:
    data = yaml.safe_load(contract_path.read_text())
  except (OSError, yaml.YAMLError):
    return None
  return data.get("task") if isinstance(data, dict) else None


def find_exported(log_root: Path, task: str, load_run: str = "-1", checkpoint: str = "-1") -> Path:
  """The exported/ folder of task's newest run (load_run -1) or of run folder ``load_run``."""
  direct = Path(load_run)
  if load_run != "-1" and (direct / "exported" / CONTRACT_FILE).is_file():
    folder = direct / "exported"
  else:
    runs = sorted(
      (p.parent.parent for p in log_root.glob(f"*/*/exported/{CONTRACT_FILE}") if _task_of(p) == task),
      key=lambda run: run.name,
    )
    if not runs:
      raise MissingFileError(
        f"no exported policy of task {task} under {log_root}/<experiment>/<run>/exported/: train it "
        "first (scripts/st_rl/train.py), pass --log_root, or pass the folder with --policy."
      )
    if load_run == "-1":
      folder = runs[-1] / "exported"
    else:
      named = [r for r in runs if r.name == load_run]
      if not named:
        have = ", ".join(r.name for r in runs[-8:])
        raise MissingFileError(f"no run {load_run} of task {task} under {log_root}; runs: {have}")
      folder = named[-1] / "exported"
  if checkpoint != "-1":
    _check_iteration(folder, checkpoint)
  return folder


def _check_iteration(folder: Path, checkpoint: str) -> None:
  wanted = checkpoint.removeprefix("model_").removesuffix(".pt")
  onnx_path = folder / "policy.onnx"
  if not onnx_path.is_file():
    raise MissingFileError(f"no policy.onnx in {folder}: re-export with play.py")
  meta = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).get_modelmeta()
  have = meta.custom_metadata_map.get("iteration")
  if have != wanted:
    raise DeployError(
      f"{folder} holds the export of iteration {have}, not {wanted}: export it with scripts/st_rl/play.py "
      f"--load_run {folder.parent.name} --checkpoint {wanted}, or use --checkpoint -1."
    )


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
