"""legged_robots.deploy imports only numpy, mujoco, onnxruntime, yaml and the standard library."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import legged_robots
import legged_robots.deploy as deploy

ALLOWED_TOP = {"numpy", "mujoco", "onnxruntime", "yaml", "__future__"}
FORBIDDEN = (
  "torch",
  "warp",
  "mujoco_warp",
  "mjlab",
  "matplotlib",
  "legged_robots.rl",
  "legged_robots.tasks",
  "legged_robots.evaluation",
  "legged_robots.sim2sim",
)
DEPLOY_DIR = Path(deploy.__file__).parent


def _modules() -> list[str]:
  names = [f"legged_robots.deploy.{m.name}" for m in pkgutil.iter_modules([str(DEPLOY_DIR)])]
  assert {
    "legged_robots.deploy.runtime",
    "legged_robots.deploy.mujoco_sim",
    "legged_robots.deploy.closed_loop",
  } <= set(names)
  return ["legged_robots.deploy", *names]


def _imports(path: Path) -> set[str]:
  found = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
      found.add(node.module)
    elif isinstance(node, ast.ImportFrom):
      found.add("legged_robots.deploy")  # relative import inside the package
  return found


def test_static_imports_stay_inside_the_boundary():
  files = [*DEPLOY_DIR.glob("*.py"), Path(legged_robots.__file__)]
  for path in files:
    for name in _imports(path):
      top = name.split(".")[0]
      ok = top in ALLOWED_TOP or top in sys.stdlib_module_names or name.startswith("legged_robots.deploy")
      assert ok, f"{path.name} imports {name}, outside the deploy boundary"


def _heavy_after_import(modules: list[str]) -> list[str]:
  """Forbidden modules in sys.modules after a fresh interpreter imports ``modules``."""
  code = (
    "import importlib, json, sys\n"
    f"for name in {modules!r}:\n"
    "  importlib.import_module(name)\n"
    f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
    "print(json.dumps(bad))\n"
  )
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_deploy_module_loads_nothing_heavy():
  assert _heavy_after_import(_modules()) == []
  # The same check flags a module outside the boundary.
  assert "legged_robots.rl" in _heavy_after_import(["legged_robots.rl.errors"])
