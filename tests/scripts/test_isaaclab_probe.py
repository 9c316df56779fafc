"""benchmarks/isaaclab_probe (issue 18): the probe's own arithmetic and log parsing, the stage
wrapper's failure records, and bad input. Isaac Lab itself needs Python 3.12 and runs only on
the GPU machine; nothing here imports it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
import torch
from test_st_rl_scripts import ROOT  # same folder (pytest puts it on sys.path)

PROBE = ROOT / "benchmarks" / "isaaclab_probe"
sys.path.insert(0, str(PROBE))  # probe.py imports probe_common as its sibling, as when run as a script


def _load(name: str):
  spec = importlib.util.spec_from_file_location(name, PROBE / f"{name}.py")
  assert spec is not None and spec.loader is not None
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


probe_common = _load("probe_common")
probe = _load("probe")

# rsl_rl 5.5.1's log lines as Isaac Lab's Cartpole training printed them (CPU dry run, trimmed).
TRAINING_LOG = """
                             Learning iteration 1/2
                       Steps per second: 77
                            Mean reward: 0.06
                             Learning iteration 2/2
                       Steps per second: 5142
                            Mean reward: -1.02
Training time: 13.76 seconds
"""


def test_pelvis_height_summary_against_hand_counted_falls():
  # 4 control steps of 0.5 s (so the first second is rows 0-1) x 3 robots, fallen below 0.5 m:
  # robot 0 never falls, robot 1 falls at row 1, robot 2 at row 3.
  height = torch.tensor([[0.7, 0.7, 0.7], [0.7, 0.4, 0.7], [0.7, 0.3, 0.6], [0.7, 0.2, 0.45]])
  summary = probe_common.pelvis_height_summary(height, control_dt=0.5, fallen_height=0.5)
  assert summary["pelvis_height_initial_mean"] == 0.7
  assert summary["pelvis_height_final_mean"] == pytest.approx((0.7 + 0.2 + 0.45) / 3, abs=1e-3)
  assert summary["pelvis_height_min"] == 0.2
  assert summary["upright_fraction_first_1s"] == pytest.approx(2 / 3, abs=1e-4)  # robots 0 and 2
  assert summary["fallen_fraction_ever"] == pytest.approx(2 / 3, abs=1e-4)  # robots 1 and 2
  # first falls at rows 4 (the horizon: never), 1 and 3 -> mean 8/3 rows of 0.5 s
  assert summary["mean_time_to_first_fall_s"] == pytest.approx(8 / 3 * 0.5, abs=0.01)


def test_training_findings_read_rsl_rl_log():
  findings = probe.training_findings(TRAINING_LOG)
  assert findings == {
    "completed": True,
    "training_time_s": "13.76",
    "iterations_logged": 2,
    "last_steps_per_s": "5142",
    "last_mean_reward": "-1.02",
  }
  assert probe.training_findings("Traceback ...")["completed"] is False


def test_last_error_is_the_exception_line_of_the_last_traceback():
  log = (
    "Traceback (most recent call last):\n  File 'a.py', line 1\nValueError: first\n"
    "more output\n"
    "Traceback (most recent call last):\n  File 'b.py', line 2\n    raise x\n"
    "FileNotFoundError: Unable to find the file: https://example/ground.usda\n"
    "[probe] trailing line\n"
  )
  assert probe.last_error(log) == "FileNotFoundError: Unable to find the file: https://example/ground.usda"
  assert probe.last_error("all good\n") is None


def test_stage_main_records_findings_or_the_exception(tmp_path):
  assert probe_common.stage_main("good", tmp_path, lambda: {"steps": 3}) == 0
  good = json.loads((tmp_path / "good.json").read_text())
  assert good["status"] == "ok" and good["steps"] == 3

  def broken():
    raise RuntimeError("no GPU")

  assert probe_common.stage_main("bad", tmp_path, broken) == 1
  bad = json.loads((tmp_path / "bad.json").read_text())
  assert bad["status"] == "failed" and bad["error"] == "RuntimeError: no GPU"

  def partly():
    raise probe_common.StageFailedError("failed: import omni.client", {"modules": {"newton": "1.6.1"}})

  assert probe_common.stage_main("partial", tmp_path, partly) == 1
  partial = json.loads((tmp_path / "partial.json").read_text())
  assert partial["error"] == "StageFailedError: failed: import omni.client"
  assert partial["modules"] == {"newton": "1.6.1"}


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--stages", "install,bogus"], "unknown stage(s) bogus"),
    (["--stages", "g1_env", "--g1_xml", "/nonexistent/g1.xml"], "G1 MJCF not found at '/nonexistent/g1.xml'"),
  ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
  out = tmp_path / "out"
  result = subprocess.run(
    [sys.executable, str(PROBE / "probe.py"), "--out", str(out), *args],
    capture_output=True,
    text=True,
    check=False,
  )
  assert result.returncode == 2
  assert message in result.stderr and "Traceback" not in result.stderr
  assert not out.exists()
