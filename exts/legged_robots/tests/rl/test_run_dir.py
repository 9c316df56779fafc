"""Run folders: atomic claims, whole-folder export swaps, and what a kill leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from legged_robots.rl.run_dir import TrainLock, claim_run_dir, clean_stale, publish_export

NOW = datetime(2026, 12, 1, 10, 0, 0)


def _claim(experiment: str) -> str:
  return claim_run_dir(Path(experiment), None, NOW).name


def test_a_taken_name_gets_a_suffix(tmp_path):
  names = [claim_run_dir(tmp_path, None, NOW).name for _ in range(3)]
  assert names == ["2026-12-01_10-00-00", "2026-12-01_10-00-00_2", "2026-12-01_10-00-00_3"]
  assert claim_run_dir(tmp_path, "fast", NOW).name == "2026-12-01_10-00-00_fast"
  assert claim_run_dir(tmp_path, "fast", NOW).name == "2026-12-01_10-00-00_fast_2"


def test_runs_started_in_the_same_second_never_share_a_folder(tmp_path):
  """The old check (exists() ~10 s before mkdir) let two trainings write one folder."""
  with ProcessPoolExecutor(4) as pool:
    names = list(pool.map(_claim, [str(tmp_path)] * 8))
  assert len(set(names)) == 8
  assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def _write(files: dict[str, str]):
  def write(folder: Path) -> None:
    for name, text in files.items():
      (folder / name).write_text(text)

  return write


def test_publish_replaces_the_whole_folder_and_keeps_older_exports(tmp_path):
  target = tmp_path / "run" / "exported"
  publish_export(target, _write({"policy.onnx": "v1", "deploy.yaml": "v1", "old_only.txt": "x"}))
  publish_export(target / "model_3", _write({"policy.onnx": "v3", "deploy.yaml": "v3"}))
  publish_export(target, _write({"policy.onnx": "v2", "deploy.yaml": "v2"}))
  assert sorted(p.name for p in target.iterdir()) == ["deploy.yaml", "model_3", "policy.onnx"]
  assert (target / "policy.onnx").read_text() == "v2"
  assert (target / "model_3" / "policy.onnx").read_text() == "v3"
  assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".export.lock", "exported"]


def test_a_failed_write_leaves_the_previous_export(tmp_path):
  target = tmp_path / "run" / "exported"
  publish_export(target, _write({"policy.onnx": "v1", "deploy.yaml": "v1"}))

  def half_then_fail(folder: Path) -> None:
    (folder / "policy.onnx").write_text("v2")
    raise RuntimeError("disk full")

  with pytest.raises(RuntimeError):
    publish_export(target, half_then_fail)
  assert (target / "policy.onnx").read_text() == "v1" and (target / "deploy.yaml").read_text() == "v1"
  assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".export.lock", "exported"]


KILLED_WRITER = """
import sys, time
from pathlib import Path
from legged_robots.rl.run_dir import publish_export

def write(folder):
  (folder / "policy.onnx").write_text("v2")
  print("written", flush=True)
  time.sleep(60)

publish_export(Path(sys.argv[1]), write)
"""


def test_kill_9_during_an_export_leaves_the_previous_one_and_the_next_start_cleans_up(tmp_path):
  run = tmp_path / "run"
  target = run / "exported"
  publish_export(target, _write({"policy.onnx": "v1", "deploy.yaml": "v1"}))
  proc = subprocess.Popen(
    [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(target)], stdout=subprocess.PIPE, text=True
  )
  assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
  os.kill(proc.pid, signal.SIGKILL)
  proc.wait()
  assert (target / "policy.onnx").read_text() == "v1"
  (leftover,) = [p for p in run.iterdir() if p.name.startswith(".export-")]
  assert clean_stale([run]) == [leftover] and not leftover.exists()


def test_a_swap_killed_between_its_renames_is_finished_at_the_next_start(tmp_path):
  run = tmp_path / "run"
  # Killed after exported/ moved aside: the new folder is complete and goes into place.
  (run / ".exported.new").mkdir(parents=True)
  (run / ".exported.new" / "policy.onnx").write_text("v2")
  (run / ".exported.old" / "model_3").mkdir(parents=True)
  (run / ".exported.old" / "policy.onnx").write_text("v1")
  clean_stale([run])
  assert (run / "exported" / "policy.onnx").read_text() == "v2"
  assert (run / "exported" / "model_3").is_dir()
  assert not (run / ".exported.new").exists() and not (run / ".exported.old").exists()
  # Killed before exported/ moved: the previous export stays and gets its children back.
  (run / ".exported.new").mkdir()
  (run / ".exported.new" / "policy.onnx").write_text("v3")
  os.rename(run / "exported" / "model_3", run / ".exported.new" / "model_3")
  clean_stale([run])
  assert (run / "exported" / "policy.onnx").read_text() == "v2"
  assert (run / "exported" / "model_3").is_dir() and not (run / ".exported.new").exists()


def test_stale_temp_files_go_but_a_live_run_and_clean_runs_are_left_alone(tmp_path):
  dead, live, clean = (tmp_path / name for name in ("dead", "live", "clean"))
  for run in (dead, live, clean):
    run.mkdir()
    (run / "model_5.pt").write_text("ckpt")
  for run in (dead, live):
    (run / ".model_6.pt.abc123.tmp").write_text("half a checkpoint")
  lock = TrainLock(live)
  try:
    assert clean_stale([dead, live, clean]) == [dead / ".model_6.pt.abc123.tmp"]
  finally:
    lock.release()
  assert (live / ".model_6.pt.abc123.tmp").exists()  # its training is still writing it
  assert sorted(p.name for p in clean.iterdir()) == ["model_5.pt"]  # not even a lock file
  assert sorted(p.name for p in dead.iterdir()) == [".export.lock", ".train.lock", "model_5.pt"]
