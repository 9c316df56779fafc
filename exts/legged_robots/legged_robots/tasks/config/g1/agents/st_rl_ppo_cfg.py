"""st_rl PPO configs for the G1 velocity tasks."""

from mjlab.rl import RslRlOnPolicyRunnerCfg

from legged_robots.tasks.agents_common import st_rl_ppo_runner_cfg


def g1_flat_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("g1_flat", max_iterations=3000, recurrent=recurrent)


def g1_rough_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("g1_rough", max_iterations=20000, recurrent=recurrent)


def g1_mimic_flat_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("g1_mimic_flat", max_iterations=3000, recurrent=recurrent)


def g1_mimic_rough_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("g1_mimic_rough", max_iterations=20000, recurrent=recurrent)


def g1_tracking_flat_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("g1_tracking_flat", max_iterations=10000, recurrent=recurrent)
