"""``run_skrl_play``: evaluate a run of ``scripts/skrl/train.py`` as st_rl's play does.

The same rollout, metrics, plot, video and (tasks with reference motions) style report as
``evaluation.play``; the policy is the skrl policy's mean action (``SkrlInferencePolicy``).
The env interface comes from the run's ``params/env.yaml`` and the agent from its
``params/agent.yaml``. Writes the export (``<run>/exported/`` for the run's newest
checkpoint, ``<run>/exported/model_<i>/`` for an older one) and
``<run>/play/model_<i>/{metrics.json,velocity.png,video.mp4}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mjlab.envs import ManagerBasedRlEnvCfg

from legged_robots.deploy.runs import experiment_dirs
from legged_robots.evaluation.play import PlayOptions, _rollout, export_folder, write_summary
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.errors import StRlError
from legged_robots.rl.hydra_main import run_jobs
from legged_robots.rl.overrides import apply_overrides
from legged_robots.rl.skrl.task_cfg import AMP_GROUP, check_algorithm, read_skrl_run_cfg, select_agent_cfg
from legged_robots.rl.task_cfg import checked_overrides, require_task, resolve_device, restore_env_interface
from legged_robots.tasks.agents_skrl import SkrlAgentCfg


@dataclass
class SkrlPlayOptions(PlayOptions):
  """play.py's options for skrl runs (defaults in scripts/skrl/conf/play.yaml)."""

  log_root: str = "logs/skrl"
  algorithm: str | None = None
  """PPO or AMP; None: the run's (checked against its params/agent.yaml)."""


def skrl_play_cfgs(opts: SkrlPlayOptions) -> tuple[ManagerBasedRlEnvCfg, SkrlAgentCfg, Path, dict]:
  """(env cfg, agent cfg, checkpoint, its data): the task's play cfg with the run's interface
  and agent from its params/, the overrides, then the flags. Builds and writes nothing."""
  overrides = checked_overrides(opts.overrides)
  require_task(opts.task)
  algorithm = None if opts.algorithm is None else check_algorithm(opts.algorithm)
  from legged_robots.rl.skrl.checkpoint import read_skrl_checkpoint
  from legged_robots.tasks.registry import load_env_cfg

  env_cfg = load_env_cfg(opts.task, play=True)
  experiments = experiment_dirs(Path(opts.log_root).resolve(), opts.experiment_name)
  path = ckpt.resolve_checkpoint(experiments, opts.load_run, opts.checkpoint, opts.task, "skrl")
  data = read_skrl_checkpoint(path)
  run_dir = path.parent
  cfg = read_skrl_run_cfg(run_dir)
  if cfg is None:
    print(f"[skrl] {run_dir} has no skrl params/agent.yaml: using the task's skrl agent", flush=True)
    cfg = select_agent_cfg(opts.task, data["st_gym"]["algorithm"], None, None)
  else:
    restore_env_interface(env_cfg, run_dir / "params")
  if algorithm is not None and algorithm != cfg.algorithm:
    raise StRlError(f"--algorithm {algorithm}, but run {run_dir} was trained with skrl {cfg.algorithm}.")
  apply_overrides({"env": env_cfg, "agent": cfg}, overrides)
  env_cfg.scene.num_envs = opts.num_envs
  if opts.episode_length_s is not None:
    env_cfg.episode_length_s = opts.episode_length_s
  return env_cfg, cfg, path, data


def skrl_play_with_hydra(prog: str, opts: SkrlPlayOptions, hydra_args: list[str]) -> None:
  """skrl's play.py under hydra.main: one ``run_skrl_play`` per job."""

  def cfgs(o: SkrlPlayOptions) -> dict[str, object]:
    env_cfg, cfg, _, _ = skrl_play_cfgs(o)
    return {"env": env_cfg, "agent": cfg}

  run_jobs(prog, hydra_args, opts, cfgs, run_skrl_play)


def run_skrl_play(opts: SkrlPlayOptions) -> Path:
  """Evaluate an skrl checkpoint; return the folder holding metrics.json."""
  device = resolve_device(opts.device)
  env_cfg, cfg, path, data = skrl_play_cfgs(opts)
  run_dir = path.parent
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.skrl.checkpoint import check_checkpoint_fits, load_into
  from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
  from legged_robots.rl.skrl.export import SkrlInferencePolicy
  from legged_robots.rl.skrl.runner import SkrlRunner
  from legged_robots.tasks.registry import env_class

  render_mode = "rgb_array" if opts.video else None
  env = env_class(opts.task)(cfg=env_cfg, device=device, render_mode=render_mode)
  try:
    amp_group = AMP_GROUP if cfg.algorithm == "AMP" else None
    runner = SkrlRunner(SkrlVecEnvWrapper(env, amp_group=amp_group), cfg, opts.task, device)
    check_checkpoint_fits(path, data, runner.agent, cfg.algorithm, runner.sizes)
    load_into(runner.agent, data)
    iteration = int(data["st_gym"]["iteration"])
    exported = export_folder(path)
    runner.export(exported, iteration)
    policy = SkrlInferencePolicy(runner.agent, env.num_envs)
    out_dir = run_dir / "play" / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"[skrl] playing {path} for {opts.num_episodes} episodes", flush=True)
    summary = _rollout(
      RslRlVecEnvWrapper(env, clip_actions=cfg.clip_actions), policy, opts, out_dir, exported
    )
  finally:
    env.close()
  summary.update(
    task=opts.task, checkpoint=str(path), iteration=iteration, library="skrl", algorithm=cfg.algorithm
  )
  write_summary(summary, getattr(env_cfg, "motion", None), exported, out_dir, opts, "skrl")
  return out_dir
