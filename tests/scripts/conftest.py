"""The scripts' preloaded launchers (preloaded.py), one per environment, shared by the
session: each imports the stack once instead of once per test file."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from preloaded import Launcher


@pytest.fixture(scope="session")
def launch() -> Iterator[Callable[[dict[str, str]], Launcher]]:
  """``launch(env)``: the launcher whose interpreter runs with ``env``, started on first use
  and shared by every test module that asks for the same environment."""
  launchers: dict[tuple[tuple[str, str], ...], Launcher] = {}

  def get(env: dict[str, str]) -> Launcher:
    key = tuple(sorted(env.items()))
    if key not in launchers or not launchers[key].alive:
      launchers[key] = Launcher(["legged_robots.tasks"], env=env)
    return launchers[key]

  yield get
  for launcher in launchers.values():
    launcher.close()
