"""``run_play``: load a trained run, evaluate it headless on the task's play config.

Writes, for checkpoint ``model_<i>.pt`` of run R: its export, to ``R/exported/`` when it
is R's newest checkpoint (refreshed) and to ``R/exported/model_<i>/`` when it is older
(``R/exported/`` keeps the newest), and ``R/play/model_<i>/{metrics.json,velocity.png,
video.mp4}`` (motion tasks: with the reference as a translucent second robot, and
``mimic_joints.png``). The env is the task's play variant; the policy interface
(actor observation terms, actions, decimation, physics dt) and the agent config are
read back from ``R/params/`` so a run trained with overrides plays as it was trained.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from legged_robots.deploy.runs import EXPORT_DIR, experiment_dirs
from legged_robots.evaluation.metrics import EpisodeMetrics
from legged_robots.evaluation.mimic_metrics import MimicMetrics, motion_command
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.checks import at_least, check_env_cfg, positive
from legged_robots.rl.errors import StRlError
from legged_robots.rl.hydra_main import run_jobs
from legged_robots.rl.messages import quiet_build
from legged_robots.rl.task_cfg import (
  TaskCfgs,
  apply_cfg_overrides,
  checked_overrides,
  load_task_cfgs,
  policy_io_sizes,
  resolve_device,
  restore_training_interface,
)
from legged_robots.tasks.motion import MotionDataCfg

VELOCITY_RANGES = ("lin_vel_x", "lin_vel_y", "ang_vel_z")
STYLE_WARMUP_S = 1.0
"""The style report's MuJoCo walk skips its first second (``style_rollout.policy_trajectory``)."""


@dataclass
class PlayOptions:
  """Command-line options of play.py (defaults come from conf/play.yaml)."""

  task: str
  load_run: str = "-1"
  checkpoint: str = "-1"
  experiment_name: str | None = None
  device: str | None = None
  num_envs: int = 4
  num_episodes: int = 4
  episode_length_s: float | None = 20.0
  """Evaluation episode cap (play cfgs often make episodes endless); None keeps the cfg's."""
  video: bool = True
  video_length: int = 300
  plot_steps: int = 500
  log_root: str = "logs/st_rl"
  style_speed: float = 0.5
  """Forward speed (m/s) of the style report's MuJoCo walk (tasks with reference motions)."""
  style_duration_s: float = 10.0
  verbose: bool = False
  """Print mjlab's manager tables and Warp's module loads."""
  overrides: list[str] = field(default_factory=list)
  """``env.*``/``agent.*`` overrides in hydra's grammar, applied after the run's params."""


def velocity_command(env) -> tuple[str, str] | None:
  """(command name, entity name) of the first (vx, vy, wz) velocity command, if any."""
  for name in env.command_manager.active_terms:
    cfg = env.cfg.commands[name]
    ranges = getattr(cfg, "ranges", None)
    if ranges is not None and all(hasattr(ranges, r) for r in VELOCITY_RANGES):
      return name, cfg.entity_name
  return None


class _Progress:
  """A line every few seconds: rendering on a CPU makes play take minutes."""

  def __init__(self, episodes: int, frames: int, every_s: float = 5.0) -> None:
    self.episodes, self.frames, self.every_s = episodes, frames, every_s
    self.start = self.last = time.monotonic()

  def update(self, step: int, episodes: int, frames: int) -> None:
    now = time.monotonic()
    if now - self.last < self.every_s:
      return
    self.last = now
    video = f", video {frames}/{self.frames} frames" if self.frames else ""
    print(
      f"[st_rl] play: step {step}, {episodes}/{self.episodes} episodes{video}, {now - self.start:.0f} s",
      flush=True,
    )


def _rollout(wrapped, policy, opts: PlayOptions, out_dir: Path, exported: Path) -> dict:
  env = wrapped.unwrapped
  scale = env.step_dt if env.cfg.scale_rewards_by_dt else 1.0
  metrics = EpisodeMetrics(env.num_envs, list(env.reward_manager.active_terms), env.step_dt)
  velocity_cmd = velocity_command(env)
  motion = motion_command(env)
  mimic = None if motion is None else MimicMetrics(motion, plot_steps=opts.plot_steps)
  ghost = None  # motion tasks: the reference as a translucent second robot in the video
  if opts.video and motion is not None:
    from legged_robots.evaluation.reference_video import ReferenceGhost
    from legged_robots.rl.exporter import ROBOT_MJCF_NAME

    ghost = ReferenceGhost(motion, exported / ROBOT_MJCF_NAME)
  per_env_episodes = math.ceil(opts.num_episodes / env.num_envs)
  max_steps = (per_env_episodes + 1) * env.max_episode_length
  frames, cmd_trace, vel_trace = [], [], []
  obs = wrapped.get_observations()
  step = 0
  progress = _Progress(opts.num_episodes, min(opts.video_length, max_steps) if opts.video else 0)
  while metrics.episodes < opts.num_episodes and step < max_steps:
    command = velocity = None
    if velocity_cmd is not None:
      command = env.command_manager.get_command(velocity_cmd[0])[:, :3].clone()
    with torch.inference_mode():
      actions = policy(obs)
    target = None if mimic is None else mimic.target()
    obs, _, dones, _ = wrapped.step(actions)
    if mimic is not None and target is not None:
      mimic.step(target, dones)
    policy.reset(dones)  # zeroes the hidden state of finished envs (recurrent)
    if velocity_cmd is not None:
      data = env.scene[velocity_cmd[1]].data
      velocity = torch.cat([data.root_link_lin_vel_b[:, :2], data.root_link_ang_vel_b[:, 2:3]], dim=1)
      if command is not None and step < opts.plot_steps:
        cmd_trace.append(command[0].cpu().numpy())
        vel_trace.append(velocity[0].cpu().numpy())
    # _step_reward is the manager's per-term reward before the dt scaling.
    term_rewards = env.reward_manager._step_reward * scale
    metrics.step(term_rewards, dones, env.termination_manager.time_outs, command, velocity)
    if opts.video and step < opts.video_length:
      from legged_robots.rl.video import render_frame

      frame = render_frame(env, None if ghost is None or target is None else ghost.drawer(target))
      frames.append(frame[0] if frame.ndim == 4 else frame)
    step += 1
    progress.update(step, metrics.episodes, len(frames))
  summary = metrics.summary()
  summary["steps"] = step
  if mimic is not None:
    summary["mimic"] = mimic.summary(summary["fall_rate"])
    mimic.plot(out_dir / "mimic_joints.png", env.step_dt, f"{opts.task}: env 0 reference vs achieved")
  summary["velocity_command"] = None if velocity_cmd is None else velocity_cmd[0]
  if frames:
    from legged_robots.rl.video import write_video

    write_video(out_dir / "video.mp4", frames, fps=1.0 / env.step_dt)
  if cmd_trace:
    from legged_robots.evaluation.plot import plot_velocity_tracking

    times = np.arange(len(cmd_trace)) * env.step_dt
    plot_velocity_tracking(
      times,
      np.stack(cmd_trace),
      np.stack(vel_trace),
      out_dir / "velocity.png",
      f"{opts.task}: env 0 commanded vs achieved",
    )
  return summary


def _style_report(motion, exported: Path, out: Path, opts: PlayOptions) -> dict:
  """Is the style real? The exported policy in MuJoCo beside the task's own clips."""
  from legged_robots.deploy import DeployError
  from legged_robots.evaluation.style_rollout import PolicyFellError
  from legged_robots.evaluation.style_run import write_style_report
  from legged_robots.tasks.motion import read_clip, resolve_motion_files

  clips = [read_clip(path, motion.csv_fps) for path in resolve_motion_files(motion)]
  print(f"[st_rl] style report: {len(clips)} clips, MuJoCo walk at {opts.style_speed} m/s", flush=True)
  try:
    report = write_style_report(exported, clips, out, opts.style_speed, opts.style_duration_s)
  except (PolicyFellError, DeployError) as e:  # e.g. an untrained policy: the play metrics stand
    print(f"[st_rl] no style report: {e}", flush=True)
    return {"error": str(e)}
  return {
    "joint_w1_mean_rad": report["joint_w1_rad"].get("mean_over_joints"),
    "gait_cycle_dtw_mean_rad": report["gait_cycle_dtw_rad"].get("mean"),
    "policy": report["policy"]["stats"],
    "clips": report["clips"]["stats"],
    "report": str(out / "style_report.json"),
  }


def _check_options(opts: PlayOptions) -> None:
  at_least("--num_envs", opts.num_envs)
  at_least("--num_episodes", opts.num_episodes)
  positive("--episode_length_s", opts.episode_length_s)
  at_least("--video_length", opts.video_length, 0)
  at_least("--plot_steps", opts.plot_steps, 0)
  positive("--style_speed", opts.style_speed, allow_zero=True)
  positive("--style_duration_s", opts.style_duration_s)
  if opts.style_duration_s <= STYLE_WARMUP_S + 0.1:
    raise StRlError(
      f"--style_duration_s {opts.style_duration_s} must exceed the style walk's {STYLE_WARMUP_S} s warm-up"
    )


def export_folder(checkpoint: Path) -> Path:
  """``<run>/exported`` for the run's newest checkpoint, ``<run>/exported/model_<i>`` for an
  older one: ``exported/`` always holds the newest checkpoint's export."""
  run_dir = checkpoint.parent
  checkpoints = ckpt.list_checkpoints(run_dir)
  if checkpoints and checkpoints[-1][1].resolve() == checkpoint.resolve():
    return run_dir / EXPORT_DIR
  return run_dir / EXPORT_DIR / checkpoint.stem


def play_cfgs(opts: PlayOptions) -> tuple[TaskCfgs, Path, dict]:
  """(configs, checkpoint, its data): the task's play cfg with the run's interface from its
  params/, the overrides, then the flags; checked. Builds and writes nothing."""
  _check_options(opts)
  overrides = checked_overrides(opts.overrides)
  cfgs = load_task_cfgs(opts.task, play=True)
  experiments = experiment_dirs(Path(opts.log_root).resolve(), opts.experiment_name)
  path = ckpt.resolve_checkpoint(experiments, opts.load_run, opts.checkpoint, opts.task)
  data = ckpt.read_checkpoint(path)
  restore_training_interface(cfgs, path.parent)
  apply_cfg_overrides(cfgs, overrides)
  cfgs.env.scene.num_envs = opts.num_envs
  if opts.episode_length_s is not None:
    cfgs.env.episode_length_s = opts.episode_length_s
  check_env_cfg(cfgs.env)
  return cfgs, path, data


def play_with_hydra(prog: str, opts: PlayOptions, hydra_args: list[str]) -> None:
  """play.py under hydra.main: one ``run_play`` per job (``--cfg job`` prints the config)."""

  def cfgs(o: PlayOptions) -> dict[str, object]:
    checked = play_cfgs(o)[0]
    return {"env": checked.env, "agent": checked.agent}

  run_jobs(prog, hydra_args, opts, cfgs, run_play)


def run_play(opts: PlayOptions) -> Path:
  """Evaluate a checkpoint; return the folder holding metrics.json."""
  device = resolve_device(opts.device)
  cfgs, path, data = play_cfgs(opts)
  run_dir = path.parent

  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import runner_class
  from legged_robots.tasks.registry import env_class

  render_mode = "rgb_array" if opts.video else None
  with quiet_build(opts.verbose):
    env = env_class(opts.task)(cfg=cfgs.env, device=device, render_mode=render_mode)
  try:
    wrapped = RslRlVecEnvWrapper(env, clip_actions=cfgs.agent.clip_actions)
    ckpt.check_fits(path, data, *policy_io_sizes(wrapped, cfgs.agent))
    runner = runner_class(cfgs.agent)(wrapped, asdict(cfgs.agent), opts.task, None, device)
    runner.load(str(path), load_cfg={"actor": True}, map_location=device)
    policy = runner.get_inference_policy(device=device)
    exported = export_folder(path)
    runner.export(exported, iteration=int(data["iter"]))
    out_dir = run_dir / "play" / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"[st_rl] playing {path} for {opts.num_episodes} episodes", flush=True)
    summary = _rollout(wrapped, policy, opts, out_dir, exported)
  finally:
    env.close()
  summary.update(task=opts.task, checkpoint=str(path), iteration=int(data["iter"]))
  write_summary(summary, getattr(cfgs.env, "motion", None), exported, out_dir, opts, "st_rl")
  return out_dir


def write_summary(
  summary: dict, motion: MotionDataCfg | None, exported: Path, out_dir: Path, opts: PlayOptions, library: str
) -> None:
  """Add the style report of a task with motions and a velocity command (a tracking
  policy has no walk to compare), write metrics.json and print it."""
  if motion is not None and summary.get("velocity_command") is not None:  # a walk at a commanded speed
    summary["style"] = _style_report(motion, exported, out_dir / "style", opts)
  (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
  print(json.dumps(summary, indent=2), flush=True)
  print(f"[{library}] wrote {out_dir} and {exported}", flush=True)
