# Isaac Lab 3 needs Python 3.12; the 3.11 dev venv cannot hold it, so pyright cannot see it.
# pyright: reportMissingImports=false
"""Check an export against Isaac Lab: the deploy runtime must see and do what training saw.

    python3 -m legged_robots_isaaclab.check_export --run logs/rsl_rl/g1_flat_stgym/<run> [--steps 40]

Steps the task's ``-Play`` env (1 env, CPU, random actions) and, at every step, rebuilds the
policy observation with st_gym's deploy runtime (``legged_robots.deploy.PolicyRuntime`` on
``<run>/exported``) from the robot state (base orientation, base-frame velocities, joints in the
contract's order, last action, command), then runs the exported ONNX on Isaac Lab's observation
and compares it with the torch policy. Needs ``exts/legged_robots`` on PYTHONPATH (its deploy
package imports numpy, yaml and onnxruntime only). Prints the largest differences; exit 1 when
either exceeds ``--tol``. Flat tasks only (the runtime needs a height scan for Rough).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from legged_robots_isaaclab import runs


def check(runtime, checkpoint: Path, task: str, steps: int) -> dict:
  """Max observation and action differences over ``steps`` of the -Play env; ``runtime`` a
  ``PolicyRuntime`` on the export."""
  import torch

  from legged_robots.deploy import RobotState

  obs_err = act_err = 0.0
  with runs.play_policy(task, checkpoint, num_envs=1, device="cpu") as (env, wrapped, runner, _):
    policy = runner.get_inference_policy("cpu")
    robot = env.scene["robot"]
    joint_ids = env.action_manager.get_term("joint_pos")._joint_ids
    generator = torch.Generator().manual_seed(0)
    obs = wrapped.get_observations()
    with torch.inference_mode():
      for _ in range(steps):
        obs, *_ = wrapped.step(0.5 * torch.randn(1, env.action_manager.total_action_dim, generator=generator))
        data = robot.data
        x, y, z, w = data.root_quat_w.torch[0].tolist()  # Isaac Lab 3 stores x, y, z, w
        state = RobotState(
          base_quat=np.array([w, x, y, z]),
          base_ang_vel=data.root_ang_vel_b.torch[0].numpy(),
          base_lin_vel=data.root_lin_vel_b.torch[0].numpy(),
          joint_pos=data.joint_pos.torch[0, joint_ids].numpy(),
          joint_vel=data.joint_vel.torch[0, joint_ids].numpy(),
        )
        runtime.last_action = env.action_manager.action[0].numpy().astype(np.float64)
        runtime.set_command("base_velocity", env.command_manager.get_command("base_velocity")[0].numpy())
        trained = obs["policy"][0].numpy()
        obs_err = max(obs_err, float(np.abs(runtime.observe(state) - trained).max()))
        act_err = max(act_err, float(np.abs(runtime.infer(trained) - policy(obs)[0].numpy()).max()))
  return {"steps": steps, "max_obs_diff": obs_err, "max_action_diff": act_err}


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
  parser.add_argument("--run", type=Path, required=True, help="logs/rsl_rl/<experiment>/<run> with exported/")
  parser.add_argument("--checkpoint", help="model_<N>.pt the export was made from (default: the latest)")
  parser.add_argument("--steps", type=int, default=40)
  parser.add_argument("--tol", type=float, default=1e-4)
  args = parser.parse_args(argv)
  try:
    checkpoint, task = runs.run_inputs(args.run, args.checkpoint)
    if not (args.run / "exported" / "deploy.yaml").is_file():
      raise runs.RunInputError(
        f"{args.run}/exported has no deploy.yaml: run legged_robots_isaaclab.export first"
      )
    if "Rough" in task:
      raise runs.RunInputError(f"{task}: the check needs the height scan in RobotState; it covers flat tasks")
    if importlib.util.find_spec("legged_robots") is None:
      raise runs.RunInputError("legged_robots is not importable: put exts/legged_robots on PYTHONPATH")
    if args.steps < 1:
      raise runs.RunInputError(f"--steps {args.steps}: pass a positive number")
    from legged_robots.deploy import ContractError, PolicyRuntime

    try:
      runtime = PolicyRuntime(args.run / "exported")
    except ContractError as e:
      raise runs.RunInputError(f"{args.run}/exported: {e}") from e
  except runs.RunInputError as e:
    print(f"[check_export] error: {e}", file=sys.stderr)
    return 2
  result = check(runtime, checkpoint, task, args.steps)
  ok = result["max_obs_diff"] <= args.tol and result["max_action_diff"] <= args.tol
  print(f"[check_export] {'ok' if ok else 'MISMATCH'} " + json.dumps(result))
  return 0 if ok else 1


if __name__ == "__main__":
  raise SystemExit(main())
