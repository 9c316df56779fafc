"""Probe stage 0: does the offline Isaac Lab 3 bundle import, and does Warp see the GPU?

Imports the packages the kitless Newton path needs, records their versions and where they were
imported from (to catch a shadowing copy from another site folder), and launches one Warp kernel
on the first CUDA device (the host's driver must be new enough for warp-lang's CUDA build).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

from probe_common import stage_main, stage_parser

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


def run() -> dict[str, Any]:
  """Import every module, then run a Warp kernel on the GPU; raise on the first failure."""
  modules = {}
  for name, dist in MODULES:
    module = importlib.import_module(name)
    modules[name] = {"version": importlib.metadata.version(dist), "file": getattr(module, "__file__", None)}

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
    "modules": modules,
    "torch_cuda": torch.version.cuda,
    "gpu": torch.cuda.get_device_name(0),
    "warp_cuda_devices": [str(d) for d in wp.get_cuda_devices()],
  }


if __name__ == "__main__":
  args = stage_parser("Isaac Lab 3 bundle imports; Warp runs a kernel on the GPU").parse_args()
  raise SystemExit(stage_main("install", args.out, run))
