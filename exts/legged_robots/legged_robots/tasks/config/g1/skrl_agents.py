"""skrl agents of the G1 tasks: ``skrl_ppo`` (and ``skrl_ppo_lstm``) on every task (velocity,
AMP, mimic, tracking), ``skrl_amp`` on the AMP tasks (AmpMimic included). Each uses the
experiment folder name and run length of the task's st_rl agent, so ``logs/skrl/g1_flat``
sits beside ``logs/st_rl/g1_flat``. The st_rl agents of all these tasks share one PPO table
(``st_rl_ppo_runner_cfg``), so one PPO YAML serves them all."""

from pathlib import Path

from legged_robots.tasks.agents_skrl import skrl_agents_for

AGENTS = Path(__file__).parent / "agents"
PPO_YAML = AGENTS / "skrl_ppo_cfg.yaml"
AMP_YAML = AGENTS / "skrl_amp_cfg.yaml"

for _suffix in ("", "-23DoF"):
  skrl_agents_for(f"Flat-G1{_suffix}", PPO_YAML)
  skrl_agents_for(f"Rough-G1{_suffix}", PPO_YAML)
  skrl_agents_for(f"Amp-Flat-G1{_suffix}", PPO_YAML, AMP_YAML)
  skrl_agents_for(f"Amp-Rough-G1{_suffix}", PPO_YAML, AMP_YAML)
  skrl_agents_for(f"Mimic-Flat-G1{_suffix}", PPO_YAML)
  skrl_agents_for(f"Mimic-Rough-G1{_suffix}", PPO_YAML)
skrl_agents_for("AmpMimic-Flat-G1", PPO_YAML, AMP_YAML)
skrl_agents_for("Tracking-Flat-G1", PPO_YAML)
