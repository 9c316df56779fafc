"""User-facing errors of the st_rl command lines.

Each one carries a message that names the problem and the fix; the scripts print it
and exit with status 2 without a traceback, before anything is written to ``logs/``.
"""


class StRlError(Exception):
  """A bad input the user can fix (flag, override, run folder, checkpoint)."""


class OverrideError(StRlError):
  """An override names an unknown key or gives a value of the wrong type."""


class CheckpointError(StRlError):
  """A checkpoint is missing, truncated, foreign, or does not fit the task."""
