# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""Fall rate and velocity tracking of an Isaac Lab rsl_rl policy, in Isaac Lab's own env.

    python3 -m legged_robots_isaaclab.evaluate --run logs/rsl_rl/g1_flat_stgym/<run> --episodes 1000 \\
        --device cuda:0 --out metrics.json

Runs the task's ``-Play`` variant (no observation noise, no pushes, one command per episode) with
one env per episode and counts each env's first episode, with st_gym's definitions
(``legged_robots/evaluation/metrics.py``): fall_rate = episodes ended by a termination other than
the time limit / episodes; lin_vel_error = mean over live env-steps of ||v_cmd_xy - v_xy|| (base
frame, m/s); yaw_rate_error likewise |w_cmd_z - w_z|. Steps that end an episode are left out
(their state is the reset's). Issue 18 asks fall_rate <= 0.05 and lin_vel_error <= 0.25 m/s.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from legged_robots_isaaclab import runs


def evaluate(task: str, checkpoint: Path, episodes: int, device: str) -> dict:
  import torch

  with runs.play_policy(task, checkpoint, episodes, device) as (env, wrapped, runner, _):
    policy = runner.get_inference_policy(device)
    robot = env.scene["robot"]
    active = torch.ones(episodes, dtype=torch.bool, device=env.device)
    falls = torch.zeros(episodes, dtype=torch.bool, device=env.device)
    lengths = torch.zeros(episodes, device=env.device)
    lin_err = torch.zeros((), device=env.device)
    yaw_err = torch.zeros((), device=env.device)
    tracked = torch.zeros((), device=env.device)
    obs = wrapped.get_observations()
    max_steps = int(env.max_episode_length) + 2
    start = time.monotonic()
    steps = 0
    with torch.inference_mode():
      while bool(active.any()) and steps < max_steps:
        command = env.command_manager.get_command("base_velocity").clone()
        obs, _, dones, extras = wrapped.step(policy(obs))
        steps += 1
        dones = dones.bool()
        live = active & ~dones
        vel_xy = robot.data.root_lin_vel_b.torch[:, :2]
        yaw = robot.data.root_ang_vel_b.torch[:, 2]
        lin_err += torch.where(live, torch.linalg.norm(command[:, :2] - vel_xy, dim=1), 0.0).sum()
        yaw_err += torch.where(live, torch.abs(command[:, 2] - yaw), 0.0).sum()
        tracked += live.sum()
        ended = active & dones
        falls |= ended & ~extras["time_outs"].bool()
        lengths += active.float()
        active &= ~dones
    elapsed = time.monotonic() - start
    if bool(active.any()):
      raise RuntimeError(f"{int(active.sum())} episodes did not end within {max_steps} steps")
    return {
      "task": task,
      "checkpoint": str(checkpoint),
      "episodes": episodes,
      "fall_rate": float(falls.float().mean()),
      "lin_vel_error": float(lin_err / tracked),
      "yaw_rate_error": float(yaw_err / tracked),
      "episode_length_s": float(lengths.mean()) * env.step_dt,
      "env_steps_per_s": round(float(lengths.sum()) / elapsed),
      "passes_issue_18": bool(falls.float().mean() <= 0.05 and lin_err / tracked <= 0.25),
    }


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
  parser.add_argument(
    "--run", type=Path, required=True, help="logs/rsl_rl/<experiment>/<run> of isaaclab train"
  )
  parser.add_argument("--checkpoint", help="model_<N>.pt in the run (default: the latest)")
  parser.add_argument("--episodes", type=int, default=1000, help="episodes = envs, one each (default 1000)")
  parser.add_argument("--device", default="cuda:0")
  parser.add_argument("--out", type=Path, help="also write the metrics as JSON here")
  args = parser.parse_args(argv)
  try:
    checkpoint, task = runs.run_inputs(args.run, args.checkpoint)
    if args.episodes < 1:
      raise runs.RunInputError(f"--episodes {args.episodes}: pass a positive number")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
      raise runs.RunInputError(f"--device {args.device}: pass cpu, cuda or cuda:<N>")
    if args.out is not None and not args.out.parent.is_dir():
      raise runs.RunInputError(f"--out {args.out}: its folder does not exist")
  except runs.RunInputError as e:
    print(f"[evaluate] error: {e}", file=sys.stderr)
    return 2
  metrics = evaluate(task, checkpoint, args.episodes, args.device)
  print("[evaluate] " + json.dumps(metrics))
  if args.out is not None:
    args.out.write_text(json.dumps(metrics, indent=1) + "\n")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
