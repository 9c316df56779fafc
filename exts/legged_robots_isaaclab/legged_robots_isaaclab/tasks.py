# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""Register st_gym's G1 velocity tasks as Isaac Lab gym tasks.

Loaded by Isaac Lab's CLI through this package's ``isaaclab.tasks`` entry point
(``isaaclab.cli.load_external_tasks``, run by ``isaaclab train/play`` before the task lookup).

The MJCF importer is imported here, before any USD stage exists: it registers its fallback
PhysX USD schemas at import, and OpenUSD ignores schemas registered after Isaac Lab builds the
stage's schema registry (the G1 conversion then fails with ``Cannot find a valid schema for
... 'PhysxJointAPI'``; docs/isaaclab.md, finding 3).
"""

from __future__ import annotations

import gymnasium as gym
import isaacsim.asset.importer.mjcf  # noqa: F401  (schema registration order, above)

_PKG = "legged_robots_isaaclab"
TASKS = {
  "Isaac-Flat-G1-StGym": ("flat", "g1_flat_ppo_cfg"),
  "Isaac-Rough-G1-StGym": ("rough", "g1_rough_ppo_cfg"),
}
"""Task id -> (terrain, rsl_rl runner cfg factory in ``agents``); ``<id>-Play`` is the play variant."""


def _register() -> None:
  for task_id, (terrain, agent_cfg) in TASKS.items():
    for suffix, play in (("", ""), ("-Play", "_play")):
      gym.register(
        id=task_id + suffix,
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
          "env_cfg_entry_point": f"{_PKG}.env_cfg:{terrain}{play}_env_cfg",
          "rsl_rl_cfg_entry_point": f"{_PKG}.agents:{agent_cfg}",
          "default_agent": "rsl_rl",
        },
      )


_register()
