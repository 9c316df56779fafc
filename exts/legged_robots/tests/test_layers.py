"""The package layers of legged_robots, read from the source with ast (nothing is imported).

An arrow means "may import": {evaluation, sim2sim} -> rl -> tasks. deploy imports none of
them, and evaluation and sim2sim never import each other. Imports inside functions and
under TYPE_CHECKING count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import legged_robots

ROOT = Path(legged_robots.__file__).parent
FORBIDDEN = {
  "deploy": {"tasks", "rl", "evaluation", "sim2sim"},
  "tasks": {"rl", "evaluation", "sim2sim"},
  "rl": {"evaluation", "sim2sim"},
  "evaluation": {"sim2sim"},
  "sim2sim": {"evaluation"},
}
"""Subpackages of legged_robots that modules of each package must not import."""


def _module_name(path: Path) -> str:
  parts = path.relative_to(ROOT.parent).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
  """(line, absolute dotted name) of everything ``module`` imports; relative imports resolved."""
  package = module.split(".") if is_package else module.split(".")[:-1]
  for node in ast.walk(ast.parse(source)):
    if isinstance(node, ast.Import):
      for alias in node.names:
        yield node.lineno, alias.name
    elif isinstance(node, ast.ImportFrom):
      base = package[: len(package) - node.level + 1] if node.level else []
      name = ".".join([*base, *([node.module] if node.module else [])])
      # `from legged_robots import rl` imports the subpackage itself.
      for alias in node.names:
        yield node.lineno, f"{name}.{alias.name}"


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
  """The imports of ``module`` (legged_robots.<package>...) that go up or sideways."""
  own = module.split(".")[1]
  bad = []
  for line, name in _imported(source, module, is_package):
    parts = name.split(".")
    if parts[0] == "legged_robots" and len(parts) > 1 and parts[1] in FORBIDDEN[own]:
      bad.append(f"{module}:{line} imports {name}")
  return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downward(package):
  files = sorted((ROOT / package).rglob("*.py"))
  assert files, f"no modules under {ROOT / package}"
  bad = []
  for path in files:
    bad += violations(path.read_text(), _module_name(path), path.name == "__init__.py")
  assert not bad, (
    "imports against the layers (evaluation|sim2sim -> rl -> tasks; deploy alone):\n" + "\n".join(bad)
  )


def test_checker_flags_upward_sideways_and_relative_imports():
  source = (
    "import legged_robots.rl.errors\n"
    "from legged_robots.tasks import mdp\n"
    "from legged_robots import evaluation\n"
    "from ..sim2sim.parity import check_parity\n"
    "from . import metrics\n"
    "def late():\n"
    "  from legged_robots.sim2sim import check\n"
  )
  assert violations(source, "legged_robots.evaluation.play") == [
    "legged_robots.evaluation.play:4 imports legged_robots.sim2sim.parity.check_parity",
    "legged_robots.evaluation.play:7 imports legged_robots.sim2sim.check",
  ]
  # From legged_robots.tasks.mdp.rewards, `..sim2sim` is legged_robots.tasks.sim2sim: allowed.
  tasks_bad = violations(source, "legged_robots.tasks.mdp.rewards")
  assert [b.split(" ")[0] for b in tasks_bad] == [f"legged_robots.tasks.mdp.rewards:{n}" for n in (1, 3, 7)]
  assert violations(source, "legged_robots.deploy", is_package=True) == [
    "legged_robots.deploy:1 imports legged_robots.rl.errors",
    "legged_robots.deploy:2 imports legged_robots.tasks.mdp",
    "legged_robots.deploy:3 imports legged_robots.evaluation",
    "legged_robots.deploy:4 imports legged_robots.sim2sim.parity.check_parity",
    "legged_robots.deploy:7 imports legged_robots.sim2sim.check",
  ]
