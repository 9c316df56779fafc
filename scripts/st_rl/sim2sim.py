"""Sim-to-sim parity check: the training env vs the deploy runtime on the same states.

    python scripts/st_rl/sim2sim.py --task Flat-G1 --policy logs/st_rl/<exp>/<run>/exported
    python scripts/st_rl/sim2sim.py --task Flat-G1 --load_run -1 --checkpoint -1 [--log_root logs/st_rl]

Compares every observation term, action, joint target and PD gain over --num_states
states of a rollout (CPU), prints the tables, the verdict and the diagnosed causes (joint
order, default pose, scale, frame, gain, timing); see docs/sim2sim.md.
Exit status: 0 parity holds (max |diff| <= --tol), 1 a mismatch was found, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from legged_robots.rl.cli import configure_headless_gl, configure_output, run_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
    argument_default=argparse.SUPPRESS,
  )
  add = parser.add_argument
  add("--task", required=True, help="registered task id the policy was trained on, e.g. Flat-G1")
  add("--policy", help="exported folder holding policy.onnx and deploy.yaml")
  add("--load_run", help="run folder name or path; -1 = newest run with a checkpoint")
  add("--checkpoint", help="iteration, file name or path; -1 = newest (default)")
  add("--experiment_name", help="logs/st_rl/<experiment_name>/ (default: the agent cfg's)")
  add("--log_root", help="root folder of the logs (default logs/st_rl)")
  add("--num_states", type=int, help="states to compare (default 200)")
  add("--num_envs", type=int, help="parallel envs of the rollout (default 4)")
  add("--seed", type=int, help="seed of the rollout (default 0)")
  add("--tol", type=float, help="max |diff| that still passes (default 1e-5)")
  add("--out", help="write the full report as JSON to this file")
  return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
  args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(verbose=False)  # Warp's banner and module lines off
  from legged_robots.sim2sim.check import Sim2SimOptions, run_sim2sim

  report = run_sim2sim(Sim2SimOptions(**vars(args)))
  print(report.summary(), flush=True)
  sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
  run_main(main)
