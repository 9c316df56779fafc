"""``run_train``: resolve configs, validate every input, then build the env and learn.

Everything a user can get wrong (task id, override key or type, counts and rates
(``rl/checks.py``), resume target and its task, checkpoint file, checkpoint sizes) is
checked before the run folder is created, so a bad input never writes into ``logs/``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from legged_robots.deploy.runs import experiment_dirs
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.checks import at_least, check_agent_cfg, check_env_cfg
from legged_robots.rl.distributed import Rank, rank_from_env, report_rank, run_device
from legged_robots.rl.errors import StRlError
from legged_robots.rl.hydra_main import run_jobs
from legged_robots.rl.messages import next_steps, quiet_build, smoke_test_note
from legged_robots.rl.run_dir import TrainLock, claim_run_dir, clean_stale, write_run_params
from legged_robots.rl.task_cfg import (
  TaskCfgs,
  apply_cfg_overrides,
  checked_overrides,
  load_task_cfgs,
  policy_io_sizes,
  set_if_given,
  task_agents,
)
from legged_robots.tasks.agents_common import StRlAmpRunnerCfg


@dataclass
class TrainOptions:
  """Command-line options of train.py (defaults come from conf/train.yaml)."""

  task: str
  num_envs: int | None = None
  seed: int | None = None
  max_iterations: int | None = None
  """Iterations to run in this invocation (a resumed run continues its count)."""
  device: str | None = None
  experiment_name: str | None = None
  run_name: str | None = None
  resume: bool = False
  load_run: str = "-1"
  checkpoint: str = "-1"
  logger: Literal["tensorboard", "wandb"] = "tensorboard"
  video: bool = False
  video_length: int = 200
  video_interval: int = 2000
  log_root: str = "logs/st_rl"
  cpu_num_envs: int = 8
  """Env count used on CPU when --num_envs is not given."""
  cpu_max_iterations: int = 10
  """Iteration budget used on CPU when --max_iterations is not given."""
  verbose: bool = False
  """Print mjlab's manager tables and Warp's module loads (off: one line per iteration)."""
  distributed: bool = False
  """One process per GPU under torchrun (``./run.sh -g N``); --num_envs is per process."""
  agent: str | None = None
  """A named agent of the task (hydra's ``agent=st_rl_ppo_lstm``); None: the task's default."""
  overrides: list[str] = field(default_factory=list)
  """``env.*``/``agent.*`` overrides in hydra's grammar (``legged_robots.rl.overrides``)."""


def cpu_budget(opts: TrainOptions, device: str) -> tuple[int | None, int | None]:
  """(num_envs, max_iterations): the flags, or on CPU the small budget of conf/train.yaml."""
  num_envs, max_iterations = opts.num_envs, opts.max_iterations
  if device == "cpu" and (num_envs is None or max_iterations is None):
    num_envs = num_envs if num_envs is not None else opts.cpu_num_envs
    max_iterations = max_iterations if max_iterations is not None else opts.cpu_max_iterations
  return num_envs, max_iterations


def _apply_flags(opts: TrainOptions, cfgs: TaskCfgs, device: str) -> None:
  env, agent = cfgs.env, cfgs.agent
  num_envs, max_iterations = cpu_budget(opts, device)
  set_if_given(env.scene, "num_envs", num_envs)
  set_if_given(agent, "max_iterations", max_iterations)
  set_if_given(agent, "seed", opts.seed)
  set_if_given(agent, "experiment_name", opts.experiment_name)
  set_if_given(agent, "run_name", opts.run_name)
  agent.logger = opts.logger
  agent.resume = opts.resume
  env.seed = agent.seed


def _start_run(experiment_dir: Path, run_name: str | None) -> Path:
  """Clean what killed runs left in the experiment, then claim a new run folder."""
  runs = [p for p in experiment_dir.iterdir() if p.is_dir()] if experiment_dir.is_dir() else []
  for path in clean_stale(runs):
    print(f"[st_rl] cleaned up after an interrupted run: {path}", flush=True)
  return claim_run_dir(experiment_dir, run_name)


def _drop_if_empty(run_dir: Path) -> None:
  """A run that failed before its first checkpoint leaves no folder behind."""
  if not ckpt.list_checkpoints(run_dir):
    shutil.rmtree(run_dir, ignore_errors=True)
    print(f"[st_rl] removed {run_dir}: the run stopped before its first checkpoint", flush=True)


def _check_options(opts: TrainOptions) -> None:
  at_least("--num_envs", opts.num_envs)
  at_least("--max_iterations", opts.max_iterations)
  at_least("cpu_num_envs (conf/train.yaml)", opts.cpu_num_envs)
  at_least("cpu_max_iterations (conf/train.yaml)", opts.cpu_max_iterations)
  if opts.video:
    at_least("--video_length", opts.video_length)
    at_least("--video_interval", opts.video_interval)


def _rank(opts: TrainOptions) -> Rank:
  if not opts.distributed:
    return Rank()
  if "RANK" not in os.environ:
    raise StRlError(
      "--distributed runs one process per GPU under torchrun: ./run.sh -g N, or "
      "torchrun --nproc_per_node N scripts/st_rl/train.py --distributed ..."
    )
  return rank_from_env()


def train_cfgs(opts: TrainOptions, rank: Rank) -> TaskCfgs:
  """The run's configs, checked: the task's env and agent, the flags, then the overrides.
  Builds nothing and writes nothing (train.py calls it for every job before hydra starts)."""
  _check_options(opts)
  overrides = checked_overrides(opts.overrides)
  cfgs = load_task_cfgs(opts.task, play=False, agent_name=opts.agent)
  _apply_flags(opts, cfgs, run_device(rank, opts.device, opts.distributed))
  cfgs.agent.seed += rank.rank  # each process simulates its own envs
  cfgs.env.seed = cfgs.agent.seed
  apply_cfg_overrides(cfgs, overrides)
  check_env_cfg(cfgs.env)
  check_agent_cfg(cfgs.agent)
  return cfgs


def train_with_hydra(prog: str, opts: TrainOptions, hydra_args: list[str]) -> None:
  """train.py under hydra.main: one ``run_train`` per job (``--multirun``: per combination);
  ``agent=<name>`` picks a named agent of the task."""
  rank = _rank(opts)
  agents, default = task_agents(opts.task)

  def cfgs(o: TrainOptions) -> dict[str, object]:
    checked = train_cfgs(o, rank)
    return {"env": checked.env, "agent": checked.agent}

  run_jobs(prog, hydra_args, opts, cfgs, run_train, agents, opts.agent or default)


def run_train(opts: TrainOptions) -> Path:
  """Train; return the run folder."""
  rank = _rank(opts)
  device = run_device(rank, opts.device, opts.distributed)
  cfgs = train_cfgs(opts, rank)
  num_envs, max_iterations = cpu_budget(opts, device)
  if (num_envs, max_iterations) != (opts.num_envs, opts.max_iterations):
    assert num_envs is not None and max_iterations is not None
    print(smoke_test_note(opts.task, num_envs, max_iterations), flush=True)
  agent = cfgs.agent
  log_root = Path(opts.log_root).resolve()

  resume_path = resume_data = None
  if opts.resume:
    experiments = experiment_dirs(log_root, opts.experiment_name)
    resume_path = ckpt.resolve_checkpoint(experiments, opts.load_run, opts.checkpoint, opts.task)
    resume_data = ckpt.read_checkpoint(resume_path)
    if opts.experiment_name is None and resume_path.parent.parent.parent == log_root:
      # The lineage continues in its own experiment folder.
      agent.experiment_name = resume_path.parent.parent.name
  experiment_dir = log_root / agent.experiment_name

  # Heavy imports only after the cheap checks passed.
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import runner_class
  from legged_robots.tasks.registry import env_class

  render_mode = "rgb_array" if opts.video else None
  with quiet_build(opts.verbose):
    env = env_class(opts.task)(cfg=cfgs.env, device=device, render_mode=render_mode)
  try:
    if resume_data is not None:
      assert resume_path is not None
      ckpt.check_fits(resume_path, resume_data, *policy_io_sizes(env, agent))
      if isinstance(agent, StRlAmpRunnerCfg):
        from legged_robots.rl.amp.algorithm import check_amp_state

        check_amp_state(resume_data, str(resume_path))

    if not rank.is_main:  # ranks > 0 train and write nothing
      runner = runner_class(agent)(
        RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions), asdict(agent), opts.task, None, device
      )
      if resume_path is not None:
        runner.load(str(resume_path))
      runner.learn(num_learning_iterations=agent.max_iterations, init_at_random_ep_len=True)
      report_rank("st_rl", rank, *runner.policy_modules())
      return experiment_dir
    # All inputs are valid: from here on the run folder is written.
    run_dir = _start_run(experiment_dir, agent.run_name)
    lock = TrainLock(run_dir)
    try:
      if opts.video:
        from legged_robots.rl.video import PeriodicVideoRecorder

        env = PeriodicVideoRecorder(env, run_dir / "videos" / "train", opts.video_interval, opts.video_length)
      wrapped = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
      write_run_params(run_dir, opts.task, resume_path, cfgs.env, agent)
      print(f"[st_rl] logging to {run_dir}", flush=True)
      runner = runner_class(agent)(wrapped, asdict(agent), opts.task, str(run_dir), device)
      runner.add_git_repo_to_log(__file__)
      if resume_path is not None:
        print(f"[st_rl] resuming from {resume_path}", flush=True)
        runner.load(str(resume_path))
      runner.learn(num_learning_iterations=agent.max_iterations, init_at_random_ep_len=True)
      if opts.distributed:
        report_rank("st_rl", rank, *runner.policy_modules())
    except BaseException:
      _drop_if_empty(run_dir)
      raise
    finally:
      lock.release()
  finally:
    env.close()
  print(next_steps(run_dir, opts.task, opts.log_root), flush=True)
  return run_dir
