"""Time to walk: train a task from scratch and report the training wall-clock until the
first checkpoint that walks (fall rate <= --max-fall and mean xy-velocity tracking error
<= --max-lin-err, over one --episode-s episode in each of --eval-envs eval envs).

    python benchmarks/time_to_walk.py --task Flat-G1 --run-dir runs/ttw [--num_envs 8192] \
        [--eval-envs 1000] [--eval-every 25] [--budget-s 540] [agent.algorithm.learning_rate=...]
    python benchmarks/time_to_walk.py --runner skrl --task Flat-G1 --run-dir runs/ttw_skrl \
        [agent.agent.learning_rate=...]     # skrl's PPO (the task's skrl_ppo agent)
    python benchmarks/time_to_walk.py --runner skrl --algorithm AMP --task Amp-Flat-G1 \
        --run-dir runs/ttw_skrl_amp         # skrl's AMP agent (skrl_amp), beside st_rl's AMP-PPO

The defaults are the fastest setting measured on one H200 (docs/benchmarks.md): 8192
training envs walked in 3.5 min, against 3.7 min with 16384 and 6 min with 4096.

One invocation is one session: it stops before --budget-s of its own wall-clock with
everything saved in RUN_DIR/state.json and exits 3; run the same command again to go on
(training resumes from the newest checkpoint: model, optimizer, normalizer, iteration).
Training wall-clock = sum over sessions of the process wall-clock minus evaluation time,
so imports, env and runner creation of EVERY session count (conservative); evaluation
(eval env creation + rollouts) is measured and reported apart, like an outside observer.

Exit status: 0 a checkpoint passed within --max-wall-min (its policy is exported to
RUN_DIR/walking_policy), 1 none did, 2 bad input, 3 session budget used (run again).
Writes RUN_DIR/{state.json, results.json, time_to_walk.png, train/ (checkpoints, TensorBoard)}.

Several GPUs: one process per GPU under torchrun, --num_envs per process; the ranks train
together (gradients all-reduced, as train.py --distributed), rank 0 evaluates, keeps
state.json and decides, and the other ranks follow its decisions. Resume the same way.
    torchrun --standalone --nproc_per_node 2 benchmarks/time_to_walk.py --distributed \
        --task Flat-G1 --run-dir runs/ttw_2gpu --num_envs 8192
torchrun reports any non-zero status as its own failure: read the verdict from the last
[ttw] lines or RUN_DIR/results.json ("status": walked, not_walking or in_progress).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from legged_robots.evaluation.time_to_walk import (
  Action,
  Limits,
  RunState,
  Settings,
  format_hms,
  new_or_resumed_state,
  next_action,
)
from legged_robots.rl.cli import configure_headless_gl, configure_output, run_main

if TYPE_CHECKING:
  from legged_robots.evaluation.walk_session import Session
  from legged_robots.rl.distributed import Rank

_TORCHRUN = "torchrun --standalone --nproc_per_node N benchmarks/time_to_walk.py --distributed ..."
# The session clock starts here: torch and mjlab are imported later (in main), and counted.
_START = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  add = parser.add_argument
  add("--task", required=True, help="registered task id, e.g. Flat-G1")
  add("--run-dir", required=True, type=Path, help="folder of this run; the same one resumes it")
  add("--num_envs", type=int, default=8192, help="training envs")
  add("--eval-envs", type=int, default=1000, help="eval envs = evaluated episodes per checkpoint")
  add("--eval-every", type=int, default=25, help="learning iterations between evaluated checkpoints")
  add("--episode-s", type=float, default=20.0, help="evaluation episode length (s)")
  add("--max-fall", type=float, default=0.05, help="pass: fall rate at most this")
  add("--max-lin-err", type=float, default=0.2, help="pass: mean xy tracking error (m/s) at most this")
  add("--budget-s", type=float, default=540.0, help="wall-clock of this session (s), imports included")
  add("--max-wall-min", type=float, default=15.0, help="give up after this much training wall-clock")
  add("--max-iterations", type=int, help="give up after this many learning iterations (tests)")
  add("--device", help="cpu or cuda:N (default: cuda:0 if available, else cpu)")
  add("--seed", type=int, help="seed of env and agent (default: the agent cfg's)")
  add("--print-every", type=int, default=10, help="iterations between progress lines")
  add("--distributed", action="store_true", help="one process per GPU under torchrun (module docstring)")
  add(
    "--runner",
    choices=["st_rl", "skrl"],
    default="st_rl",
    help="learner: st_rl or skrl (the task's skrl agent)",
  )
  add(
    "--algorithm",
    choices=["PPO", "AMP"],
    default="PPO",
    help="skrl's agent: PPO or AMP (Amp-* tasks); st_rl takes AMP-PPO from an Amp-* task's agent",
  )
  add("overrides", nargs="*", help="key=value overrides of env.* / agent.*, as in train.py")
  args = parser.parse_intermixed_args(argv)
  for name in ("num_envs", "eval_envs", "eval_every", "print_every", "max_iterations"):
    value = getattr(args, name)
    if value is not None and value < 1:
      parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
  for name in ("episode_s", "budget_s", "max_wall_min", "max_lin_err"):
    if not (math.isfinite(getattr(args, name)) and getattr(args, name) > 0):
      parser.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
  if not 0 <= args.max_fall <= 1:  # NaN fails too
    parser.error(f"--max-fall is a fall rate, from 0 to 1; got {args.max_fall}")
  if args.algorithm != "PPO" and args.runner != "skrl":
    parser.error(
      "--algorithm chooses skrl's agent (with --runner skrl); st_rl trains AMP-PPO on the Amp-* tasks "
      "as their agent cfg says: drop --algorithm"
    )
  return args


def finish(run_dir: Path, state: RunState, limits: Limits, action: Action) -> int:
  """Write results, print the verdict, return the exit status."""
  from legged_robots.evaluation.walk_session import write_results

  walked = state.walked
  in_time = walked is not None and walked.train_wall_s <= limits.max_wall_s
  status = "walked" if in_time else "in_progress" if action is Action.PAUSE else "not_walking"
  path = write_results(run_dir, state, limits, status)
  counted = (
    f"{state.sessions} session(s), each one's setup counted; evaluation {format_hms(state.eval_wall_s)} not"
  )
  if walked is not None and walked.evaluation is not None:
    e = walked.evaluation
    print(
      f"[ttw] TIME TO WALK {format_hms(walked.train_wall_s)} ({walked.train_wall_s:.1f} s of training "
      f"wall-clock, {counted}) at iteration {walked.iteration}: fall rate {e.fall_rate:.1%}, "
      f"lin err {e.lin_vel_error:.3f} m/s. Policy: {run_dir / 'walking_policy'}",
      flush=True,
    )
  if action is Action.PAUSE:
    print("[ttw] session budget used, state saved: run the same command again to continue.", flush=True)
  elif not in_time:
    capped = limits.max_iterations is not None and state.train_wall_s < limits.max_wall_s
    within = (
      f"--max-iterations {limits.max_iterations}"
      if capped
      else f"{format_hms(limits.max_wall_s)} of training wall-clock"
    )
    print(
      f"[ttw] no checkpoint passed within {within} ({format_hms(state.train_wall_s)} used, {counted}).",
      flush=True,
    )
  print(f"[ttw] wrote {path}", flush=True)
  if in_time:
    return 0
  return 3 if action is Action.PAUSE else 1


def _session_class(runner: str, rank: Rank, device: str) -> type[Session]:
  """st_rl's Session or the skrl one (skrl imported once the process group is up)."""
  if runner == "skrl":
    from legged_robots.rl.skrl.distributed import import_skrl_for

    import_skrl_for(rank, device)
    from legged_robots.evaluation.skrl_walk_session import SkrlSession

    return SkrlSession
  from legged_robots.evaluation.walk_session import Session

  return Session


def main() -> int:
  args = parse_args()
  configure_headless_gl()  # before anything imports mjlab
  configure_output(verbose=False)  # Warp's banner and module lines off
  from legged_robots.rl.distributed import broadcast_object, device_for, launched_rank, report_rank
  from legged_robots.rl.task_cfg import checked_overrides, checked_run_cfgs, resolve_device

  checked_overrides(args.overrides)
  rank = launched_rank(args.distributed, _TORCHRUN)
  device = resolve_device(args.device)
  if args.distributed:
    from legged_robots.rl.distributed import init_process_group

    device = device_for(rank, args.device)
    init_process_group(rank, device)
  settings = Settings(
    task=args.task,
    num_envs=args.num_envs,
    eval_envs=args.eval_envs,
    eval_every=args.eval_every,
    episode_s=args.episode_s,
    max_fall=args.max_fall,
    max_lin_err=args.max_lin_err,
    device=device,  # rank 0's (the other ranks take rank 0's state)
    seed=args.seed,
    overrides=tuple(args.overrides),
    nproc=rank.world_size,
    runner=args.runner,
    algorithm=args.algorithm,
  )
  limits = Limits(args.budget_s, args.max_wall_min * 60.0, args.max_iterations)
  # Rank 0 reads (or starts) the run; a bad state.json stops it with exit 2, and torchrun
  # then stops the other ranks. It writes nothing.
  state = broadcast_object(new_or_resumed_state(args.run_dir, settings) if rank.is_main else None, rank)
  # the task, its skrl agent and every override's key, type and value, before anything is written
  s = settings
  checked_run_cfgs(s.task, list(s.overrides), s.runner, s.algorithm, s.num_envs)

  def decide(elapsed_s: float, progressed: bool) -> Action:
    """Rank 0's next step, on every rank."""
    return broadcast_object(next_action(state, limits, elapsed_s, progressed) if rank.is_main else None, rank)

  steps = (Action.EVALUATE, Action.TRAIN)
  action = decide(time.perf_counter() - _START, progressed=False)
  if action in steps:
    session = _session_class(state.settings.runner, rank, device)(
      args.run_dir, limits, state, args.print_every, _START, rank=rank
    )
    try:
      progressed = False
      while (action := decide(session.elapsed(), progressed)) in steps:
        if action is Action.TRAIN:
          session.train_chunk()
        elif rank.is_main:
          session.evaluate()
        progressed = True
      if rank.world_size > 1:  # equal on all ranks: they trained one policy together
        report_rank("ttw", rank, *session.runner.policy_modules())
    finally:
      session.close()
  return broadcast_object(finish(args.run_dir, state, limits, action) if rank.is_main else None, rank)


if __name__ == "__main__":
  run_main(lambda: sys.exit(main()))
