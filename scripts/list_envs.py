"""List st_gym's registered tasks: robot, terrain, observation and action sizes, agents.

Usage: python scripts/list_envs.py [--keyword G1] [--sizes]

Observation and action sizes need a 1-env CPU build of each task (~2 s each): they are
computed with --sizes only. The table is cached in $XDG_CACHE_HOME/st_gym/task_list.json
(default ~/.cache), keyed by the task sources and the installed mjlab/mujoco versions: a
later call answers from it without importing mjlab, with the sizes once --sizes ran.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

HEADER = ["Task", "Robot", "Terrain", "Obs actor", "Obs critic", "Actions", "Agents"]
SOURCES = Path(__file__).resolve().parents[1] / "exts" / "legged_robots" / "legged_robots"


def cache_path() -> Path:
  return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "st_gym" / "task_list.json"


def cache_key() -> str:
  """Hash of what the table depends on: task and asset sources, installed versions."""
  digest = hashlib.sha256()
  for path in sorted(p for sub in ("tasks", "assets") for p in (SOURCES / sub).rglob("*")):
    if path.is_file() and path.suffix in (".py", ".yaml", ".xml"):
      digest.update(str(path.relative_to(SOURCES)).encode() + path.read_bytes())
  for dist in ("mjlab", "mujoco", "mujoco-warp", "skrl"):
    with contextlib.suppress(metadata.PackageNotFoundError):
      digest.update(f"{dist}=={metadata.version(dist)}".encode())
  return digest.hexdigest()


def read_cache(key: str) -> dict[str, list]:
  with contextlib.suppress(OSError, ValueError):
    data = json.loads(cache_path().read_text())
    if isinstance(data, dict) and data.get("key") == key:
      return data["rows"]
  return {}


def write_cache(key: str, rows: dict[str, list]) -> None:
  path = cache_path()
  with contextlib.suppress(OSError):  # a read-only home only costs the next call its speed
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"key": key, "rows": rows}))
    os.replace(tmp, path)


def task_rows(rows: dict[str, list], build: Callable[[str], bool]) -> dict[str, list]:
  """Rows of every registered task (cached sizes kept); sizes built where build(task)."""
  os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
  os.environ.setdefault("MJLAB_WARP_QUIET", "1")
  from legged_robots.tasks import task_ids, task_info
  from legged_robots.tasks.registry import skrl_agents
  from legged_robots.tasks.summary import summarize_task

  fresh = {}
  for tid in task_ids():
    info = task_info(tid)
    agents = sorted(info.agents) + sorted(skrl_agents(tid))
    sizes = rows.get(tid, [None] * 6)[2:5]
    if build(tid):
      print(f"building {tid} (1 env, cpu) ...", file=sys.stderr, flush=True)
      s = summarize_task(tid)
      sizes = [s.obs_sizes["actor"], s.obs_sizes["critic"], s.action_size]
    fresh[tid] = [info.robot, info.terrain, *sizes, ", ".join(agents)]
  return fresh


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--keyword", default=None, help="only tasks whose id contains this (case-insensitive)")
  parser.add_argument("--sizes", action="store_true", help="build each listed task (~2 s each) for its sizes")
  parser.add_argument("--no-sizes", action="store_true", help=argparse.SUPPRESS)  # the default now
  args = parser.parse_args(argv)

  key = cache_key()
  rows = read_cache(key)
  match = lambda tid: args.keyword is None or args.keyword.lower() in tid.lower()  # noqa: E731
  if not rows or args.sizes:
    rows = task_rows(rows, lambda tid: args.sizes and match(tid))
    write_cache(key, rows)
  ids = sorted(t for t in rows if match(t))
  if not ids:
    print(f"No task id contains '{args.keyword}'. Tasks: {', '.join(sorted(rows))}", file=sys.stderr)
    return 2

  from prettytable import PrettyTable

  table = PrettyTable(HEADER)
  table.title = "st_gym tasks"
  table.align = "l"
  for tid in ids:
    table.add_row([tid, *("-" if v is None else v for v in rows[tid])])
  print(table)
  if any(rows[t][2] is None for t in ids):
    print("sizes: --sizes builds each task once (~2 s each); they are cached", file=sys.stderr)
  return 0


if __name__ == "__main__":
  sys.exit(main())
