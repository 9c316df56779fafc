"""skrl runners: st_gym's envs, agent YAMLs, checkpoints and export for skrl 2.1 (torch).

- ``env``: the wrapper from an mjlab env to skrl's vectorized-env interface (policy and
  critic observation groups, AMP windows);
- ``models``: Gaussian policy and value/discriminator MLPs (LSTM option) from the agent YAML;
- ``agent``: skrl PPO / PPO_RNN / AMP with their memories, from the YAML's sections;
- ``runner``: trainer, per-iteration logging, atomic checkpoints, resume, export;
- ``export``: the skrl policy as the same ``exported/`` contract as st_rl's;
- ``train`` / ``task_cfg``: what ``scripts/skrl/train.py`` and ``play.py`` call.

Same layer as ``legged_robots.rl``: may import tasks and deploy, never evaluation or sim2sim.
"""
