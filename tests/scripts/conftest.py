"""The scripts' preloaded launcher (preloaded.py), shared by the session: the stack is
imported once instead of once per test file. One launcher lives at a time (each holds ~0.6 GB):
a module that asks for another environment gets a new one and the old one is closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from preloaded import Launcher


@pytest.fixture(scope="session")
def launch() -> Iterator[Callable[[dict[str, str]], Launcher]]:
  """``launch(env)``: a launcher whose interpreter runs with ``env``, shared by consecutive
  test modules that ask for the same environment."""
  current: dict[tuple[tuple[str, str], ...], Launcher] = {}

  def get(env: dict[str, str]) -> Launcher:
    key = tuple(sorted(env.items()))
    if key not in current or not current[key].alive:
      for launcher in current.values():
        launcher.close()
      current.clear()
      current[key] = Launcher(["legged_robots.tasks"], env=env)
    return current[key]

  yield get
  for launcher in current.values():
    launcher.close()
