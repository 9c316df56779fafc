"""Errors in a task's configuration that show only when its env is built."""

from __future__ import annotations


class TermCfgError(ValueError):
  """A term's parameters do not fit the task: a joint group that matches no joint, a link
  the motion library does not serve, a command of the wrong kind. The message names the
  parameter and the fix; the command lines report it as bad input (exit status 2)."""
