"""benchmarks/throughput.py: the --repeat summary arithmetic and task specs (pure functions),
a tiny skrl row, two gloo processes per row (--nproc 2), and bad input."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from preloaded import Launcher  # same folder (pytest puts it on sys.path)
from test_st_rl_scripts import ENV, ROOT

SCRIPT = ROOT / "benchmarks" / "throughput.py"
_spec = importlib.util.spec_from_file_location("throughput", SCRIPT)
assert _spec is not None and _spec.loader is not None
throughput = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(throughput)

TINY = ["--device", "cpu", "--steps", "1", "--iters", "1"]
# skrl rows: 8 rollout steps x 2 envs per iteration, one mini-batch.
SKRL_ROW = "skrl:Flat-G1[agent.agent.rollouts=8 agent.agent.mini_batches=1]"


def _row(task: str, n: int, train: float, env: float = 10.0, physics: float = 100.0) -> dict:
  return {"task": task, "num_envs": n, "train_sps": train, "env_sps": env, "physics_sps": physics}


def test_summary_is_the_median_per_task_and_its_ratio_to_the_first_task():
  rows = [
    _row("A", 64, 100.0),
    _row("B", 64, 80.0),
    _row("A", 64, 140.0),
    _row("B", 64, 60.0),
    _row("A", 64, 120.0),
    _row("B", 64, 110.0, env=30.0),
    _row("B", 128, 50.0),  # A has no row at 128 envs: no ratio there
  ]
  summary = {(s["task"], s["num_envs"]): s for s in throughput.summarize(rows, ["A", "B"])}
  assert set(summary) == {("A", 64), ("B", 64), ("B", 128)}
  # A: median(100, 140, 120) = 120; B: median(80, 60, 110) = 80; 80 / 120 = 0.667.
  assert summary["A", 64]["train_sps"] == 120.0 and summary["A", 64]["train_sps_ratio"] == 1.0
  assert summary["B", 64]["train_sps"] == 80.0 and summary["B", 64]["train_sps_ratio"] == 0.667
  assert summary["B", 64]["env_sps"] == 10.0 and summary["B", 64]["runs"] == 3
  assert summary["B", 128]["train_sps_ratio"] is None
  # Rows of another process count are their own group (e.g. --out files of --nproc 1 and 2).
  two = [{**_row("A", 64, 300.0), "nproc": 2}, {**_row("B", 64, 150.0), "nproc": 2}]
  groups = {
    (s["task"], s["nproc"]): s for s in throughput.summarize([*rows, *two], ["A", "B"]) if s["num_envs"] == 64
  }
  assert groups["A", 1]["train_sps"] == 120.0 and groups["A", 2]["train_sps"] == 300.0
  assert groups["B", 2]["train_sps_ratio"] == 0.5 and groups["B", 1]["train_sps_ratio"] == 0.667


def test_even_run_counts_take_the_mean_of_the_middle_two():
  rows = [_row("A", 8, 100.0), _row("B", 8, 90.0), _row("A", 8, 110.0), _row("B", 8, 120.0)]
  summary = {s["task"]: s for s in throughput.summarize(rows, ["A", "B"])}
  assert summary["A"]["train_sps"] == 105.0 and summary["B"]["train_sps"] == 105.0
  assert summary["B"]["train_sps_ratio"] == 1.0


def test_summarize_reads_the_rows_of_out_files(launcher, tmp_path):
  rows = [_row("A", 8, 100.0), _row("B", 8, 90.0), _row("A", 8, 110.0), _row("B", 8, 120.0)]
  out = tmp_path / "rows.jsonl"
  old_summary = {"summary": "median", "task": "A", "num_envs": 8, "train_sps": 1.0}
  out.write_text("\n".join(json.dumps(r) for r in [*rows[:2], old_summary, *rows[2:]]) + "\n")
  result = _run(launcher, "--summarize", str(out), timeout=120)
  lines = [json.loads(line) for line in result.stdout.splitlines()]
  assert lines == throughput.summarize(rows, ["A", "B"]) and lines[1]["train_sps_ratio"] == 1.0
  out.write_text('{"task": "A"}\n')
  result = _run(launcher, "--summarize", str(out), timeout=120)
  assert result.returncode == 2 and "no throughput rows" in result.stderr and "Traceback" not in result.stderr


def test_task_specs_name_runner_task_and_overrides():
  assert throughput.parse_spec("Flat-G1") == ("st_rl", "Flat-G1", [])
  assert throughput.parse_spec("skrl:Flat-G1[a.b=1 c=x]") == ("skrl", "Flat-G1", ["a.b=1", "c=x"])
  assert throughput.parse_spec("Amp-Flat-G1[agent.amp.discriminator_matmul=ieee]") == (
    "st_rl",
    "Amp-Flat-G1",
    ["agent.amp.discriminator_matmul=ieee"],
  )
  for bad in ("rllib:Flat-G1", "Flat-G1[a=1", "Flat-G1[a=[1]]"):
    with pytest.raises(throughput.StRlError):
      throughput.parse_spec(bad)


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _run(launcher: Launcher, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
  return launcher.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, timeout=timeout)


def _rows(result: subprocess.CompletedProcess) -> list[dict]:
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _check_rates(row: dict, steps_per_iteration: int) -> None:
  """train_sps is the steps of one iteration over its collection + update time."""
  assert row["train_sps"] > 0 and row["physics_sps"] > 0 and row["env_sps"] > 0
  iteration_s = row["collect_s"] + row["learn_s"]
  assert row["train_sps"] * iteration_s == pytest.approx(steps_per_iteration * row["nproc"], rel=0.01)
  assert row["train_sps_per_gpu"] == pytest.approx(row["train_sps"] / row["nproc"], abs=0.1)


@pytest.mark.slow
def test_a_skrl_row_times_skrls_trainer(launcher):
  (row,) = _rows(_run(launcher, "--tasks", SKRL_ROW, "--num_envs", "2", *TINY))
  assert row["runner"] == "skrl" and row["task"] == SKRL_ROW and row["nproc"] == 1
  assert row["ranks_in_sync"] is None
  _check_rates(row, 8 * 2)


@pytest.mark.slow
def test_two_gloo_processes_per_row_report_total_and_per_process_rates(launcher):
  st_rl_row = "Flat-G1[agent.num_steps_per_env=8]"
  rows = _rows(_run(launcher, "--tasks", st_rl_row, SKRL_ROW, "--num_envs", "2", "--nproc", "2", *TINY))
  assert [r["task"] for r in rows] == [st_rl_row, SKRL_ROW]
  for row in rows:
    assert row["nproc"] == 2 and row["ranks_in_sync"] is True, row  # training was all-reduced
    _check_rates(row, 8 * 2)


def test_bad_specs_and_unknown_tasks_exit_2_before_any_row(launcher):
  result = _run(launcher, "--tasks", "Flat-G1", "rllib:Flat-G1", *TINY, timeout=120)
  assert result.returncode == 2 and "unknown runner 'rllib'" in result.stderr, result.stderr
  result = _run(launcher, "--tasks", "Flat-G1", "skrl:Flat-G2", *TINY, timeout=300)
  assert result.returncode == 2 and "Flat-G2" in result.stderr and "Traceback" not in result.stderr
  assert result.stdout == ""
  # the default device where CUDA is hidden (the suite's environment): was a row's traceback
  result = _run(launcher, "--tasks", "Flat-G1", "--steps", "1", "--iters", "1", timeout=300)
  assert result.returncode == 2 and "--device cuda:0: CUDA is not available" in result.stderr, result.stderr
  assert "Traceback" not in result.stderr and result.stdout == ""


def test_unknown_override_keys_and_bad_values_of_any_row_exit_2_before_any_row(launcher):
  # The first row is valid: an exit 1 with its JSON line printed would mean the rows ran.
  for spec, key in (
    ("skrl:Flat-G1[agent.agent.nope=1]", "agent.agent.nope"),
    ("Flat-G1[env.nope=1]", "env.nope"),
    ("Flat-G1[env.rewards.alive.weight=nan]", "env.rewards.alive.weight is nan"),
    ("skrl:Flat-G1[env.rewards.alive.weight=inf]", "env.rewards.alive.weight must be a finite number"),
  ):
    result = _run(launcher, "--tasks", "Flat-G1", spec, *TINY, timeout=300)
    assert result.returncode == 2 and key in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
