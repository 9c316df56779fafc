"""Study storage URLs for the study tests: a SQLite file, and a database on a throwaway
PostgreSQL server (Debian's binaries, which setup.sh installs; started once per session on a
free loopback port, stopped at the end)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
  found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
  return found[-1].parent if found else None


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
  """``postgresql://st_gym@127.0.0.1:<port>``: a server of its own (trust auth, loopback)."""
  bindir = _pg_bin()
  if bindir is None:
    pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin): sudo apt-get install postgresql")
  # initdb refuses to run as root: as root, the server runs as Debian's postgres user.
  as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
  root = Path(tempfile.mkdtemp(prefix="st_gym_pg_"))
  if as_user:
    pw = pwd.getpwnam("postgres")
    os.chown(root, pw.pw_uid, pw.pw_gid)
  data, port = root / "data", _free_port()
  run = dict(check=True, capture_output=True, text=True, timeout=60)
  subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "st_gym"], **run)
  opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
  ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
  subprocess.run([*ctl, "-l", str(root / "log"), "-o", opts, "-w", "start"], **run)
  try:
    yield f"postgresql://st_gym@127.0.0.1:{port}"
  finally:
    subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
    shutil.rmtree(root, ignore_errors=True)


_databases = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path) -> str:
  """A new, empty study database: a SQLite file, or a new database on the test server."""
  if request.param == "sqlite":
    return f"sqlite:///{tmp_path / 'study.db'}"
  import psycopg

  server = request.getfixturevalue("postgres_server")
  name = f"study_{os.getpid()}_{next(_databases)}"
  with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    conn.execute(f"CREATE DATABASE {name}")
  return f"{server}/{name}"
