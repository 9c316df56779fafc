"""Shared plumbing of the Isaac Lab 3 probe stages (issue 18).

Every stage script calls :func:`stage_main`: the stage's function returns a dict of findings, which
lands in ``OUT/<stage>.json`` with ``status: ok``; an exception lands there as ``status: failed``
with its type and message, and its full traceback goes to stderr (``OUT/<stage>.log`` when the
stage runs under ``probe.py``). Stage scripts run in their own process so that a crash in one
(CUDA error, segfault in a native importer) cannot take the others down.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class StageFailedError(Exception):
  """A stage that failed but still has findings to record (e.g. which imports worked)."""

  def __init__(self, message: str, findings: dict[str, Any]):
    super().__init__(message)
    self.findings = findings


def stage_parser(description: str) -> argparse.ArgumentParser:
  """An argument parser with the ``--out`` folder every stage writes its JSON into."""
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--out", type=Path, required=True, help="folder for <stage>.json")
  return parser


def parse_g1_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
  """Add the G1 stages' shared options to ``parser``, parse, and reject bad values (exit 2)."""
  parser.add_argument("--g1_xml", type=Path, required=True, help="mjlab's g1.xml (meshes in its assets/)")
  parser.add_argument("--num_envs", type=int, default=4096)
  parser.add_argument("--steps", type=int, default=200, help="timed control steps (50 Hz, 4 physics steps)")
  parser.add_argument("--device", default="cuda:0")
  args = parser.parse_args()
  if not args.g1_xml.is_file():
    bad_input(f"--g1_xml {args.g1_xml} is not a file; pass mjlab's asset_zoo/robots/unitree_g1/xmls/g1.xml")
  if args.num_envs < 1 or args.steps < 1:
    bad_input("--num_envs and --steps must be at least 1")
  return args


def write_json(path: Path, data: dict[str, Any]) -> None:
  """Write ``data`` as indented JSON (non-JSON values such as paths become strings)."""
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def stage_main(stage: str, out: Path, run: Callable[[], dict[str, Any]]) -> int:
  """Run one stage, record its findings or its exception in ``out/<stage>.json``; return the exit code."""
  start = time.monotonic()
  try:
    findings = run()
  except Exception as exc:  # the probe's job is to record any failure, whatever its type
    traceback.print_exc()
    write_json(
      out / f"{stage}.json",
      {
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "seconds": round(time.monotonic() - start, 1),
        **(exc.findings if isinstance(exc, StageFailedError) else {}),
      },
    )
    return 1
  seconds = round(time.monotonic() - start, 1)
  write_json(out / f"{stage}.json", {"status": "ok", "seconds": seconds, **findings})
  return 0


def bad_input(message: str) -> None:
  """Stop with one message and exit code 2 (the project's convention for bad input)."""
  print(f"error: {message}", file=sys.stderr)
  raise SystemExit(2)


def pelvis_height_summary(height: Any, control_dt: float, fallen_height: float) -> dict[str, Any]:
  """Summarize pelvis heights ``height`` (torch tensor, control steps x envs) [m].

  A robot has fallen at the first control step its pelvis is below ``fallen_height``; robots that
  never fall count with the whole horizon in the mean time to the first fall.
  """
  down = height < fallen_height
  steps = height.shape[0]
  first_fall = down.float().argmax(dim=0).where(down.any(dim=0), steps)
  one_second = max(1, min(steps, round(1.0 / control_dt)))
  return {
    "pelvis_height_initial_mean": round(float(height[0].mean()), 3),
    "pelvis_height_final_mean": round(float(height[-1].mean()), 3),
    "pelvis_height_min": round(float(height.min()), 3),
    "upright_fraction_first_1s": round(float((~down[:one_second]).all(dim=0).float().mean()), 4),
    "fallen_fraction_ever": round(float(down.any(dim=0).float().mean()), 4),
    "mean_time_to_first_fall_s": round(float(first_fall.float().mean()) * control_dt, 2),
  }
