"""st_rl PPO configs for the Go1 velocity tasks."""

from mjlab.rl import RslRlOnPolicyRunnerCfg

from legged_robots.tasks.agents_common import st_rl_ppo_runner_cfg


def go1_flat_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("go1_flat", max_iterations=1500, recurrent=recurrent)


def go1_rough_ppo_cfg(recurrent: bool = False) -> RslRlOnPolicyRunnerCfg:
  return st_rl_ppo_runner_cfg("go1_rough", max_iterations=10000, recurrent=recurrent)
