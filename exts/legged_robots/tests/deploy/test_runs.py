"""Run folders as sim2mujoco reads them: the newest run of a task, experiments, lineage."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from legged_robots.deploy import DeployError, MissingFileError
from legged_robots.deploy.exported import find_exported
from legged_robots.deploy.runs import tool_output_dir


def _export(folder: Path, task: str, iteration: int) -> None:
  """A stand-in export: deploy.yaml with the task, an identity ONNX with the iteration."""
  folder.mkdir(parents=True)
  (folder / "deploy.yaml").write_text(f"task: {task}\n")
  x = helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, 1])
  y = helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, 1])
  graph = helper.make_graph([helper.make_node("Identity", ["obs"], ["actions"])], "p", [x], [y])
  model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
  entry = model.metadata_props.add()
  entry.key, entry.value = "iteration", str(iteration)
  onnx.save(model, str(folder / "policy.onnx"))


def _run(log_root: Path, name: str, task: str, iteration: int, resumed_from: str | None = None) -> Path:
  run = log_root / name
  _export(run / "exported", task, iteration)
  (run / "params").mkdir()
  info = f"task: {task}\n" + (f"resumed_from: {resumed_from}\n" if resumed_from else "")
  (run / "params" / "run.yaml").write_text(info)
  return run


def test_newest_run_of_the_task_in_any_or_one_experiment(tmp_path):
  _run(tmp_path, "g1_flat/2026-01-01_00-00-00", "Flat-G1", 10)
  newest = _run(tmp_path, "cli_test/2026-01-02_00-00-00", "Flat-G1", 3)
  _run(tmp_path, "go1_flat/2026-01-03_00-00-00", "Flat-Go1", 7)
  assert find_exported(tmp_path, "Flat-G1") == newest / "exported"
  assert find_exported(tmp_path, "Flat-G1", experiment="g1_flat").parent.name == "2026-01-01_00-00-00"
  with pytest.raises(MissingFileError, match=r"no exported policy of task Flat-G1 under .*/go1_flat/"):
    find_exported(tmp_path, "Flat-G1", experiment="go1_flat")
  # A mistyped task: difflib's ratios are 12/14 (Flat-G1) and 12/15 (Flat-Go1), both >= 0.6.
  with pytest.raises(
    MissingFileError, match=r"exports there are of Flat-G1, Flat-Go1 \(did you mean Flat-G1, Flat-Go1\?\)"
  ):
    find_exported(tmp_path, "Flat-G2")


def test_an_iteration_comes_from_exported_model_i_or_the_lineage(tmp_path):
  first = _run(tmp_path, "g1_flat/2026-01-01_00-00-00", "Flat-G1", 20)
  _export(first / "exported" / "model_5", "Flat-G1", 5)
  second = _run(
    tmp_path, "g1_flat/2026-01-02_00-00-00", "Flat-G1", 30, "g1_flat/2026-01-01_00-00-00/model_20.pt"
  )
  _export(second / "exported" / "model_25", "Flat-G1", 25)
  assert find_exported(tmp_path, "Flat-G1", checkpoint="30") == second / "exported"
  assert find_exported(tmp_path, "Flat-G1", checkpoint="25") == second / "exported" / "model_25"
  assert find_exported(tmp_path, "Flat-G1", checkpoint="model_20.pt") == first / "exported"
  assert find_exported(tmp_path, "Flat-G1", checkpoint="5") == first / "exported" / "model_5"
  (second / "model_7.pt").touch()  # a checkpoint that was never exported: export it
  with pytest.raises(DeployError, match=r"no export of iteration 7 .*holds iteration 30.*--checkpoint 7"):
    find_exported(tmp_path, "Flat-G1", checkpoint="7")
  (first / "model_8.pt").touch()  # ... but no checkpoint at all: name the ones there are
  (first / "model_40.pt").touch()  # after model_20.pt, which the second run resumed from
  with pytest.raises(
    MissingFileError, match=r"no checkpoint model_9\.pt to export; its checkpoints: 7, 8\. "
  ):
    find_exported(tmp_path, "Flat-G1", checkpoint="9")


def test_tool_outputs_go_beside_the_export_or_under_logs_never_inside(tmp_path, monkeypatch):
  # Inside exported/ the next export's swap deleted them (a sweep, a style report); beside
  # policies/<name> they landed in the tracked folder (policies/ros2/, policies/<name>/style_report/).
  monkeypatch.chdir(tmp_path)
  run = tmp_path / "logs" / "st_rl" / "g1_flat" / "2026-01-01_00-00-00"
  for folder in (run / "exported", run / "exported" / "model_5"):
    out = tool_output_dir(folder, "sweep")
    assert out.parent == run / "sweep" and len(out.name) == len("2026-01-01_00-00-00")
  shipped = tmp_path / "policies" / "flat_g1_h200"
  out = tool_output_dir(shipped, "ros2")
  assert out.parent == Path("logs") / "ros2" / "flat_g1_h200"
  out.mkdir(parents=True)  # a second call in the same second gets its own folder
  assert tool_output_dir(shipped, "ros2") == out.parent / f"{out.name}_2"
