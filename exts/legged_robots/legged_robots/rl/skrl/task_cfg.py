"""Which skrl agent config a command line gets, and what a trained skrl run holds.

Agent choice: ``--agent_cfg FILE`` (any skrl agent YAML), else ``--agent NAME``, else the
task's ``skrl_<algorithm>`` (``skrl_ppo``, ``skrl_amp``). ``--algorithm`` must agree with
the agent's ``agent.class``. A run's ``params/agent.yaml`` is skrl's YAML layout (st_rl runs
write a tagged dataclass there), which is how sim2sim tells the two apart.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from mjlab.envs import ManagerBasedRlEnvCfg

from legged_robots.rl.errors import StRlError
from legged_robots.tasks.agents_skrl import SkrlAgentCfg, SkrlCfgError, load_skrl_cfg

ALGORITHMS = ("PPO", "AMP")
AMP_GROUP = "amp"


def check_algorithm(algorithm: str) -> str:
  name = algorithm.upper()
  if name not in ALGORITHMS:
    raise StRlError(f"--algorithm {algorithm}: skrl runners here are {', '.join(ALGORITHMS)}.")
  return name


def amp_task_ids() -> list[str]:
  from legged_robots.tasks.registry import skrl_agents, task_ids

  return [t for t in task_ids() if "skrl_amp" in skrl_agents(t) and not t.endswith("-Play")]


def skrl_agent_names(task: str, algorithm: str) -> list[str]:
  """The task's named skrl agents of ``algorithm``: the options of hydra's ``agent=``."""
  from legged_robots.tasks.registry import skrl_agents

  name = check_algorithm(algorithm)
  return sorted(n for n, factory in skrl_agents(task).items() if factory().algorithm == name)


def select_agent_cfg(task: str, algorithm: str, agent: str | None, agent_cfg: str | None) -> SkrlAgentCfg:
  """The skrl agent config for task (see the module docstring); StRlError on a bad choice."""
  from legged_robots.tasks.registry import skrl_agents

  algorithm = check_algorithm(algorithm)
  if agent_cfg is not None:
    try:
      cfg = load_skrl_cfg(Path(agent_cfg))
    except SkrlCfgError as e:
      raise StRlError(str(e)) from None
  else:
    agents = skrl_agents(task)
    name = agent or f"skrl_{algorithm.lower()}"
    if name not in agents:
      if name == "skrl_amp":
        raise StRlError(
          f"--algorithm AMP: task {task} has no reference motions (no skrl_amp agent); skrl AMP "
          f"runs on the AMP tasks: {', '.join(amp_task_ids())}."
        )
      have = ", ".join(sorted(agents)) or "none"
      raise StRlError(f"task {task} has no skrl agent '{name}'; its skrl agents: {have}.")
    cfg = agents[name]()
  if cfg.algorithm != algorithm:
    raise StRlError(
      f"--algorithm {algorithm}, but the agent config is skrl {cfg.algorithm}: pass "
      f"--algorithm {cfg.algorithm} or an agent of the other algorithm."
    )
  return cfg


def check_amp_env(task: str, env_cfg: ManagerBasedRlEnvCfg) -> None:
  """AMP needs the env's ``amp`` observation group and reference clips (``env.motion``)."""
  if AMP_GROUP not in env_cfg.observations or getattr(env_cfg, "motion", None) is None:
    raise StRlError(
      f"--algorithm AMP: task {task} has no reference motions (env.motion) or no '{AMP_GROUP}' "
      f"observation group; skrl AMP runs on the AMP tasks: {', '.join(amp_task_ids())}."
    )


def read_skrl_run_cfg(run_dir: Path) -> SkrlAgentCfg | None:
  """The skrl agent config a run was trained with; None for an st_rl run or no params/."""
  path = run_dir / "params" / "agent.yaml"
  if not path.is_file():
    return None
  node = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)  # tags are not resolved here
  if node is None or node.tag.startswith("!cfg:"):
    return None  # st_rl writes its agent cfg as a tagged dataclass
  try:
    return load_skrl_cfg(path)
  except SkrlCfgError as e:
    raise StRlError(f"{e} (the run's params/agent.yaml)") from None
