"""Tracking-Flat-G1 against mjlab's Mjlab-Tracking-Flat-Unitree-G1 on one clip: the same env
count, seed and training wall-clock, scored by one metric code (docs/mimic.md, "Side by
side with mjlab's tracking task").

    python benchmarks/tracking_vs_mjlab.py prepare --csv CLIP.csv --fps 60 --out logs/tvm/take102
    python benchmarks/tracking_vs_mjlab.py train --side st_gym --prepared logs/tvm/take102 \
        --run-dir logs/tvm/take102_st_gym --num_envs 4096 --budget-min 15 --session-s 540 [--device cuda:0]
    python benchmarks/tracking_vs_mjlab.py train --side mjlab ...   # the same flags, its own run dir
    python benchmarks/tracking_vs_mjlab.py eval --run-dir logs/tvm/take102_st_gym --episodes 1000
    python benchmarks/tracking_vs_mjlab.py compare logs/tvm/take102_st_gym logs/tvm/take102_mjlab

prepare: mjlab's CSV -> npz conversion (its csv_to_npz code without the wandb upload) into
OUT/motion.npz, and a check that our motion library reads the CSV to the same frames
(OUT/prepare.json). Our side reads the CSV itself; mjlab's side reads OUT/motion.npz.

train: one invocation is one session. Training wall-clock = sum over sessions of the
process wall-clock (imports, env and runner creation of every session counted); a
session stops before --session-s with a checkpoint and state.json saved and exits 3: run
the same command again. Exit 0 once --budget-min is used (the final checkpoint written).
A resume with other settings, or bad input, is exit 2.

eval: the final checkpoint in its own task's play-like env (no observation noise, no
pushes), start times uniform over the clip's control steps on both sides, an episode
window of --episode-s or up to the clip's end; success and body-position errors by
evaluation/tracking_metric.py (BeyondMimic's failure conditions, computed from body poses).
Writes RUN_DIR/eval.json.

compare: the table (success rate, body-position errors, iterations and env-steps in the
budget) as text, and as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from legged_robots.evaluation.tracking_compare import (
  EVAL_FILE,
  PREPARE_FILE,
  SIDES,
  STATE_FILE,
  Action,
  Limits,
  Settings,
  comparison,
  comparison_text,
  format_hms,
  load_state,
  new_or_resumed_state,
  plan_chunk,
  prepared,
  save_state,
)
from legged_robots.rl.cli import configure_headless_gl, configure_output, run_main
from legged_robots.rl.errors import StRlError

# The session clock starts here: torch and mjlab are imported later (in main), and counted.
_START = time.perf_counter()


def _positive(kind):
  def parse(text: str):
    value = kind(text)
    if value <= 0:
      raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value

  return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  sub = parser.add_subparsers(dest="command", required=True)
  prep = sub.add_parser("prepare", help="convert the clip for mjlab and check both sides read it alike")
  prep.add_argument(
    "--csv", required=True, type=Path, help="LAFAN1-style G1 CSV (root xyz, quat xyzw, 29 joints)"
  )
  prep.add_argument("--fps", required=True, type=_positive(float), help="the CSV's frame rate")
  prep.add_argument("--out", required=True, type=Path, help="folder for motion.npz and prepare.json")
  prep.add_argument("--device", help="cpu or cuda:N (default: cuda:0 if available)")
  train = sub.add_parser("train", help="one training session of one side")
  train.add_argument("--side", required=True, choices=SIDES)
  train.add_argument("--prepared", required=True, type=Path, help="the prepare --out folder")
  train.add_argument("--run-dir", required=True, type=Path, help="this run's folder; the same one resumes it")
  train.add_argument("--num_envs", type=_positive(int), default=4096)
  train.add_argument("--seed", type=int, default=42, help="seed of env and agent (the same on both sides)")
  train.add_argument(
    "--budget-min", type=_positive(float), default=15.0, help="training wall-clock of the run"
  )
  train.add_argument(
    "--session-s", type=_positive(float), default=540.0, help="wall-clock of this session (s)"
  )
  train.add_argument("--chunk", type=_positive(int), default=25, help="iterations per runner call")
  train.add_argument("--max-iterations", type=_positive(int), help="stop after this many iterations (tests)")
  train.add_argument("--device", help="cpu or cuda:N (default: cuda:0 if available)")
  ev = sub.add_parser("eval", help="score the run's final checkpoint")
  ev.add_argument("--run-dir", required=True, type=Path)
  ev.add_argument("--episodes", type=_positive(int), default=1000, help="eval envs = scored episodes")
  ev.add_argument("--episode-s", type=_positive(float), default=10.0, help="episode window cap (s)")
  ev.add_argument("--device", help="cpu or cuda:N (default: cuda:0 if available)")
  cmp = sub.add_parser("compare", help="the table of evaluated runs")
  cmp.add_argument("run_dirs", nargs="+", type=Path)
  cmp.add_argument("--out", type=Path, help="also write the table as JSON here")
  return parser.parse_args(argv)


def check_inputs(args: argparse.Namespace) -> None:
  """The files a command reads exist (checked before torch and mjlab are imported)."""
  if args.command == "prepare" and (not args.csv.is_file() or args.csv.suffix.lower() != ".csv"):
    raise StRlError(
      f"--csv {args.csv}: no such CSV file; give a G1 motion CSV (root xyz, quat xyzw, 29 joints)"
    )
  if args.command == "train":
    prepared(args.prepared)
  if args.command == "eval":
    if not (args.run_dir / STATE_FILE).is_file():
      raise StRlError(
        f"{args.run_dir / STATE_FILE} does not exist: --run-dir must be a folder that `train` wrote"
      )
    state = load_state(args.run_dir / STATE_FILE)
    if not state.finished or state.checkpoint is None:
      raise StRlError(
        f"{args.run_dir}: training is not finished; run its `train` command again until it exits 0"
      )
    if not (args.run_dir / state.checkpoint).is_file():
      raise StRlError(f"{args.run_dir / state.checkpoint} is missing: restore it or train a new run")
    prepared(Path(state.settings.prepared))


def prepare(args: argparse.Namespace, device: str) -> int:
  csv = args.csv.resolve()
  from legged_robots.evaluation.tracking_sides import compare_with_ours, convert_with_mjlab
  from refmotion_manager import load_motion

  load_motion(csv, fps=args.fps)  # a malformed CSV or a rate its name contradicts stops here
  out = args.out.resolve()
  conversion = convert_with_mjlab(csv, args.fps, out, device)
  check = compare_with_ours(csv, args.fps, out / "motion.npz", device)
  if (out / csv.name).resolve() != csv:
    shutil.copyfile(csv, out / csv.name)  # the folder holds both sides' clip files
  info = {
    "csv": csv.name,
    "source_csv": str(csv),
    "fps": args.fps,
    "npz": "motion.npz",
    "mjlab": conversion,
    "check": check,
  }
  (out / PREPARE_FILE).write_text(json.dumps(info, indent=1) + "\n")
  print(
    f"[prepare] mjlab: {conversion['frames']} frames at 50 Hz from {conversion['input_frames']} CSV frames; "
    f"st_gym: {check['st_gym_duration_s']:.3f} s, last scored step {check['st_gym_last_step']} "
    f"(mjlab {check['mjlab_last_step']}); body positions differ by "
    f"{check['mean_body_pos_diff_m'] * 1000:.2f} mm on average, {check['max_body_pos_diff_m'] * 1000:.2f} mm "
    f"at most. Wrote {out / PREPARE_FILE}",
    flush=True,
  )
  return 0


def train(args: argparse.Namespace, device: str) -> int:
  from legged_robots.evaluation.tracking_sides import Trainer

  settings = Settings(
    side=args.side,
    prepared=str(args.prepared),
    num_envs=args.num_envs,
    seed=args.seed,
    budget_s=args.budget_min * 60.0,
    chunk=args.chunk,
  )
  limits = Limits(args.session_s, args.max_iterations)
  run_dir = args.run_dir
  state = new_or_resumed_state(run_dir, settings)
  base = state.train_wall_s

  def elapsed() -> float:
    return time.perf_counter() - _START

  # Would a chunk still start once this session is set up (taking as long as the last one)?
  setup_s = max(elapsed(), state.sessions[-1]["setup_s"] if state.sessions else 0.0)
  action, _ = plan_chunk(state, limits, base + setup_s, setup_s, progressed=False)
  if action is Action.DONE or state.finished:
    return finish(run_dir, state, done=True)
  run_dir.mkdir(parents=True, exist_ok=True)
  checkpoint = run_dir / state.checkpoint if state.checkpoint else None
  trainer = Trainer(settings, run_dir, device, checkpoint)
  state.sessions.append({"setup_s": elapsed(), "device": device, "iterations": 0})
  state.train_wall_s = base + elapsed()
  save_state(state, run_dir)  # a session killed mid-chunk still counts its setup
  print(
    f"[train] {args.side} session {len(state.sessions)}: setup took {elapsed():.1f} s (counted)", flush=True
  )
  try:
    progressed = False
    while (plan := plan_chunk(state, limits, base + elapsed(), elapsed(), progressed))[0] is Action.TRAIN:
      its = plan[1]
      t0 = time.perf_counter()
      last = trainer.learn(its, first=not progressed)
      state.s_per_iter = (time.perf_counter() - t0) / its
      state.iterations += its
      state.env_steps += its * trainer.steps_per_iter
      state.sessions[-1]["iterations"] += its
      state.checkpoint = str(Path("train", f"model_{last}.pt"))
      state.train_wall_s = base + elapsed()
      save_state(state, run_dir)
      for old in (run_dir / "train").glob("model_*.pt"):  # the newest is all a resume needs
        if old.name != Path(state.checkpoint).name:
          old.unlink()
      progressed = True
      print(
        f"[train] it {last} | {trainer.steps_per_iter / state.s_per_iter:.0f} env-steps/s | "
        f"training wall-clock {format_hms(state.train_wall_s)} of {format_hms(settings.budget_s)}",
        flush=True,
      )
    action = plan[0]
  finally:
    trainer.close()
  state.train_wall_s = base + elapsed()
  return finish(run_dir, state, done=action is Action.DONE)


def finish(run_dir: Path, state, done: bool) -> int:
  state.finished = state.finished or done
  save_state(state, run_dir)
  if not state.finished:
    print("[train] session budget used, state saved: run the same command again to continue.", flush=True)
    return 3
  print(
    f"[train] {state.settings.side} done: {state.iterations} iterations, {state.env_steps:,} env-steps in "
    f"{format_hms(state.train_wall_s)} of training wall-clock ({len(state.sessions)} sessions). "
    f"Final checkpoint {run_dir / str(state.checkpoint)}",
    flush=True,
  )
  return 0


def evaluate(args: argparse.Namespace, device: str) -> int:
  from legged_robots.evaluation.tracking_sides import EvalSide

  state = load_state(args.run_dir / STATE_FILE)  # finished, with its checkpoint (check_inputs)
  assert state.checkpoint is not None
  t0 = time.perf_counter()
  side = EvalSide(state.settings, args.run_dir / state.checkpoint, args.episodes, device)
  try:
    result = side.run(args.episode_s)
  finally:
    side.close()
  result.update(
    side=state.settings.side,
    checkpoint=state.checkpoint,
    episode_s=args.episode_s,
    eval_s=time.perf_counter() - t0,
  )
  (args.run_dir / EVAL_FILE).write_text(json.dumps(result, indent=1) + "\n")
  print(
    f"[eval] {state.settings.side}: success {result['success_rate']:.1%} over {result['episodes']} episodes, "
    f"body pos error {result['body_pos_error_anchored_m']:.4f} m anchored, "
    f"{result['body_pos_error_world_m']:.4f} m world. Wrote {args.run_dir / EVAL_FILE}",
    flush=True,
  )
  return 0


def compare(args: argparse.Namespace) -> int:
  table = comparison(args.run_dirs)
  print(comparison_text(table), flush=True)
  if args.out is not None:
    try:
      args.out.parent.mkdir(parents=True, exist_ok=True)
      args.out.write_text(json.dumps(table, indent=1) + "\n")
    except OSError as e:
      raise StRlError(f"cannot write --out {args.out} ({type(e).__name__}: {e.strerror})") from None
    print(f"[compare] wrote {args.out}", flush=True)
  return 0


def main() -> int:
  args = parse_args()
  if args.command == "compare":
    return compare(args)
  check_inputs(args)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(verbose=False)  # Warp's banner and module lines off
  from legged_robots.rl.task_cfg import resolve_device

  device = resolve_device(args.device)
  return {"prepare": prepare, "train": train, "eval": evaluate}[args.command](args, device)


if __name__ == "__main__":
  run_main(lambda: sys.exit(main()))
