"""Run script command lines as processes forked from one interpreter that has imported the
heavy stack once.

Every ``python scripts/...py`` spends ~6 s of a 2-core CPU importing torch, warp and mjlab
before it reads its arguments; a test file that runs ten of them spends a minute there.
``Launcher`` starts one Python with the tests' environment, imports ``preload`` there once and,
for every command it is given, forks a child that is its own process: the command's
``sys.argv``, the script's folder first on ``sys.path``, stdin from /dev/null, stdout and
stderr to its own files, and the script run as ``__main__`` (``runpy``), so an uncaught
exception prints its traceback and exits 1 and ``sys.exit(n)`` exits n, as under
``python script.py``. What the imports printed is copied to the start of every child's stdout
and stderr, where it would be. The script still executes all of its own imports; the preloaded
ones are found in ``sys.modules``, so use this only for scripts that import ``preload`` anyway
(never for import-boundary or import-time checks). Environment variables are read by the
preloading interpreter: commands of one launcher share its environment.

Protocol (one JSON line each way): a request is ``[[cwd, script, arg...], ...]``, run at once;
the reply is their exit statuses. Their output is ``<out>/<n>.out`` and ``<out>/<n>.err``.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import runpy
import selectors
import signal
import subprocess
import sys
import tempfile
from pathlib import Path


class Launcher:
  """One preloaded interpreter; ``run`` and ``run_all`` answer like ``subprocess.run(cmd,
  capture_output=True, text=True, timeout=...)``."""

  def __init__(self, preload: list[str], *, env: dict[str, str]):
    self._tmp = tempfile.TemporaryDirectory(prefix="preloaded_")
    self._out = Path(self._tmp.name)
    self._count = 0
    self._log = (self._out / "server.err").open("w")
    self._server = subprocess.Popen(
      [sys.executable, __file__, str(self._out), *preload],
      env=env,
      stdin=subprocess.PIPE,
      stdout=subprocess.PIPE,
      stderr=self._log,
      text=True,
      start_new_session=True,  # a timeout ends the server and its children together
    )

  def run(self, cmd: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return self.run_all([cmd], cwd=cwd, timeout=timeout)[0]

  def run_all(
    self, commands: list[list[str]], *, cwd: Path, timeout: float
  ) -> list[subprocess.CompletedProcess]:
    """``commands`` ([sys.executable, script, args...]) run at the same time."""
    assert all(cmd[0] == sys.executable for cmd in commands), "commands start with sys.executable"
    first = self._count
    self._count += len(commands)
    assert self._server.stdin is not None and self._server.stdout is not None
    self._server.stdin.write(json.dumps([[str(cwd), *cmd[1:]] for cmd in commands]) + "\n")
    self._server.stdin.flush()
    with selectors.DefaultSelector() as sel:
      sel.register(self._server.stdout, selectors.EVENT_READ)
      if not sel.select(timeout):
        self.close()
        raise subprocess.TimeoutExpired(commands[0], timeout)
    line = self._server.stdout.readline()
    if not line:
      raise RuntimeError(f"the preloading process died:\n{(self._out / 'server.err').read_text()[-3000:]}")
    codes = json.loads(line)
    return [
      subprocess.CompletedProcess(cmd, code, self._take(f"{n}.out"), self._take(f"{n}.err"))
      for n, (cmd, code) in enumerate(zip(commands, codes, strict=True), start=first)
    ]

  def _take(self, name: str) -> str:
    """A child's output file's text; the file is removed."""
    path = self._out / name
    text = path.read_text()
    path.unlink()
    return text

  @property
  def alive(self) -> bool:
    """False once closed (a timed-out command closes it) or dead."""
    return self._server.poll() is None

  def close(self) -> None:
    if self._server.poll() is None:
      os.killpg(self._server.pid, signal.SIGKILL)
      self._server.wait()
    self._log.close()
    self._tmp.cleanup()


def _redirect(fd: int, path: Path, start: bytes = b"") -> None:
  """Point ``fd`` at a new file holding ``start``."""
  target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
  os.write(target, start)
  os.dup2(target, fd)
  os.close(target)


def _become(cwd: str, argv: list[str], out: Path, n: int) -> None:
  """In the forked child: its own stdin/stdout/stderr (after the imports' output) and the
  script run as ``__main__``."""
  _redirect(0, Path(os.devnull))
  for fd, kind in ((1, "out"), (2, "err")):
    _redirect(fd, out / f"{n}.{kind}", (out / f"preload.{kind}").read_bytes())
  os.chdir(cwd)
  sys.argv = list(argv)
  sys.path[0] = str(Path(argv[0]).resolve().parent)
  runpy.run_path(argv[0], run_name="__main__")


def _serve(out: Path, preload: list[str]) -> None:
  replies = os.fdopen(os.dup(1), "w")  # fd 1 becomes the imports' output, then each child's
  requests = sys.stdin
  for fd, kind in ((1, "out"), (2, "err")):
    _redirect(fd, out / f"preload.{kind}")
  # The gc module's recipe for fork without exec: with the imported objects frozen, a child's
  # collections and its exit leave the parent's pages alone (its exit took 2.5 s, not 0.4 s).
  gc.disable()
  for name in preload:
    importlib.import_module(name)
  gc.freeze()
  sys.stdout.flush()
  sys.stderr.flush()
  n = 0
  for line in requests:
    children = {}
    for cwd, *argv in json.loads(line):
      pid = os.fork()
      if pid == 0:
        gc.enable()
        replies.close()
        # Whatever the script raises propagates from here: the interpreter prints it and
        # exits 1 (SystemExit: its code), as at the top of ``python script.py``.
        _become(cwd, argv, out, n)
        sys.exit(0)
      children[pid] = len(children)
      n += 1
    codes = [0] * len(children)
    for pid, i in children.items():
      codes[i] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    replies.write(json.dumps(codes) + "\n")
    replies.flush()


if __name__ == "__main__":
  _serve(Path(sys.argv[1]), sys.argv[2:])
