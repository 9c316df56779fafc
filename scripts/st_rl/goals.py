"""Ship a mimic/tracking policy without its goal tables; rebuild them from your copy of the clip.

    python scripts/st_rl/goals.py strip logs/st_rl/<exp>/<run>/exported --out policies/<name> [--clips F...]
    python scripts/st_rl/goals.py attach policies/<name> --clips PATH... --out DIR

strip copies the exported folder without its ``*_goals.npz`` (derived from the training clip)
and writes goals_source.yaml: the task, the run's env.motion settings (read from
``<run>/params/env.yaml``), the sha256 of every clip and a fingerprint of every table.
``--clips`` finds clip files whose recorded paths are not on this machine (by basename).
attach finds each clip among ``--clips`` (files or folders) by sha256, rebuilds the tables
on CPU with the exporter's code and checks them against the fingerprint; the folder at
--out then runs in sim2mujoco.py. See docs/mimic.md.
Exit status: 0 written, 1 the rebuilt tables differ from the recorded ones (nothing
written), 2 bad input (no tables to strip, a missing or altered clip, an existing --out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from legged_robots.rl.cli import configure_headless_gl, configure_output, run_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest="command", required=True)
  strip = commands.add_parser("strip", help="copy an exported folder without its goal tables")
  strip.add_argument("exported", type=Path, help="a run's exported/ folder (its params/ beside it)")
  strip.add_argument("--out", type=Path, required=True, help="new folder to write")
  strip.add_argument("--clips", type=Path, nargs="+", default=[], help="clip files or folders (by basename)")
  attach = commands.add_parser("attach", help="rebuild the goal tables of a stripped folder")
  attach.add_argument("stripped", type=Path, help="a folder written by strip")
  attach.add_argument(
    "--clips", type=Path, nargs="+", required=True, help="clip files or folders (by sha256)"
  )
  attach.add_argument("--out", type=Path, required=True, help="new folder to write")
  return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
  args = parse_args(argv)
  configure_headless_gl()  # before anything imports mjlab
  configure_output(verbose=False)  # Warp's banner and module lines off
  from legged_robots.rl import goal_tables

  if args.command == "strip":
    source = goal_tables.strip_goal_tables(args.exported, args.out, args.clips)
    for table in source["tables"]:
      print(f"[goals] removed {table['file']} {tuple(table['shape'])}")
    for clip in source["clips"]:
      print(f"[goals] clip {clip['file']} sha256 {clip['sha256']}")
    print(f"[goals] wrote {args.out} with {goal_tables.GOALS_SOURCE}")
    return
  try:
    checks = goal_tables.attach_goal_tables(args.stripped, args.clips, args.out)
  except goal_tables.GoalTableMismatchError as e:
    print(f"error: {e}; nothing written", file=sys.stderr)
    sys.exit(1)
  for check in checks:
    print(f"[goals] wrote {args.out / check.file} {check.shape}: {check.verdict()}")


if __name__ == "__main__":
  run_main(main)
