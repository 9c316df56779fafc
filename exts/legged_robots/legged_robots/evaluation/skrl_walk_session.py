"""A time-to-walk session that trains with skrl (``benchmarks/time_to_walk.py --runner skrl``).

Everything but the learner is ``walk_session.Session``'s: the clock, the chunks between
evaluations, the eval env and its one-episode-per-env evaluation, ``state.json``, the
torchrun ranks. The learner is skrl's trainer and agent from the task's ``skrl_ppo`` (or,
with ``--algorithm AMP``, ``skrl_amp``) YAML (``rl/skrl``), writing ``model_<iter>.pt``
only where a chunk ends (and, as st_rl's runner does, at iteration 0), each with its
``exported/`` policy. skrl must be imported after the process group is up under torchrun
(``rl.skrl.distributed.import_skrl_for``).
"""

from __future__ import annotations

from legged_robots.evaluation.walk_session import NEVER, Session
from legged_robots.rl.overrides import apply_overrides
from legged_robots.rl.skrl.agent import check_agent_cfg
from legged_robots.rl.skrl.checkpoint import check_checkpoint_fits, read_skrl_checkpoint
from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
from legged_robots.rl.skrl.export import SkrlInferencePolicy
from legged_robots.rl.skrl.runner import SkrlRunner
from legged_robots.rl.skrl.task_cfg import AMP_GROUP, check_amp_env, select_agent_cfg
from legged_robots.rl.task_cfg import checked_overrides
from legged_robots.tasks.registry import env_class, load_env_cfg


class SkrlSession(Session):
  """``Session`` with skrl's PPO or AMP agent as the learner."""

  def _build_training(self) -> None:
    s = self.settings
    cfg = select_agent_cfg(s.task, s.algorithm, None, None)
    env_cfg = load_env_cfg(s.task, play=False)
    if cfg.algorithm == "AMP":
      check_amp_env(s.task, env_cfg)
    env_cfg.scene.num_envs = s.num_envs
    if s.seed is not None:
      cfg.seed = s.seed
    apply_overrides({"env": env_cfg, "agent": cfg}, checked_overrides(list(s.overrides)))
    cfg.agent.experiment.checkpoint_interval = NEVER * cfg.agent.rollouts  # chunk ends only
    check_agent_cfg(cfg, s.num_envs)
    self.seed, self.env_cfg, self.clip_actions = cfg.seed, env_cfg, cfg.clip_actions
    cfg.seed += self.rank.rank  # each process simulates its own envs
    env_cfg.seed = cfg.seed
    from skrl.utils import set_seed

    set_seed(cfg.seed)
    env = env_class(s.task)(cfg=env_cfg, device=self.device)
    self.envs.append(env)
    amp_group = AMP_GROUP if cfg.algorithm == "AMP" else None
    wrapped = SkrlVecEnvWrapper(env, amp_group=amp_group, clip_actions=cfg.clip_actions)
    self.runner = runner = SkrlRunner(wrapped, cfg, s.task, self.device)
    runner.print_progress = False
    train_dir = self.run_dir / self.train_subdir
    if self.rank.is_main:  # ranks > 0 write nothing (skrl turns their hook and writer off)
      runner.use_run_dir(train_dir)
      runner.on_iteration = self._on_iteration
    if not self.state.checkpoints:
      if self.rank.is_main:
        from legged_robots.rl.cfg_yaml import dump_cfg
        from legged_robots.tasks.agents_skrl import dump_skrl_cfg

        dump_cfg(env_cfg, train_dir / "params" / "env.yaml")  # so that skrl's play.py loads the run
        dump_skrl_cfg(cfg, train_dir / "params" / "agent.yaml")
      return
    path = self.run_dir / self.state.checkpoints[-1].file
    data = read_skrl_checkpoint(path)
    check_checkpoint_fits(path, data, runner.agent, cfg.algorithm, runner.sizes)
    print(f"[ttw] resuming from {path}", flush=True)
    runner.load(data)

  def _learn(self, iterations: int) -> None:
    runner = self.runner
    assert isinstance(runner, SkrlRunner)
    runner.learn(iterations, randomize_episode_lengths=self.first_chunk)
    runner.start_iteration += iterations  # the next chunk continues the count

  def _policy(self) -> SkrlInferencePolicy:
    return SkrlInferencePolicy(self.runner.agent, self.eval_wrapped.num_envs)
