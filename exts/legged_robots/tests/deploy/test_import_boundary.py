"""legged_robots.deploy imports only numpy, mujoco, onnxruntime, yaml and the standard library;
legged_robots.deploy.ros2 adds rclpy and ROS message packages, nothing else."""

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
ROS2_TOP = {
  "rclpy",
  "rcl_interfaces",
  "std_msgs",
  "std_srvs",
  "sensor_msgs",
  "geometry_msgs",
  "nav_msgs",
  "diagnostic_msgs",
}
"""What deploy/ros2 may import besides ALLOWED_TOP (the legged_robots[ros2] extra)."""
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
ROS2_DIR = DEPLOY_DIR / "ros2"


def _modules() -> list[str]:
  names = [m.name for m in pkgutil.walk_packages([str(DEPLOY_DIR)], prefix="legged_robots.deploy.")]
  assert {
    "legged_robots.deploy.runtime",
    "legged_robots.deploy.mujoco_sim",
    "legged_robots.deploy.closed_loop",
    "legged_robots.deploy.ros2",
    "legged_robots.deploy.ros2.node",
    "legged_robots.deploy.ros2.loopback",
    "legged_robots.deploy.ros2.supervisor",
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
  for path in [*files, *ROS2_DIR.glob("*.py")]:
    allowed = ALLOWED_TOP | ROS2_TOP if path.parent == ROS2_DIR else ALLOWED_TOP
    for name in _imports(path):
      top = name.split(".")[0]
      ok = top in allowed or top in sys.stdlib_module_names or name.startswith("legged_robots.deploy")
      assert ok, f"{path.name} imports {name}, outside the deploy boundary"
  # Only deploy/ros2 may import ROS: the rest of deploy runs where ROS is not installed.
  for path in files:
    assert not {n.split(".")[0] for n in _imports(path)} & ROS2_TOP, f"{path.name} imports ROS"


def _heavy_after_import(modules: list[str], forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
  """Forbidden modules in sys.modules after a fresh interpreter imports ``modules``."""
  code = (
    "import importlib, json, sys\n"
    f"for name in {modules!r}:\n"
    "  importlib.import_module(name)\n"
    f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {forbidden!r}))\n"
    "print(json.dumps(bad))\n"
  )
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_every_deploy_module_loads_nothing_heavy():
  assert _heavy_after_import(_modules()) == []
  # The same check flags a module outside the boundary.
  assert "legged_robots.rl" in _heavy_after_import(["legged_robots.rl.errors"])


def test_ros2_logic_imports_without_ros():
  """The supervisor and the node's logic are testable (and reusable) where ROS is absent."""
  pure = [f"legged_robots.deploy.ros2.{m}" for m in ("supervisor", "inputs", "controller", "timing")]
  assert _heavy_after_import(["legged_robots.deploy.ros2", *pure], ("rclpy",)) == []
