"""st_rl AMP-PPO configs for the G1 AMP tasks."""

from legged_robots.tasks.agents_common import StRlAmpRunnerCfg, st_rl_amp_runner_cfg


def g1_amp_flat_cfg(recurrent: bool = False) -> StRlAmpRunnerCfg:
  return st_rl_amp_runner_cfg("g1_amp_flat", max_iterations=3000, recurrent=recurrent)


def g1_amp_rough_cfg(recurrent: bool = False) -> StRlAmpRunnerCfg:
  return st_rl_amp_runner_cfg("g1_amp_rough", max_iterations=20000, recurrent=recurrent)


def g1_amp_mimic_cfg(recurrent: bool = False) -> StRlAmpRunnerCfg:
  return st_rl_amp_runner_cfg("g1_amp_mimic_flat", max_iterations=3000, recurrent=recurrent)
