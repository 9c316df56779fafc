"""./run.sh's own command line: help in the spellings users type, one-line errors for the rest.

All of these answer before run.sh looks for .venv or a device, so they start nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_sh(*args: str) -> subprocess.CompletedProcess:
  return subprocess.run([str(ROOT / "run.sh"), *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


HELPS = [["-h"], ["--help"], ["help"], ["play", "--help"], ["-n", "Flat-G1", "--help"]]


@pytest.mark.parametrize("args", HELPS)
def test_help_in_every_spelling(args):
  done = _run_sh(*args)
  assert done.returncode == 0, done.stderr
  assert done.stdout.startswith("Usage: ./run.sh [MODE]") and done.stderr == ""


@pytest.mark.parametrize(
  ("args", "says"),
  [
    (["--task=Flat-G1"], "unknown option '--task=Flat-G1': run.sh spells it -n TASK"),
    (["play", "--load_run", "x"], "unknown option '--load_run': run.sh spells it -l LOAD_RUN"),
    (["--sim_device", "cpu"], "unknown option '--sim_device': run.sh spells it -d DEVICE"),
    (["--num_envs", "4"], "unknown option '--num_envs' (see ./run.sh -h); the script's own options go"),
    (["-x"], "unknown option -x"),
    (["-n"], "option -n needs a value"),
    (["-r", "rllib"], "unknown runner 'rllib'"),
    (["dance"], "unknown mode 'dance'"),
  ],
)
def test_bad_command_lines_are_one_line_and_exit_2(args, says):
  done = _run_sh(*args)
  assert done.returncode == 2
  assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
  assert done.stdout == ""
