"""PPO runner configs in st_gym's defaults (st_gym overview, section 3.8, PPO table)."""

from __future__ import annotations

from mjlab.rl import RslRlModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg


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
