"""Run an exported policy in native MuJoCo (CPU): closed loop, metrics, plot and video.

    python scripts/st_rl/sim2mujoco.py --task Flat-G1 [--load_run R] [--cmd 0.5 0 0] [--duration 60]
    python scripts/st_rl/sim2mujoco.py --policy logs/st_rl/g1_flat/<run>/exported --schedule cmds.yaml
    python scripts/st_rl/sim2mujoco.py --policy st_gym_exported/ --mjcf lus2.xml     # st_gym layout
    python scripts/st_rl/sim2mujoco.py --task Flat-G1 --viewer                      # arrows, Q/E: command

Motion tasks replay the exported goals (whole-body tracking from the clip's first frame) and
metrics.json scores the run against them ("tracking": joint and link position errors).
Writes metrics.json, plot.png and video.mp4 to --out (default: <run>/sim2mujoco/<time>/ for a
run's export, else logs/sim2mujoco/<policy folder name>/<time>/).
Exit status: 0 the robot survived, 1 it fell or the policy returned NaN, 2 bad input.
Needs only the exported folder and the MJCF (never torch or mjlab). See docs/sim2mujoco.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--policy", help="exported folder (deploy.yaml + policy.onnx, or st_gym's layout)")
  add("--task", help="task id: use the newest run of this task under --log_root")
  add("--load_run", default="-1", help="run folder name or path (default -1: newest run of --task)")
  add("--checkpoint", default="-1", help="iteration to run (-1: exported/, the run's newest checkpoint)")
  add("--experiment_name", help="look only in <log_root>/<experiment_name>/ (default: every experiment)")
  add("--log_root", default="logs/st_rl")
  add("--mjcf", help="robot MJCF (default: exported robot.xml, else deploy.yaml robot.mjcf_path)")
  add("--duration", type=float, default=20.0, help="seconds of simulated time")
  add(
    "--cmd", type=float, nargs=3, metavar=("VX", "VY", "WZ"),
    help="constant command (default 0.5 0 0; 0 0 0 for a policy without a velocity command)",
  )  # fmt: skip
  add("--schedule", help="YAML list of {t: seconds, cmd: [vx, vy, wz]}")
  add("--viewer", action="store_true", help="interactive viewer (needs a display)")
  add("--action-latency", type=int, default=0, help="control steps")
  add("--obs-latency", type=int, default=0, help="control steps")
  add("--noise-scale", type=float, default=0.0, help="sensor noise, x training's noise std")
  add("--friction", type=float, default=1.0, help="friction scale")
  add("--added-mass", type=float, default=0.0, help="kg added to the base")
  add("--push-interval", type=float, default=0.0, help="seconds between pushes (0: none)")
  add("--push-vel", type=float, default=0.0, help="max push velocity change, m/s")
  add("--motor-strength", type=float, default=1.0, help="scale of kp, kd and torque limits")
  add("--seed", type=int, default=0)
  add("--out", help="output folder")
  add("--no-video", action="store_true")
  add("--reference", help="a motion clip shown in the video as a translucent robot beside the policy")
  add("--reference-fps", type=float, help="frame rate of a --reference CSV (CSVs do not store it)")
  add("--keyframe", help="st_gym layout: MJCF keyframe of the default pose (default: the first)")
  add("--decimation", type=int, default=4, help="st_gym layout: physics steps per policy step")
  add("--obs-terms", help="st_gym layout: observation terms in order (name or name*scale)")
  args = parser.parse_args(argv)
  if (args.policy is None) == (args.task is None):
    parser.error("pass exactly one of --policy EXPORTED_DIR or --task TASK")
  if args.policy is not None and (args.load_run != "-1" or args.experiment_name or args.checkpoint != "-1"):
    parser.error("--load_run, --checkpoint and --experiment_name pick a run of --task, not of --policy")
  if args.cmd is not None and args.schedule is not None:
    parser.error("--cmd and --schedule exclude each other")
  return args


def has_display() -> bool:
  return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def load(args: argparse.Namespace):
  """(runtime, exported folder, MJCF path, where the MJCF came from)."""
  from legged_robots.deploy import PolicyRuntime
  from legged_robots.deploy.exported import find_exported, resolve_mjcf
  from legged_robots.deploy.stgym_layout import DEFAULT_OBS_TERMS, contract_from_stgym, is_stgym_layout

  if args.policy is not None:
    folder = Path(args.policy)
  else:
    log_root = Path(args.log_root)
    folder = find_exported(log_root, args.task, args.load_run, args.checkpoint, args.experiment_name)
  if not folder.is_dir():
    from legged_robots.deploy import MissingFileError

    raise MissingFileError(f"--policy {folder} is not a folder: pass a run's exported/ folder")
  if is_stgym_layout(folder):
    if args.mjcf is None:
      from legged_robots.deploy import DeployError

      raise DeployError(f"{folder} is in st_gym's layout (no deploy.yaml): pass the robot MJCF with --mjcf")
    mjcf = Path(args.mjcf)
    contract, notes = contract_from_stgym(
      folder, mjcf, args.keyframe, args.decimation, args.obs_terms or DEFAULT_OBS_TERMS
    )
    for note in notes:
      print(f"[sim2mujoco] st_gym layout: {note}")
    return PolicyRuntime(folder, contract), folder, mjcf, "--mjcf (st_gym layout)"
  runtime = PolicyRuntime(folder)
  mjcf, source = resolve_mjcf(folder, runtime.contract, args.mjcf)
  return runtime, folder, mjcf, source


def schedule_of(args: argparse.Namespace) -> list[tuple[float, list[float]]]:
  from legged_robots.deploy import DeployError

  if args.schedule is None:
    cmd = list(args.cmd) if args.cmd is not None else [0.5, 0.0, 0.0]
    if not all(np.isfinite(cmd)):
      raise DeployError(f"--cmd must be three finite numbers, got {cmd}")
    return [(0.0, cmd)]
  path = Path(args.schedule)
  if not path.is_file():
    raise DeployError(f"--schedule {path} does not exist")
  expected = f"--schedule {path}: expected a list of {{t: seconds, cmd: [vx, vy, wz]}} of finite numbers"
  try:
    entries = yaml.safe_load(path.read_text())
    keyed = [e for e in entries if set(e) == {"t", "cmd"}]
    schedule = sorted((float(e["t"]), [float(v) for v in e["cmd"]]) for e in keyed)
  except (yaml.YAMLError, TypeError, ValueError, KeyError) as e:
    raise DeployError(f"{expected} ({' '.join(str(e).split())})") from None
  ok = schedule and len(schedule) == len(entries) and all(len(c) == 3 for _, c in schedule)
  if not ok or not np.isfinite([[t, *c] for t, c in schedule]).all():
    raise DeployError(expected)
  return schedule


def perturbations_of(args: argparse.Namespace):
  from legged_robots.deploy.closed_loop import Perturbations, SensorNoise

  return Perturbations(
    action_latency_steps=args.action_latency,
    obs_latency_steps=args.obs_latency,
    noise=SensorNoise.training_like(args.noise_scale),
    friction_scale=args.friction,
    added_base_mass_kg=args.added_mass,
    push_interval_s=args.push_interval,
    push_max_vel=args.push_vel,
    motor_strength=args.motor_strength,
  )


def run_viewer(runtime, mjcf: Path, args: argparse.Namespace) -> int:
  """Interactive: arrows change vx/vy by 0.1, Q/E change wz; the robot is reset when it falls."""
  import mujoco.viewer

  from legged_robots.deploy.closed_loop import HEIGHT_FRACTION, TILT_LIMIT_RAD, ClosedLoop

  command = np.array(schedule_of(args)[0][1])
  keys = {
    265: (0, 0.1),
    264: (0, -0.1),
    263: (1, 0.1),
    262: (1, -0.1),
    ord("Q"): (2, 0.1),
    ord("E"): (2, -0.1),
  }

  def on_key(code: int) -> None:
    if code in keys:
      axis, delta = keys[code]
      command[axis] += delta
      print(f"[sim2mujoco] command vx={command[0]:+.1f} vy={command[1]:+.1f} wz={command[2]:+.1f}")

  loop = ClosedLoop(runtime, mjcf, perturbations_of(args), args.seed)
  with mujoco.viewer.launch_passive(loop.model, loop.data, key_callback=on_key) as viewer:
    while viewer.is_running():
      start = time.perf_counter()
      info = loop.step(command)
      if info.tilt > TILT_LIMIT_RAD or info.height < HEIGHT_FRACTION * loop.start_height:
        print(f"[sim2mujoco] fell at t={info.t:.1f} s: resetting")
        loop.reset()
      viewer.sync()
      time.sleep(max(0.0, runtime.contract.step_dt - (time.perf_counter() - start)))
  return 0


class Mp4Writer:
  """Streams RGB frames to an H.264 MP4 with the ffmpeg bundled in imageio-ffmpeg."""

  def __init__(self, path: Path, fps: float, width: int, height: int):
    import imageio_ffmpeg

    self._gen = imageio_ffmpeg.write_frames(
      str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p",  # pyright: ignore[reportArgumentType]
      macro_block_size=1, output_params=["-loglevel", "error"],
    )  # fmt: skip
    self._gen.send(None)

  def write(self, frame: np.ndarray) -> None:
    self._gen.send(np.ascontiguousarray(frame))

  def close(self) -> None:
    self._gen.close()


def plot(traces: dict[str, np.ndarray], effort: np.ndarray, path: Path, title: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(5, 1, figsize=(9, 11), sharex=True)
  t = traces["t"]
  for i, name in enumerate(("vx [m/s]", "vy [m/s]", "wz [rad/s]")):
    axes[i].plot(t, traces["command"][:, i], "--", color="tab:orange", label="commanded")
    axes[i].plot(t, traces["velocity"][:, i], color="tab:blue", label="actual (base frame)")
    axes[i].set_ylabel(name)
  axes[3].plot(t, traces["height"], color="tab:green")
  axes[3].set_ylabel("base height [m]")
  axes[4].plot(t, 100 * traces["torque"] / effort, linewidth=0.6)
  axes[4].set_ylabel("|tau| [% of limit]")
  axes[4].set_xlabel("time [s]")
  axes[0].legend(loc="upper right")
  axes[0].set_title(title)
  for ax in axes:
    ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def reference_ghost(args: argparse.Namespace, mjcf: Path):
  """The --reference clip as a translucent robot (None without the flag)."""
  if not args.reference:
    return None
  from legged_robots.deploy import DeployError
  from legged_robots.deploy.ghost import Ghost
  from refmotion_manager import MotionFormatError, RobotModel, load_motion
  from refmotion_manager.kinematics import qpos_trajectory

  path = Path(args.reference)
  if path.suffix.lower() == ".csv" and args.reference_fps is None:
    raise DeployError(
      f"--reference {path} is a CSV, which does not store its rate: pass --reference-fps (e.g. 120)"
    )
  try:
    clip = load_motion(path, fps=args.reference_fps)
    model = RobotModel.from_mjcf(mjcf)
    return Ghost(mjcf, qpos_trajectory(clip, model), clip.fps)
  except (MotionFormatError, FileNotFoundError) as e:
    raise DeployError(f"--reference: {e}") from None


def check_args(args: argparse.Namespace) -> None:
  """Values argparse cannot check, before anything is loaded or written."""
  from legged_robots.deploy import DeployError

  if not (np.isfinite(args.duration) and args.duration > 0):
    raise DeployError(f"--duration must be a finite number of seconds > 0, got {args.duration}")
  if args.decimation < 1:
    raise DeployError(f"--decimation must be at least 1, got {args.decimation}")
  if args.seed < 0:  # numpy's generators take non-negative seeds
    raise DeployError(f"--seed must be a non-negative integer, got {args.seed}")
  schedule_of(args)
  perturbations_of(args).check()


def run(args: argparse.Namespace) -> int:
  from legged_robots.deploy.closed_loop import (
    ClosedLoop,
    VideoSink,
    check_schedule,
    frame_stride,
    run_closed_loop,
    velocity_command_name,
  )
  from legged_robots.deploy.runs import tool_output_dir
  from legged_robots.deploy.visual import find_visual_mjcf

  check_args(args)
  runtime, folder, mjcf, source = load(args)
  print(f"[sim2mujoco] policy {folder} ({runtime.contract.task}); MJCF {mjcf} from {source}")
  if args.cmd is None and args.schedule is None and velocity_command_name(runtime) is None:
    args.cmd = [0.0, 0.0, 0.0]  # no velocity command to give (whole-body tracking): not 0.5 m/s
  if args.viewer:
    if has_display():
      return run_viewer(runtime, mjcf, args)
    print("[sim2mujoco] --viewer needs a display (DISPLAY/WAYLAND_DISPLAY unset): running headless instead")
  # Everything that can be wrong is found before anything is written: the simulation is
  # built once (MJCF joints and actuators, perturbations, command), the reference loaded.
  check_schedule(ClosedLoop(runtime, mjcf, perturbations_of(args), args.seed), schedule_of(args))
  ghost = None if args.no_video else reference_ghost(args, mjcf)
  out = Path(args.out) if args.out else tool_output_dir(folder, "sim2mujoco")
  out.mkdir(parents=True, exist_ok=True)
  print(f"[sim2mujoco] writing to {out}")
  writer = video = None
  if not args.no_video:
    fps = 1.0 / (frame_stride(runtime.contract.step_dt, 30.0) * runtime.contract.step_dt)
    writer = Mp4Writer(out / "video.mp4", fps, 640, 360)
    visual_mjcf, where = find_visual_mjcf(runtime.contract)
    print(f"[sim2mujoco] video: {'visual meshes from ' if visual_mjcf else ''}{where}")
    video = VideoSink(writer.write, fps, 640, 360, ghost, visual_mjcf)
  next_report = [5.0]

  def progress(info) -> None:
    if info.t + 1e-9 >= next_report[0]:
      next_report[0] += 5.0
      v, c = np.round(info.velocity, 2).tolist(), np.round(info.command, 2).tolist()
      print(f"[sim2mujoco] t={info.t:5.1f} s  v={v}  cmd={c}  height {info.height:.2f} m", flush=True)

  wall = time.perf_counter()
  try:
    result = run_closed_loop(
      runtime,
      mjcf,
      args.duration,
      schedule_of(args),
      perturbations_of(args),
      args.seed,
      video,
      progress=progress,
    )
  finally:
    if writer is not None:
      writer.close()
  wall = time.perf_counter() - wall
  m = result.metrics
  m.update(policy=str(folder), mjcf=str(mjcf), mjcf_source=source, wall_s=wall)
  m["real_time_factor"] = m["time_survived_s"] / wall if wall > 0 else None
  (out / "metrics.json").write_text(json.dumps(m, indent=2) + "\n")
  effort = np.asarray(runtime.contract.effort_limit)
  plot(
    result.traces,
    np.where(np.isfinite(effort), effort, 1.0),
    out / "plot.png",
    f"{runtime.contract.task}: sim2mujoco",
  )
  err = m["lin_vel_xy_error_mean"]
  print(
    f"[sim2mujoco] {m['status']}: {m['time_survived_s']:.1f}/{args.duration:.1f} s, xy-velocity error "
    f"{'n/a' if err is None else f'{err:.3f} m/s'}, {m['real_time_factor']:.1f}x real time -> {out}"
  )
  tracking = m["tracking"]
  if tracking is not None:
    links = tracking["link_pos_error_world_m"]
    where = (
      ""
      if links is None
      else f", links {links:.3f} m (world), {tracking['link_pos_error_root_m']:.3f} m (root)"
    )
    print(
      f"[sim2mujoco] tracking the replayed reference: joints {tracking['joint_pos_error_rad']:.3f} rad{where}"
    )
  return 0 if m["survived"] else 1


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  if "MUJOCO_GL" not in os.environ and not (args.viewer and has_display()):
    os.environ["MUJOCO_GL"] = "osmesa"  # offscreen on the CPU; set MUJOCO_GL=egl on a GPU machine
    os.environ["PYOPENGL_PLATFORM"] = "osmesa"
  from legged_robots.deploy import ContractError, DeployError, NonFiniteActionError
  from legged_robots.deploy.mujoco_sim import route_mujoco_warnings

  route_mujoco_warnings()

  try:
    return run(args)
  except NonFiniteActionError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  except (DeployError, ContractError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())
