"""export / evaluate / check_export answer bad input with one line on stderr and exit 2, before
any Isaac Lab import (these checks run on the 3.11 CI)."""

from __future__ import annotations

import json

import pytest
from legged_robots_isaaclab import check_export, evaluate, export

CLIS = {"export": export.main, "evaluate": evaluate.main, "check_export": check_export.main}


@pytest.fixture
def run(tmp_path, monkeypatch):
  """A run folder with a task and a checkpoint (and an export), mjlab's g1.xml path set."""
  xml = tmp_path / "g1.xml"
  xml.write_text("<mujoco/>")
  monkeypatch.setenv("STGYM_G1_XML", str(xml))
  folder = tmp_path / "run"
  (folder / "exported").mkdir(parents=True)
  (folder / "run.json").write_text(json.dumps({"task": "Isaac-Flat-G1-StGym"}))
  (folder / "model_3.pt").write_bytes(b"")
  (folder / "exported" / "deploy.yaml").write_text("not a mapping\n")
  return folder


def _bad(cli, argv, capsys, match):
  assert CLIS[cli](argv) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and match in err, err


@pytest.mark.parametrize("cli", list(CLIS))
def test_every_cli_rejects_a_bad_run(cli, run, tmp_path, monkeypatch, capsys):
  _bad(cli, ["--run", str(tmp_path / "none")], capsys, "is not a folder")
  _bad(cli, ["--run", str(run), "--checkpoint", "model_9.pt"], capsys, "--checkpoint model_9.pt")
  (run / "run.json").write_text(json.dumps({"task": "Isaac-Velocity-Flat-Anymal-C"}))
  _bad(cli, ["--run", str(run)], capsys, "known:")
  (run / "run.json").unlink()
  _bad(cli, ["--run", str(run)], capsys, "cannot read the task")
  (run / "run.json").write_text(json.dumps({"task": "Isaac-Flat-G1-StGym"}))
  monkeypatch.delenv("STGYM_G1_XML")
  _bad(cli, ["--run", str(run)], capsys, "$STGYM_G1_XML")


def test_evaluate_rejects_bad_numbers_device_and_out(run, tmp_path, capsys):
  _bad("evaluate", ["--run", str(run), "--episodes", "0"], capsys, "--episodes 0")
  _bad("evaluate", ["--run", str(run), "--device", "gpu"], capsys, "--device gpu")
  _bad("evaluate", ["--run", str(run), "--out", str(tmp_path / "no" / "m.json")], capsys, "--out")


def test_check_export_rejects_a_missing_or_broken_export(run, capsys):
  _bad("check_export", ["--run", str(run), "--steps", "0"], capsys, "--steps 0")
  _bad("check_export", ["--run", str(run)], capsys, "is not a YAML mapping")
  (run / "run.json").write_text(json.dumps({"task": "Isaac-Rough-G1-StGym"}))
  _bad("check_export", ["--run", str(run)], capsys, "covers flat tasks")
  (run / "exported" / "deploy.yaml").unlink()
  _bad("check_export", ["--run", str(run)], capsys, "run legged_robots_isaaclab.export first")
