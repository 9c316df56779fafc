"""PPO runner configs in st_gym's defaults (st_gym overview, section 3.8, PPO table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mjlab.rl import RslRlModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg

AMP_ALGORITHM = "legged_robots.rl.amp.algorithm:AmpPPO"


def _model(recurrent: bool, init_std: float | None) -> RslRlModelCfg:
  distribution = (
    None
    if init_std is None
    else {"class_name": "GaussianDistribution", "init_std": init_std, "std_type": "scalar"}
  )
  return RslRlModelCfg(
    hidden_dims=(512, 256, 128),
    activation="elu",
    obs_normalization=True,  # Empirical normalization of every observation.
    distribution_cfg=distribution,
    class_name="RNNModel" if recurrent else "MLPModel",
    rnn_type="lstm" if recurrent else None,
    rnn_hidden_dim=256,
    rnn_num_layers=1,
  )


def st_rl_ppo_runner_cfg(
  experiment_name: str,
  *,
  max_iterations: int,
  recurrent: bool = False,
  init_noise_std: float = 1.0,
  save_interval: int = 50,
) -> RslRlOnPolicyRunnerCfg:
  """PPO with the spec's table: clip 0.2, entropy 0.01, 5 epochs x 4 mini-batches, ..."""
  return RslRlOnPolicyRunnerCfg(
    actor=_model(recurrent, init_noise_std),
    critic=_model(recurrent, None),
    algorithm=RslRlPpoAlgorithmCfg(
      clip_param=0.2,
      entropy_coef=0.01,
      value_loss_coef=1.0,
      use_clipped_value_loss=True,
      num_learning_epochs=5,
      num_mini_batches=4,
      learning_rate=1.0e-3,
      schedule="adaptive",
      gamma=0.99,
      lam=0.95,
      desired_kl=0.01,
      max_grad_norm=1.0,
    ),
    experiment_name=experiment_name,
    logger="tensorboard",
    save_interval=save_interval,
    num_steps_per_env=24,
    max_iterations=max_iterations,
  )


@dataclass(kw_only=True)
class AmpCfg:
  """The AMP part of an AMP-PPO runner cfg (docs/amp.md explains every setting)."""

  obs_group: str = "amp"
  """Observation group holding the AMP windows (env cfg: ``observations["amp"]``)."""
  discriminator_hidden_dims: tuple[int, ...] = (1024, 512)
  discriminator_activation: Literal["relu", "elu", "tanh"] = "relu"
  loss_type: Literal["lsgan", "bce"] = "lsgan"
  """Least-squares (targets +1 expert, -1 policy) or binary cross-entropy."""
  gradient_penalty_coef: float = 10.0
  """Weight of mean ||dD/dx||^2 on expert windows."""
  learning_rate: float = 1e-4
  """Adam step size of the discriminator."""
  trunk_weight_decay: float = 1e-4
  head_weight_decay: float = 1e-2
  replay_buffer_size: int = 1_000_000
  """Policy AMP windows kept for the discriminator's policy mini-batches."""
  discriminator_batch_size: int = 0
  """Windows per class in one discriminator step; 0: the PPO mini-batch size."""
  discriminator_matmul: Literal["ieee", "tf32"] = "tf32"
  """CUDA precision of the discriminator's float32 matrix multiplies: TF32 tensor cores
  (10-bit mantissa) or IEEE FP32. Only the discriminator; no effect on the CPU."""
  style_reward_coef: float = 2.0
  """Weight of the style reward, like a task term's weight (it is scaled by dt too)."""
  task_reward_lerp: float = 0.5
  """r = lerp * r_task + (1 - lerp) * r_style (st_gym's ``task_reward_lerp``)."""


@dataclass(kw_only=True)
class StRlAmpRunnerCfg(RslRlOnPolicyRunnerCfg):
  """st_rl AMP-PPO: the PPO runner cfg plus its ``amp`` section."""

  amp: AmpCfg = field(default_factory=AmpCfg)


def st_rl_amp_runner_cfg(
  experiment_name: str, *, max_iterations: int, recurrent: bool = False, save_interval: int = 50
) -> StRlAmpRunnerCfg:
  """The spec's PPO settings with the algorithm swapped for AMP-PPO."""
  ppo = st_rl_ppo_runner_cfg(
    experiment_name, max_iterations=max_iterations, recurrent=recurrent, save_interval=save_interval
  )
  ppo.algorithm.class_name = AMP_ALGORITHM
  fields = {name: getattr(ppo, name) for name in ppo.__dataclass_fields__ if name != "class_name"}
  return StRlAmpRunnerCfg(**fields, amp=AmpCfg())
