# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""rsl_rl PPO runner cfgs with st_gym's numbers (``legged_robots.tasks.agents_common``, section 3.8).

Actor and critic are 512-256-128 ELU MLPs with empirical observation normalization (which the
ONNX export folds in); the actor reads the ``policy`` group, the critic the ``critic`` group.
"""

from __future__ import annotations

from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg


def _model(init_std: float | None) -> RslRlMLPModelCfg:
  return RslRlMLPModelCfg(
    hidden_dims=[512, 256, 128],
    activation="elu",
    obs_normalization=True,
    distribution_cfg=None
    if init_std is None
    else RslRlMLPModelCfg.GaussianDistributionCfg(init_std=init_std, std_type="scalar"),
  )


def st_gym_ppo_runner_cfg(experiment_name: str, max_iterations: int) -> RslRlOnPolicyRunnerCfg:
  """PPO with the spec's table: clip 0.2, entropy 0.01, 5 epochs x 4 mini-batches, lr 1e-3 adaptive."""
  return RslRlOnPolicyRunnerCfg(
    num_steps_per_env=24,
    max_iterations=max_iterations,
    save_interval=50,
    experiment_name=experiment_name,
    logger="tensorboard",
    obs_groups={"actor": ["policy"], "critic": ["critic"]},
    actor=_model(init_std=1.0),
    critic=_model(init_std=None),
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
  )


def g1_flat_ppo_cfg() -> RslRlOnPolicyRunnerCfg:
  return st_gym_ppo_runner_cfg("g1_flat_stgym", max_iterations=3000)


def g1_rough_ppo_cfg() -> RslRlOnPolicyRunnerCfg:
  return st_gym_ppo_runner_cfg("g1_rough_stgym", max_iterations=20000)
