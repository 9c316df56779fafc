"""skrl agents of the Go1 tasks: ``skrl_ppo`` and ``skrl_ppo_lstm`` (see g1/skrl_agents.py)."""

from pathlib import Path

from legged_robots.tasks.agents_skrl import skrl_agents_for

PPO_YAML = Path(__file__).parent / "agents" / "skrl_ppo_cfg.yaml"

skrl_agents_for("Flat-Go1", PPO_YAML)
skrl_agents_for("Rough-Go1", PPO_YAML)
