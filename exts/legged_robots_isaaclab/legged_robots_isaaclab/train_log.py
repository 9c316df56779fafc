"""Throughput and progress of an ``isaaclab train --rl_library rsl_rl`` run, from its console log.

    python3 -m legged_robots_isaaclab.train_log TRAIN_LOG NUM_ENVS [--out summary.json]

rsl_rl prints per iteration ``Learning iteration i/n``, ``Collection time: Xs``, ``Learning time:
Ys``, ``Mean reward``, ``Mean episode length``. Env-steps/s of the simulation (what st_gym's
throughput tables report) = num_envs * steps_per_env / collection time; of the whole loop =
num_envs * steps_per_env / (collection + learning). Medians skip the first iterations (kernel
compilation, CUDA graph capture). Pure Python: tested on the 3.11 CI.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FIELDS = {
  "collection_s": re.compile(r"Collection time:\s*([0-9.]+)s"),
  "learning_s": re.compile(r"Learning time:\s*([0-9.]+)s"),
  "mean_reward": re.compile(r"Mean reward:\s*(-?[0-9.]+)"),
  "mean_episode_length": re.compile(r"Mean episode length:\s*([0-9.]+)"),
}
_ITERATION = re.compile(r"Learning iteration\s+(\d+)/(\d+)")


def iterations(text: str) -> list[dict[str, float]]:
  """One dict per logged iteration: its number and the fields above it found in its block."""
  rows: list[dict[str, float]] = []
  for line in _ANSI.sub("", text).splitlines():
    match = _ITERATION.search(line)
    if match:
      rows.append({"iteration": int(match.group(1))})
      continue
    for key, pattern in _FIELDS.items():
      found = pattern.search(line)
      if found and rows:
        rows[-1][key] = float(found.group(1))
  return rows


def summary(text: str, num_envs: int, steps_per_env: int = 24, skip: int = 5) -> dict:
  """Iterations done, median env-steps/s (sim only and whole loop) after ``skip``, last reward."""
  rows = [r for r in iterations(text) if "collection_s" in r and "learning_s" in r]
  if not rows:
    raise ValueError("no complete rsl_rl iteration in the log")
  steady = rows[skip:] or rows
  batch = num_envs * steps_per_env
  last = rows[-1]
  return {
    "iterations": len(rows),
    "last_iteration": int(last["iteration"]),
    "env_steps_per_s_collection": round(statistics.median(batch / r["collection_s"] for r in steady)),
    "env_steps_per_s_total": round(
      statistics.median(batch / (r["collection_s"] + r["learning_s"]) for r in steady)
    ),
    "median_over_iterations": len(steady),
    "last_mean_reward": last.get("mean_reward"),
    "last_mean_episode_length": last.get("mean_episode_length"),
  }


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
  parser.add_argument("log", type=Path)
  parser.add_argument("num_envs", type=int)
  parser.add_argument("--out", type=Path)
  args = parser.parse_args(argv)
  if not args.log.is_file() or args.num_envs < 1:
    print(f"[train_log] error: need an existing log file and num_envs >= 1 (got {args.log}, {args.num_envs})")
    return 2
  try:
    result = summary(args.log.read_text(errors="replace"), args.num_envs)
  except ValueError as e:
    print(f"[train_log] error: {args.log}: {e}", file=sys.stderr)
    return 1
  print(json.dumps(result))
  if args.out is not None:
    args.out.write_text(json.dumps(result, indent=1) + "\n")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
