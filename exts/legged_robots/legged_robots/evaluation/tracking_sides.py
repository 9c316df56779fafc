"""The two stacks of ``benchmarks/tracking_vs_mjlab.py``: the clip conversion, a training
env + runner per side, and a play-like eval env per side scored by ``tracking_metric``.

- st_gym: ``Tracking-Flat-G1`` reading the CSV (``env.motion.files``, ``csv_fps``), st_rl's
  runner as ``scripts/st_rl/train.py`` builds it;
- mjlab: ``Mjlab-Tracking-Flat-Unitree-G1`` reading the npz that ``prepare`` wrote with
  mjlab's own CSV conversion, mjlab's ``MotionTrackingOnPolicyRunner`` and agent cfg,
  TensorBoard instead of wandb.

Eval envs are each task's play cfg (no observation noise, no pushes, no start-state
noise; mjlab's play cfg keeps a +-0.1 rad joint noise at reset, removed here) with start
times drawn uniformly over whole control steps of the clip on both sides (ours:
``random_start`` without failure-adaptive sampling; mjlab: ``sampling_mode="uniform"``,
its frames are the control steps), and only the time-out terminations kept: failures
are decided by ``tracking_metric`` alone. Both sides score the n-th step of an episode
against the clip frame start + n (ours by construction; mjlab's reset advances its frame
index once); an episode's window runs to the clip's last frame or ``episode_s``,
whichever is first.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from mjlab.rl import RslRlVecEnvWrapper

from legged_robots.evaluation.tracking_compare import TASKS, Settings, prepared
from legged_robots.evaluation.tracking_metric import BODIES, BodyPoses, EpisodeScore, body_pos_errors
from legged_robots.evaluation.walk_eval import eval_env_cfg
from legged_robots.rl.run_dir import write_run_params
from legged_robots.rl.runner import runner_class
from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides, load_task_cfgs
from legged_robots.tasks.config.g1.tracking_env_cfgs import MOTION
from legged_robots.tasks.mdp.mimic import resolve_links
from legged_robots.tasks.registry import env_class

NEVER = 10**9  # save_interval: the runner writes a checkpoint only where a chunk ends
MJLAB_FPS = 50.0
"""mjlab's tracking control rate (5 ms x 4): the npz holds one frame per control step."""


# --- prepare -------------------------------------------------------------------------


def convert_with_mjlab(csv: Path, fps: float, out: Path, device: str) -> dict:
  """mjlab's ``csv_to_npz`` conversion of ``csv`` into ``out/motion.npz``, without wandb.

  mjlab's script ends by uploading to wandb, so its main cannot run offline: this is its
  ``main`` + ``run_sim`` minus the upload (the same scene, ``MotionLoader`` interpolation
  and velocities, and the same per-frame replay through the sim), saved locally.
  """
  from mjlab.scene import Scene
  from mjlab.scripts.csv_to_npz import MotionLoader
  from mjlab.sim.sim import Simulation, SimulationCfg
  from mjlab.tasks.tracking.config.g1.env_cfgs import unitree_g1_flat_tracking_env_cfg

  sim_cfg = SimulationCfg()
  sim_cfg.mujoco.timestep = 1.0 / MJLAB_FPS
  scene = Scene(unitree_g1_flat_tracking_env_cfg().scene, device=device)
  sim = Simulation(num_envs=1, cfg=sim_cfg, model=scene.compile(), device=device)
  scene.initialize(sim.mj_model, sim.model, sim.data)
  motion = MotionLoader(str(csv), input_fps=fps, output_fps=MJLAB_FPS, device=device)  # type: ignore[arg-type]
  robot = scene["robot"]
  keys = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")
  log: dict[str, list] = {k: [] for k in keys}
  scene.reset()
  for i in range(motion.output_frames):
    root = robot.data.default_root_state.clone()
    root[:, 0:3] = motion.motion_base_poss[i]
    root[:, :2] += scene.env_origins[:, :2]
    root[:, 3:7] = motion.motion_base_rots[i]
    root[:, 7:10] = motion.motion_base_lin_vels[i]
    root[:, 10:] = motion.motion_base_ang_vels[i]
    robot.write_root_state_to_sim(root)
    # The CSV's joint columns are the G1 MJCF order (mjlab's list), the entity's order.
    robot.write_joint_state_to_sim(motion.motion_dof_poss[i : i + 1], motion.motion_dof_vels[i : i + 1])
    sim.forward()
    scene.update(sim.mj_model.opt.timestep)
    d = robot.data
    for key, value in zip(
      keys,
      (
        d.joint_pos,
        d.joint_vel,
        d.body_link_pos_w,
        d.body_link_quat_w,
        d.body_link_lin_vel_w,
        d.body_link_ang_vel_w,
      ),
      strict=True,
    ):
      log[key].append(value[0].cpu().numpy().copy())
  out.mkdir(parents=True, exist_ok=True)
  arrays = {"fps": np.array([MJLAB_FPS]), **{k: np.stack(v) for k, v in log.items()}}
  np.savez(out / "motion.npz", allow_pickle=False, **arrays)
  return {"frames": motion.output_frames, "input_frames": motion.input_frames, "duration_s": motion.duration}


def compare_with_ours(csv: Path, fps: float, npz: Path, device: str) -> dict:
  """Our motion library's reading of ``csv`` at mjlab's frame times against the npz: the
  last frame both sides can score and the largest body-position difference (m)."""
  from mjlab.asset_zoo.robots.unitree_g1.g1_constants import get_spec

  from legged_robots.tasks.motion import MotionDataCfg, load_motion_library, robot_model

  spec = get_spec()
  model = spec.compile()
  joints = tuple(spec.joints[i].name for i in range(1, len(spec.joints)))  # after the free joint
  cfg = MotionDataCfg(files=[str(csv)], csv_fps=fps, body_names=list(BODIES))
  library = load_motion_library(cfg, robot_model(spec), joints, device)
  ours_last = int(np.floor(float(library.duration[0]) * MJLAB_FPS + 1e-6))
  data = np.load(npz)
  mjlab_last = len(data["joint_pos"]) - 1
  frames = min(ours_last, mjlab_last) + 1
  times = torch.arange(frames, device=device, dtype=torch.float32) / MJLAB_FPS
  ours = library.sample(torch.zeros(frames, dtype=torch.long, device=device), times, loop=False)
  ids = [model.body(b).id - 1 for b in BODIES]  # the npz has no world body
  theirs = torch.as_tensor(data["body_pos_w"][:frames, ids], device=device, dtype=torch.float32)
  diff = (ours["body_pos_w"] - theirs).norm(dim=-1)
  return {
    "st_gym_duration_s": float(library.duration[0]),
    "st_gym_last_step": ours_last,
    "mjlab_frames": mjlab_last + 1,
    "mjlab_last_step": mjlab_last,
    "max_body_pos_diff_m": float(diff.max()),
    "mean_body_pos_diff_m": float(diff.mean()),
  }


def _our_cfgs(clip: dict, play: bool):
  cfgs = load_task_cfgs(TASKS["st_gym"], play=play)
  files = f'env.motion.files=["{clip["csv"]}"]'
  apply_cfg_overrides(cfgs, checked_overrides([files, f"env.motion.csv_fps={clip['fps']}"]))
  return cfgs


def _mjlab_cfgs(clip: dict, play: bool):
  import mjlab.tasks  # noqa: F401  (registers mjlab's tasks)
  from mjlab.tasks.registry import load_env_cfg, load_rl_cfg

  env_cfg, agent = load_env_cfg(TASKS["mjlab"], play=play), load_rl_cfg(TASKS["mjlab"])
  env_cfg.commands["motion"].motion_file = clip["npz"]  # type: ignore[attr-defined]
  if tuple(env_cfg.commands["motion"].body_names) != BODIES:  # type: ignore[attr-defined]
    raise RuntimeError(f"{TASKS['mjlab']} tracks other bodies than {BODIES}")
  return env_cfg, agent


def _env_and_runner(side: str, env_cfg, agent, log_dir: str | None, device: str, checkpoint: Path | None):
  """(env, wrapped env, runner) of a side, the runner loaded from ``checkpoint`` when given."""
  if side == "st_gym":
    env = env_class(TASKS["st_gym"])(cfg=env_cfg, device=device)
    wrapped = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
    runner = runner_class(agent)(wrapped, asdict(agent), TASKS["st_gym"], log_dir, device)
    runner.logger.print_progress = False  # train prints its own progress line per chunk
    if checkpoint is not None:
      runner.load(str(checkpoint))
    return env, wrapped, runner
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.tasks.tracking.rl import MotionTrackingOnPolicyRunner

  env = ManagerBasedRlEnv(cfg=env_cfg, device=device)
  wrapped = RslRlVecEnvWrapper(env, clip_actions=agent.clip_actions)
  runner = MotionTrackingOnPolicyRunner(wrapped, asdict(agent), log_dir, device)
  if checkpoint is not None:
    runner.load(str(checkpoint), map_location=device)
  return env, wrapped, runner


# --- training --------------------------------------------------------------------------


class Trainer:
  """A side's training env and runner, resumed from ``checkpoint`` when given."""

  def __init__(self, settings: Settings, run_dir: Path, device: str, checkpoint: Path | None) -> None:
    clip = prepared(Path(settings.prepared))
    log_dir = str(run_dir / "train")
    if settings.side == "st_gym":
      cfgs = _our_cfgs(clip, play=False)
      env_cfg, agent = cfgs.env, cfgs.agent
    else:
      from mjlab.utils.torch import configure_torch_backends

      configure_torch_backends()  # as mjlab's train.py does
      env_cfg, agent = _mjlab_cfgs(clip, play=False)
      agent.upload_model = False
    env_cfg.scene.num_envs = settings.num_envs
    agent.seed = env_cfg.seed = settings.seed
    agent.logger = "tensorboard"
    agent.save_interval = NEVER
    self.steps_per_iter = agent.num_steps_per_env * settings.num_envs
    if settings.side == "st_gym":  # a run folder play.py, goals.py and sim2mujoco accept
      write_run_params(Path(log_dir), TASKS["st_gym"], None, env_cfg, agent)
    self.env, _, self.runner = _env_and_runner(settings.side, env_cfg, agent, log_dir, device, checkpoint)
    if settings.side == "mjlab" and checkpoint is not None:
      # rsl_rl's load leaves the counter at the saved (last done) iteration; continue
      # after it, as st_rl's load does.
      self.runner.current_learning_iteration += 1
    self.device = device

  def learn(self, iterations: int, first: bool) -> int:
    """Train ``iterations``; the runner writes ``model_<last>.pt``. Returns that last iteration."""
    self.runner.learn(num_learning_iterations=iterations, init_at_random_ep_len=first)
    if self.device.startswith("cuda"):
      torch.cuda.synchronize()
    last = self.runner.current_learning_iteration
    self.runner.current_learning_iteration += 1  # the next chunk starts after it (as a resume does)
    return last

  def close(self) -> None:
    self.env.close()


# --- evaluation ------------------------------------------------------------------------


class EvalSide:
  """A side's play-like eval env with the trained policy, and its body poses."""

  def __init__(self, settings: Settings, checkpoint: Path, episodes: int, device: str) -> None:
    clip = prepared(Path(settings.prepared))
    self.side = settings.side
    if self.side == "st_gym":
      train, play = _our_cfgs(clip, play=False), _our_cfgs(clip, play=True)
      cfg = eval_env_cfg(play.env, train.env, episodes, episode_s=1.0e6)  # windows end first
      command = cfg.commands[MOTION]
      command.random_start, command.adaptive_sampling = True, False  # type: ignore[attr-defined]
      agent = train.agent
    else:
      cfg, agent = _mjlab_cfgs(clip, play=True)
      command = cfg.commands["motion"]
      command.sampling_mode = "uniform"  # type: ignore[attr-defined]
      # mjlab's play cfg keeps a +-0.1 rad joint noise at reset; ours starts on the frame.
      command.joint_position_range = (0.0, 0.0)  # type: ignore[attr-defined]
      cfg.scene.num_envs = episodes
    cfg.terminations = {k: t for k, t in cfg.terminations.items() if t.time_out}
    cfg.seed = settings.seed + 1  # a stream apart from training's
    self.env, self.wrapped, runner = _env_and_runner(self.side, cfg, agent, None, device, checkpoint)
    if self.side == "st_gym":
      self.motion = self.env.command_manager.get_term(MOTION)
      self.ids, self.cols = resolve_links(self.motion, BODIES, "tracking_vs_mjlab eval")  # type: ignore[arg-type]
    else:
      self.motion = self.env.command_manager.get_term("motion")
    self.policy = runner.get_inference_policy(device=device)
    self.step_dt = self.env.step_dt

  def first_and_last_frames(self) -> tuple[torch.Tensor, torch.Tensor]:
    """Per env, after a reset, in control steps of clip time: the frame the first step is
    scored against (the start frame + 1 on both sides: mjlab's reset advances its frame
    index once) and the clip's last frame."""
    m = self.motion
    if self.side == "st_gym":
      first = torch.round(m.time / m.step_dt).long()  # type: ignore[operator]
      last = torch.floor(m.library.duration[m.clip_ids] / m.step_dt + 1e-6).long()  # type: ignore[union-attr]
      return first, last
    first = m.time_steps.clone()  # type: ignore[union-attr]
    return first, torch.full_like(first, m.motion.time_step_total - 1)  # type: ignore[union-attr]

  def reference(self) -> tuple[torch.Tensor, torch.Tensor]:
    """World poses of the frame the next step is scored against (as this side's rewards do)."""
    m = self.motion
    if self.side == "st_gym":
      ref = m.reference  # type: ignore[union-attr]
      pos = ref["body_pos_w"][:, self.cols] + m.root_offset.unsqueeze(1)  # type: ignore[union-attr]
      return pos, ref["body_quat_w"][:, self.cols].clone()
    return m.body_pos_w.clone(), m.body_quat_w.clone()  # type: ignore[union-attr]

  def start_frame(self, first: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World poses of each env's start frame (``first - 1``), where its reset put the robot."""
    m = self.motion
    if self.side == "st_gym":
      ref = m.library.sample(m.clip_ids, (first - 1).float() * m.step_dt, loop=False)  # type: ignore[union-attr]
      pos = ref["body_pos_w"][:, self.cols] + m.root_offset.unsqueeze(1)  # type: ignore[union-attr]
      return pos, ref["body_quat_w"][:, self.cols]
    origins = self.env.scene.env_origins.unsqueeze(1)
    return m.motion.body_pos_w[first - 1] + origins, m.motion.body_quat_w[first - 1]  # type: ignore[union-attr]

  def robot(self) -> tuple[torch.Tensor, torch.Tensor]:
    if self.side == "st_gym":
      data = self.motion.asset.data  # type: ignore[union-attr]
      return data.body_link_pos_w[:, self.ids], data.body_link_quat_w[:, self.ids]
    return self.motion.robot_body_pos_w, self.motion.robot_body_quat_w  # type: ignore[union-attr]

  def run(self, episode_s: float) -> dict:
    """One episode per env from where the reset put it; ``tracking_metric``'s summary."""
    obs, _ = self.wrapped.reset()
    first, last = self.first_and_last_frames()
    cap = torch.full_like(first, round(episode_s / self.step_dt))
    window = torch.clamp(torch.minimum(last - first + 1, cap), min=0)
    score = EpisodeScore(window)
    start_error, _ = body_pos_errors(BodyPoses(*self.robot(), *self.start_frame(first)))
    for _ in range(score.max_steps):
      ref_pos, ref_quat = self.reference()
      with torch.inference_mode():
        actions = self.policy(obs)
      obs, _, dones, _ = self.wrapped.step(actions)
      inside = dones.bool() & (score.t < window)
      if bool(inside.any()):
        raise RuntimeError(f"{int(inside.sum())} envs were reset inside their window at step {score.t}")
      score.step(BodyPoses(*self.robot(), ref_pos, ref_quat))
    start_s = (first - 1).double() * self.step_dt
    return {
      **score.summary(),
      "start_pose_error_m": float(start_error.max()),
      "start_s_mean": float(start_s.mean()),
      "start_s_max": float(start_s.max()),
      "last_step": int(last.max()),
      "step_dt": self.step_dt,
    }

  def close(self) -> None:
    self.env.close()
