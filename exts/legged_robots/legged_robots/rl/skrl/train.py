"""``run_skrl_train``: resolve configs, validate every input, then build the env and learn.

As st_rl's ``run_train``: everything a user can get wrong (task, algorithm, agent YAML,
override, resume target, a checkpoint of the other library or algorithm, sizes, AMP on a
task without clips) is checked before the run folder is created, so a bad input never
writes into ``logs/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mjlab.envs import ManagerBasedRlEnvCfg

from legged_robots.deploy.runs import experiment_dirs
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.cfg_yaml import dump_cfg
from legged_robots.rl.checks import check_env_cfg, no_nan
from legged_robots.rl.distributed import Rank, launched_rank, report_rank, run_device
from legged_robots.rl.errors import StRlError
from legged_robots.rl.hydra_main import run_jobs
from legged_robots.rl.messages import quiet_build
from legged_robots.rl.overrides import apply_overrides
from legged_robots.rl.run_dir import TrainLock, claim_run_dir, clean_stale, write_run_info
from legged_robots.rl.skrl.task_cfg import AMP_GROUP, check_amp_env, select_agent_cfg, skrl_agent_names
from legged_robots.rl.task_cfg import checked_overrides, require_task
from legged_robots.rl.train import TrainOptions, cpu_budget
from legged_robots.tasks.agents_skrl import SkrlAgentCfg, dump_skrl_cfg

_TORCHRUN = "torchrun --nproc_per_node N scripts/skrl/train.py --distributed ..."


@dataclass
class SkrlTrainOptions(TrainOptions):
  """train.py's options plus the skrl agent choice (defaults in scripts/skrl/conf/train.yaml)."""

  log_root: str = "logs/skrl"
  algorithm: str = "PPO"
  """PPO or AMP (skrl's agent class)."""
  agent: str | None = None
  """A named skrl agent of the task (``skrl_ppo_lstm``); default ``skrl_<algorithm>``."""
  agent_cfg: str | None = None
  """An skrl agent YAML to use instead of the task's."""


def _start_run(experiment_dir: Path, run_name: str) -> Path:
  """Clean what killed runs left in the experiment, then claim a new run folder."""
  runs = [p for p in experiment_dir.iterdir() if p.is_dir()] if experiment_dir.is_dir() else []
  for path in clean_stale(runs):
    print(f"[skrl] cleaned up after an interrupted run: {path}", flush=True)
  return claim_run_dir(experiment_dir, run_name or None)


def skrl_train_cfgs(opts: SkrlTrainOptions, rank: Rank) -> tuple[ManagerBasedRlEnvCfg, SkrlAgentCfg, int]:
  """(env cfg, skrl agent cfg, iterations): the task's, the flags, then the overrides;
  checked. Builds and writes nothing (train.py calls it for every job before hydra starts)."""
  if opts.logger != "tensorboard":
    raise StRlError(f"--logger {opts.logger}: the skrl runner writes TensorBoard only.")
  overrides = checked_overrides(opts.overrides)
  device = run_device(rank, opts.device, opts.distributed)
  require_task(opts.task)
  from legged_robots.tasks.registry import load_env_cfg

  cfg = select_agent_cfg(opts.task, opts.algorithm, opts.agent, opts.agent_cfg)
  env_cfg = load_env_cfg(opts.task, play=False)
  num_envs, iterations = cpu_budget(opts, device)
  if num_envs is not None:
    env_cfg.scene.num_envs = num_envs
  if opts.seed is not None:
    cfg.seed = opts.seed
  experiment = cfg.agent.experiment
  experiment.directory = opts.experiment_name or experiment.directory
  experiment.experiment_name = opts.run_name or experiment.experiment_name
  apply_overrides({"env": env_cfg, "agent": cfg}, overrides)
  cfg.seed += rank.rank  # each process simulates its own envs
  env_cfg.seed = cfg.seed
  iterations = cfg.max_iterations if iterations is None else iterations
  cfg.trainer.timesteps = iterations * cfg.agent.rollouts
  check_env_cfg(env_cfg)
  no_nan("agent", cfg)
  if cfg.algorithm == "AMP":
    check_amp_env(opts.task, env_cfg)
  if rank.world_size == 1:  # under torchrun skrl is imported once the process group is up
    from legged_robots.rl.skrl.agent import check_agent_cfg

    check_agent_cfg(cfg, env_cfg.scene.num_envs)
  return env_cfg, cfg, iterations


def skrl_train_with_hydra(prog: str, opts: SkrlTrainOptions, hydra_args: list[str]) -> None:
  """skrl's train.py under hydra.main: one ``run_skrl_train`` per job; ``agent=<name>`` (or
  --agent) picks a named skrl agent of the task and --algorithm."""
  rank = _launched_rank(opts)
  require_task(opts.task)  # before the task's agents are listed
  agents = [] if opts.agent_cfg else skrl_agent_names(opts.task, opts.algorithm)

  def cfgs(o: SkrlTrainOptions) -> dict[str, object]:
    env_cfg, cfg, _ = skrl_train_cfgs(o, rank)
    return {"env": env_cfg, "agent": cfg}

  default = opts.agent or f"skrl_{opts.algorithm.lower()}"
  run_jobs(prog, hydra_args, opts, cfgs, run_skrl_train, agents, default)


def _launched_rank(opts: SkrlTrainOptions) -> Rank:
  return launched_rank(opts.distributed, f"./run.sh -r skrl -g N, or {_TORCHRUN}")


def run_skrl_train(opts: SkrlTrainOptions) -> Path:
  """Train with skrl; return the run folder."""
  rank = _launched_rank(opts)
  device = run_device(rank, opts.device, opts.distributed)
  env_cfg, cfg, iterations = skrl_train_cfgs(opts, rank)
  num_envs, budget = cpu_budget(opts, device)
  if (num_envs, budget) != (opts.num_envs, opts.max_iterations):
    print(
      f"[skrl] no CUDA device: using {num_envs} envs and {budget} iterations "
      "(pass --num_envs/--max_iterations to choose).",
      flush=True,
    )
  experiment = cfg.agent.experiment

  from legged_robots.rl.skrl.distributed import import_skrl_for

  import_skrl_for(rank, device)  # before the first skrl import
  from legged_robots.rl.skrl.agent import check_agent_cfg

  check_agent_cfg(cfg, env_cfg.scene.num_envs)
  log_root = Path(opts.log_root).resolve()
  resume_path = resume_data = None
  if opts.resume:
    from legged_robots.rl.skrl.checkpoint import read_skrl_checkpoint

    experiments = experiment_dirs(log_root, opts.experiment_name)
    resume_path = ckpt.resolve_checkpoint(experiments, opts.load_run, opts.checkpoint, opts.task, "skrl")
    resume_data = read_skrl_checkpoint(resume_path)
    if opts.experiment_name is None and resume_path.parent.parent.parent == log_root:
      experiment.directory = resume_path.parent.parent.name  # the lineage stays in its folder
  experiment_dir = log_root / experiment.directory

  # Heavy imports only after the cheap checks passed.
  from skrl.utils import set_seed

  from legged_robots.rl.skrl.checkpoint import check_checkpoint_fits
  from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
  from legged_robots.rl.skrl.runner import SkrlRunner
  from legged_robots.tasks.registry import env_class

  set_seed(cfg.seed)
  with quiet_build(opts.verbose):
    env = env_class(opts.task)(cfg=env_cfg, device=device, render_mode="rgb_array" if opts.video else None)
  try:
    amp_group = AMP_GROUP if cfg.algorithm == "AMP" else None
    wrapped = SkrlVecEnvWrapper(env, amp_group=amp_group, clip_actions=cfg.clip_actions)
    runner = SkrlRunner(wrapped, cfg, opts.task, device)
    if resume_path is not None and resume_data is not None:
      check_checkpoint_fits(resume_path, resume_data, runner.agent, cfg.algorithm, runner.sizes)
    if not rank.is_main:  # ranks > 0 train and write nothing (skrl: no TensorBoard, no hook)
      if resume_data is not None:
        runner.load(resume_data)
      runner.learn(iterations)
      report_rank("skrl", rank, *runner.policy_modules())
      return experiment_dir

    # All inputs are valid: from here on the run folder is written.
    run_dir = _start_run(experiment_dir, experiment.experiment_name)
    lock = TrainLock(run_dir)
    try:
      if opts.video:
        wrapped.record_videos(run_dir / "videos" / "train", opts.video_interval, opts.video_length)
      write_run_info(run_dir, opts.task, resume_path)
      dump_cfg(env_cfg, run_dir / "params" / "env.yaml")
      dump_skrl_cfg(cfg, run_dir / "params" / "agent.yaml")
      print(f"[skrl] logging to {run_dir}", flush=True)
      runner.use_run_dir(run_dir)
      if resume_data is not None:
        print(f"[skrl] resuming from {resume_path}", flush=True)
        runner.load(resume_data)
      runner.learn(iterations)
      if opts.distributed:
        report_rank("skrl", rank, *runner.policy_modules())
    except BaseException:
      if not ckpt.list_checkpoints(run_dir):  # a run that stopped before its first checkpoint
        shutil.rmtree(run_dir, ignore_errors=True)
        print(f"[skrl] removed {run_dir}: the run stopped before its first checkpoint", flush=True)
      raise
    finally:
      lock.release()
  finally:
    env.close()
  return run_dir
