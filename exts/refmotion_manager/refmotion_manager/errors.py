"""One exception type for every bad motion input.

A message always names the file, where in it the problem is (frame, column,
key) and what to do about it, so that a user can fix the input without
reading our source.
"""

from __future__ import annotations

from pathlib import Path


class MotionFormatError(ValueError):
  """A motion file or clip that cannot be used as it is."""

  def __init__(self, source: str | Path | None, where: str, problem: str, fix: str) -> None:
    self.source = str(source) if source is not None else "<in-memory clip>"
    self.where = where
    self.problem = problem
    self.fix = fix
    super().__init__(f"{self.source}: {where}: {problem}. Fix: {fix}")
