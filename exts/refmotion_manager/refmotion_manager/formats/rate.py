"""Frame rates in file names, and the rules that keep a clip's rate honest.

A CSV does not store its rate, so the rate is never assumed: the caller passes it, or
the file name carries it. A rate in a file name is a number followed by ``hz`` or
``fps``, or ``fps`` followed by a number, case-insensitive, optionally joined by ``_``
or ``-``: ``G1_Take_102.bvh_60hz.csv``, ``walk60Hz.csv``, ``run_120fps.npz``,
``take_fps30.pkl``, ``fps_25.csv``. Whatever the format, a rate in the name that
differs from the clip's rate (given, or stored in the file) by more than 0.1 % (names
round, e.g. 29.97) is an error, when reading and when writing.
"""

from __future__ import annotations

import re
from pathlib import Path

from refmotion_manager.errors import MotionFormatError

# "<N>hz" / "<N>fps" (N not glued to a longer number on its left) or "fps<N>".
_NAME_RATE = re.compile(
  r"(?<!\d)(?<!\d\.)(\d+(?:\.\d+)?)[_-]?(?:hz|fps)(?![a-z0-9])|fps[_-]?(\d+(?:\.\d+)?)",
  re.IGNORECASE,
)
NAME_RATE_REL_TOL = 1e-3


def rate_from_name(path: str | Path) -> float | None:
  """The rate a file name carries (``walk_60hz.csv`` -> 60.0), or None if it carries none."""
  path = Path(path)
  rates = sorted({float(a or b) for a, b in _NAME_RATE.findall(path.name)})
  if len(rates) > 1:
    found = ", ".join(f"{r:g}" for r in rates)
    raise MotionFormatError(path, "file name", f"names several rates ({found})", "rename it to name one rate")
  if rates and rates[0] <= 0:
    raise MotionFormatError(
      path, "file name", f"names a rate of {rates[0]:g}", "rename it to name the true rate"
    )
  return rates[0] if rates else None


def _agree(a: float, b: float) -> bool:
  return abs(a - b) <= NAME_RATE_REL_TOL * max(abs(a), abs(b))


def csv_rate(path: str | Path, fps: float | None) -> float:
  """The rate to read a CSV at: ``fps`` or the name's rate; neither, or both disagreeing, is an error."""
  named = rate_from_name(path)
  if fps is None and named is None:
    raise MotionFormatError(
      path,
      "frame rate",
      "a CSV does not store its rate and none was given",
      "pass its rate (fps= in Python, --input-fps on the refmotion_manager command line; e.g. 120) "
      "or name it in the file (e.g. walk_120hz.csv)",
    )
  if fps is not None and named is not None and not _agree(fps, named):
    raise MotionFormatError(
      path,
      "frame rate",
      f"the file name says {named:g} fps, but {fps:g} fps was given",
      "give the file's true rate, or rename the file if its name is wrong",
    )
  rate = fps if fps is not None else named
  assert rate is not None
  return rate


def check_name_rate(path: str | Path, fps: float, *, writing: bool = False) -> None:
  """Error if the name of a file that is read at (or written with) ``fps`` carries another rate."""
  named = rate_from_name(path)
  if named is None or _agree(fps, named):
    return
  if writing:
    problem = f"the name says {named:g} fps, but the clip is {fps:g} fps"
    fix = f"rename the output, or resample the clip first (convert --fps {named:g})"
  else:
    problem = f"the file name says {named:g} fps, but the file stores {fps:g} fps"
    fix = f"rename the file, or resample it (convert --fps {named:g})"
  raise MotionFormatError(path, "frame rate", problem, fix)


__all__ = ["NAME_RATE_REL_TOL", "check_name_rate", "csv_rate", "rate_from_name"]
