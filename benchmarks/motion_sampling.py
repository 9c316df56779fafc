"""Batched reference-motion sampling throughput (interpolated frames per second).

    python benchmarks/motion_sampling.py --device cpu
    python benchmarks/motion_sampling.py --device cuda --envs 4096 --window 2 10

One call samples `envs` AMP windows of `window` frames from the shipped synthetic G1 clips
(29 joints, plus `--bodies` body states from FK); frames/s = envs * window / time per call.
Results are recorded in docs/benchmarks.md ("Motion sampling").
"""

from __future__ import annotations

import argparse
import time

import torch

from refmotion_manager import (
  MotionClip,
  MotionLibrary,
  RobotModel,
  default_g1_mjcf,
  shipped_clips,
  with_body_poses,
)

BODIES = (
  "pelvis",
  "torso_link",
  "left_ankle_roll_link",
  "right_ankle_roll_link",
  "left_wrist_yaw_link",
  "right_wrist_yaw_link",
  "left_knee_link",
  "right_knee_link",
)


def _sync(device: torch.device) -> None:
  if device.type == "cuda":
    torch.cuda.synchronize(device)


def bench(lib: MotionLibrary, envs: int, window: int, iters: int, dt: float) -> float:
  gen = torch.Generator(device=lib.device).manual_seed(0)
  ids = lib.sample_clip_ids(envs, generator=gen)
  times = lib.sample_times(ids, generator=gen)
  for _ in range(5):  # warm-up (allocator, kernels)
    lib.sample_amp_window(ids, times, window, dt)
  _sync(lib.device)
  start = time.perf_counter()
  for _ in range(iters):
    times = times + dt
    lib.sample_amp_window(ids, times, window, dt, loop=True)
  _sync(lib.device)
  return envs * window * iters / (time.perf_counter() - start)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--device", default="cpu")
  parser.add_argument("--envs", type=int, default=4096)
  parser.add_argument("--window", type=int, nargs="+", default=[2, 10])
  parser.add_argument("--bodies", type=int, default=len(BODIES), choices=range(len(BODIES) + 1))
  parser.add_argument("--iters", type=int, default=50)
  parser.add_argument("--mjcf", help="G1 MJCF (default: the one in an installed mjlab)")
  parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
  args = parser.parse_args()
  if args.threads:
    torch.set_num_threads(args.threads)

  clips = [MotionClip.load(p) for p in shipped_clips()]
  bodies = BODIES[: args.bodies]
  if bodies:
    model = RobotModel.from_mjcf(args.mjcf or default_g1_mjcf())
    clips = [with_body_poses(c, model, bodies) for c in clips]
  lib = MotionLibrary(clips, device=args.device, body_names=bodies)
  name = torch.cuda.get_device_name(lib.device) if lib.device.type == "cuda" else "cpu"
  print(
    f"device {name}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
    f"{lib.num_clips} clips, {len(lib.joint_names)} joints, {len(bodies)} bodies"
  )
  for window in args.window:
    rate = bench(lib, args.envs, window, args.iters, dt=0.02)
    print(f"envs {args.envs:6d} x window {window:3d}: {rate / 1e6:9.2f} M frames/s")


if __name__ == "__main__":
  main()
