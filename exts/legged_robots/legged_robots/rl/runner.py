"""The st_rl PPO runner: rsl_rl's OnPolicyRunner (through mjlab's subclass), not a fork.

What it changes, each delegated to its own module:
- console/TensorBoard logging -> ``ProgressLogger`` (one line per iteration with ETA);
- ``save`` -> atomic checkpoint write, then ONNX + deploy.yaml export (``exporter``);
- ``load`` -> validated read (``checkpoint.read_checkpoint``) and a resumed run starts at
  the iteration after the saved one, so ``model_<i>.pt`` numbers never repeat.
"""

from __future__ import annotations

from pathlib import Path

import torch
from mjlab.rl import MjlabOnPolicyRunner, RslRlVecEnvWrapper

from legged_robots.rl.checkpoint import atomic_torch_save, read_checkpoint
from legged_robots.rl.distributed import init_process_group, normalizers, rank_from_env, sync_normalizers
from legged_robots.rl.errors import StRlError
from legged_robots.rl.exporter import export_policy
from legged_robots.rl.progress import ProgressLogger

EXPORT_DIR = "exported"


class StRlOnPolicyRunner(MjlabOnPolicyRunner):
  """PPO runner whose checkpoints are atomic and always come with an exported policy."""

  env: RslRlVecEnvWrapper

  def __init__(
    self,
    env: RslRlVecEnvWrapper,
    train_cfg: dict,
    task_id: str,
    log_dir: str | None = None,
    device: str = "cpu",
  ) -> None:
    super().__init__(env, train_cfg, log_dir, device)
    self.task_id = task_id
    if self.is_distributed:
      self._sync_normalizers_before_updates()
    self.logger = ProgressLogger(
      log_dir=log_dir,
      cfg=self.cfg,
      env_cfg=self.env.cfg,
      num_envs=self.env.num_envs,
      is_distributed=self.is_distributed,
      gpu_world_size=self.gpu_world_size,
      gpu_global_rank=self.gpu_global_rank,
      device=self.device,
    )

  def _configure_multi_gpu(self) -> None:
    """rsl_rl's multi-GPU setup from torchrun's variables, plus gloo for CPU processes."""
    rank = rank_from_env()
    self.gpu_world_size, self.gpu_global_rank, self.gpu_local_rank = (
      rank.world_size,
      rank.rank,
      rank.local_rank,
    )
    self.is_distributed = rank.world_size > 1
    if not self.is_distributed:
      self.cfg["multi_gpu"] = None
      return
    self.cfg["multi_gpu"] = {
      "global_rank": rank.rank,
      "local_rank": rank.local_rank,
      "world_size": rank.world_size,
    }
    if self.device.startswith("cuda") and self.device != f"cuda:{rank.local_rank}":
      raise StRlError(
        f"rank {rank.rank} runs on {self.device}; under torchrun it must be cuda:{rank.local_rank}"
      )
    init_process_group(rank, self.device)

  def _sync_normalizers_before_updates(self) -> None:
    """Every update starts and ends with the same normalizers on all ranks (rl/distributed.py)."""
    modules = normalizers(*self.policy_modules())
    update = self.alg.update

    def synced_update() -> dict[str, float]:
      sync_normalizers(modules, self.gpu_world_size)  # rollout statistics
      losses = update()
      sync_normalizers(modules, self.gpu_world_size)  # AMP's, updated by its discriminator steps
      return losses

    self.alg.update = synced_update

  def policy_modules(self) -> list[torch.nn.Module]:
    """Actor, critic and any module an algorithm adds (the AMP discriminator and normalizer)."""
    extra = [
      getattr(self.alg, name) for name in ("discriminator", "amp_normalizer") if hasattr(self.alg, name)
    ]
    return [self.alg.get_policy(), self.alg._raw_critic, *extra]

  def save(self, path: str, infos: dict | None = None) -> None:
    """Write the checkpoint atomically, then export the policy beside it."""
    state = self.alg.save()
    state["iter"] = self.current_learning_iteration
    env_state = {"common_step_counter": self.env.unwrapped.common_step_counter}
    state["infos"] = {**(infos or {}), "env_state": env_state}
    atomic_torch_save(state, Path(path))
    if self.cfg.get("upload_model", False):
      self.logger.save_model(path, self.current_learning_iteration)
    self.export(Path(path).parent / EXPORT_DIR)

  def export(self, out_dir: Path, iteration: int | None = None) -> None:
    """Write policy.onnx + deploy.yaml; iteration (default: current) goes in metadata."""
    it = self.current_learning_iteration if iteration is None else iteration
    clip = getattr(self.env, "clip_actions", None)  # RslRlVecEnvWrapper's agent.clip_actions
    export_policy(self.alg.get_policy(), self.env.unwrapped, self.task_id, out_dir, it, clip)

  def load(
    self,
    path: str,
    load_cfg: dict | None = None,
    strict: bool = True,
    map_location: str | None = None,
  ) -> dict:
    """Load a checkpoint written by ``save``; raise CheckpointError if it is unusable.

    load_cfg selects what to restore (rsl_rl keys: actor, critic, optimizer,
    iteration); None restores everything, which is what resuming needs.
    """
    data = read_checkpoint(Path(path))
    loaded_iteration = self.alg.load(data, load_cfg, strict)
    if loaded_iteration:
      # ``iter`` is the last finished iteration; learning continues after it.
      self.current_learning_iteration = int(data["iter"]) + 1
    infos = data.get("infos") or {}
    if load_cfg is None and "env_state" in infos:
      self.env.unwrapped.common_step_counter = infos["env_state"]["common_step_counter"]
    return infos


def runner_class(agent_cfg: object) -> type[StRlOnPolicyRunner]:
  """The st_rl runner for an agent cfg: AMP-PPO for ``StRlAmpRunnerCfg``, else PPO."""
  from legged_robots.tasks.agents_common import StRlAmpRunnerCfg

  if isinstance(agent_cfg, StRlAmpRunnerCfg):
    from legged_robots.rl.amp.runner import AmpPolicyRunner

    return AmpPolicyRunner
  return StRlOnPolicyRunner
