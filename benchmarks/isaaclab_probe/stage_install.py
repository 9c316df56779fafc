"""Probe stage 0: does the offline Isaac Lab 3 bundle import, and does Warp see the GPU?

Imports the packages the kitless Newton path needs, records their versions and where they were
imported from (to catch a shadowing copy from another site folder), and launches one Warp kernel
on the first CUDA device (the host's driver must be new enough for warp-lang's CUDA build).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import subprocess
import sys
import traceback
from typing import Any

from probe_common import StageFailedError, stage_main, stage_parser

# (import name, distribution name) of what the kitless Newton path imports.
MODULES = (
  ("isaaclab", "isaaclab"),
  ("isaaclab_tasks", "isaaclab"),
  ("isaaclab_rl", "isaaclab"),
  ("isaaclab_newton", "isaaclab"),
  ("newton", "newton"),
  ("warp", "warp-lang"),
  ("mujoco", "mujoco"),
  ("mujoco_warp", "mujoco-warp"),
  ("rsl_rl", "rsl-rl-lib"),
  ("pxr", "usd-exchange"),
  ("omni.client", "omniverseclient"),
  ("isaacsim.asset.importer.mjcf", "isaacsim-asset-isolated"),
  ("torch", "torch"),
)


def gpu_check() -> dict[str, Any]:
  """Run a Warp kernel on ``cuda:0``; return what torch and Warp report about the GPU."""
  import torch
  import warp as wp

  @wp.kernel
  def add_one(values: wp.array(dtype=wp.float32)):  # type: ignore[valid-type]
    values[wp.tid()] += 1.0

  values = wp.zeros(8, dtype=wp.float32, device="cuda:0")
  wp.launch(add_one, dim=8, inputs=[values], device="cuda:0")
  total = float(values.numpy().sum())
  if total != 8.0:
    raise RuntimeError(f"Warp kernel on cuda:0 summed to {total}, expected 8.0")
  return {
    "torch_cuda": torch.version.cuda,
    "gpu": torch.cuda.get_device_name(0),
    "warp_cuda_devices": [str(d) for d in wp.get_cuda_devices()],
  }


def run() -> dict[str, Any]:
  """Import every module and run the GPU check; record every failure, then raise if any."""
  findings: dict[str, Any] = {"modules": {}}
  for name, dist in MODULES:
    try:
      module = importlib.import_module(name)
      found = {"version": importlib.metadata.version(dist), "file": getattr(module, "__file__", None)}
    except Exception as exc:  # record every import that fails, not just the first
      found = {"error": f"{type(exc).__name__}: {exc}"}
      print(f"import {name} failed:", file=sys.stderr)
      traceback.print_exc()
    findings["modules"][name] = found
  if shutil.which("nvidia-smi"):
    smi = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    findings["nvidia_smi"] = subprocess.run(smi, capture_output=True, text=True, check=False).stdout.strip()
  problems = [f"import {name}" for name, found in findings["modules"].items() if "error" in found]
  try:
    findings.update(gpu_check())
  except Exception as exc:  # a missing GPU is a finding, reported with the imports
    findings["gpu_error"] = f"{type(exc).__name__}: {exc}"
    problems.append(f"GPU check ({findings['gpu_error']})")
    traceback.print_exc()
  if problems:
    raise StageFailedError("failed: " + "; ".join(problems), findings)
  return findings


if __name__ == "__main__":
  args = stage_parser("Isaac Lab 3 bundle imports; Warp runs a kernel on the GPU").parse_args()
  raise SystemExit(stage_main("install", args.out, run))
