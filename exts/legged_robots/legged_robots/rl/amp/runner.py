"""``AmpPolicyRunner``: the st_rl runner (atomic checkpoints, export, progress) for AMP-PPO.

The algorithm (``AmpPPO``) is named by the cfg's ``algorithm.class_name``; this runner
checks before anything is built that the env serves what AMP needs (an ``amp``
observation group and reference clips) and says how to fix it when it does not.
"""

from __future__ import annotations

from mjlab.rl import RslRlVecEnvWrapper

from legged_robots.rl.errors import StRlError
from legged_robots.rl.runner import StRlOnPolicyRunner
from legged_robots.tasks.agents_common import AMP_ALGORITHM


class AmpPolicyRunner(StRlOnPolicyRunner):
  """PPO runner whose algorithm is AMP-PPO (discriminator state is checkpointed with it)."""

  def __init__(
    self,
    env: RslRlVecEnvWrapper,
    train_cfg: dict,
    task_id: str,
    log_dir: str | None = None,
    device: str = "cpu",
  ) -> None:
    group = train_cfg["amp"]["obs_group"]
    if group not in env.unwrapped.observation_manager.active_terms:
      raise StRlError(
        f"task {task_id} has no '{group}' observation group; AMP-PPO needs one (an Amp-* task)."
      )
    if getattr(env.unwrapped, "motion_library", None) is None:
      raise StRlError(f"task {task_id} has no reference motions (env.motion); AMP-PPO needs them.")
    if train_cfg["algorithm"]["class_name"] != AMP_ALGORITHM:
      raise StRlError(f"agent.algorithm.class_name must be {AMP_ALGORITHM} for AMP-PPO.")
    super().__init__(env, train_cfg, task_id, log_dir, device)
