"""List st_gym's registered tasks: robot, terrain, observation and action sizes, agents.

Usage: python scripts/list_envs.py [--keyword G1] [--no-sizes]
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--keyword", default=None, help="only tasks whose id contains this (case-insensitive)")
  parser.add_argument(
    "--no-sizes", action="store_true", help="skip building each env (sizes need a 1-env CPU build, ~2 s each)"
  )
  args = parser.parse_args(argv)
  os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
  os.environ.setdefault("MJLAB_WARP_QUIET", "1")

  from prettytable import PrettyTable

  from legged_robots.tasks import task_ids, task_info
  from legged_robots.tasks.summary import summarize_task

  ids = [t for t in task_ids() if args.keyword is None or args.keyword.lower() in t.lower()]
  if not ids:
    print(f"No task id contains '{args.keyword}'. Tasks: {', '.join(task_ids())}", file=sys.stderr)
    return 1
  table = PrettyTable(["Task", "Robot", "Terrain", "Obs actor", "Obs critic", "Actions", "Agents"])
  table.title = "st_gym tasks"
  table.align = "l"
  for tid in ids:
    if args.no_sizes:
      info = task_info(tid)
      table.add_row([tid, info.robot, info.terrain, "-", "-", "-", ", ".join(sorted(info.agents))])
      continue
    print(f"building {tid} (1 env, cpu) ...", file=sys.stderr, flush=True)
    s = summarize_task(tid)
    table.add_row(
      [
        tid,
        s.robot,
        s.terrain,
        s.obs_sizes["actor"],
        s.obs_sizes["critic"],
        s.action_size,
        ", ".join(s.agents),
      ]
    )
  print(table)
  return 0


if __name__ == "__main__":
  sys.exit(main())
