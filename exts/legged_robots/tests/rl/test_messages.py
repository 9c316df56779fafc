"""What training tells a first-time user: smoke test on CPU, where the results are."""

from __future__ import annotations

from pathlib import Path

from legged_robots.rl.messages import next_steps, quiet_build, shipped_policies, smoke_test_note


def _policy(root: Path, name: str, task: str) -> Path:
  (root / name).mkdir(parents=True)
  (root / name / "deploy.yaml").write_text(f"task: {task}\n")
  return root / name


def test_the_cpu_default_run_says_it_is_a_smoke_test_and_points_to_a_shipped_policy(tmp_path):
  _policy(tmp_path, "flat_go1", "Flat-Go1")
  walking = _policy(tmp_path, "flat_g1_h200", "Flat-G1")
  assert shipped_policies("Flat-G1-Play", tmp_path) == [walking]
  note = smoke_test_note("Flat-G1", 8, 10, tmp_path)
  assert "smoke test with 8 envs and 10 iterations" in note and "will not learn to walk" in note
  assert f"python scripts/st_rl/sim2mujoco.py --policy {walking}" in note
  assert "ships" not in smoke_test_note("Rough-Go1", 8, 10, tmp_path)  # nothing shipped for it


def test_the_end_of_training_names_checkpoint_export_and_next_commands(tmp_path):
  run = tmp_path / "g1_flat" / "2026-12-01_10-00-00"
  run.mkdir(parents=True)
  (run / "model_9.pt").write_bytes(b"")
  text = next_steps(run, "Flat-G1", "logs/st_rl")
  assert f"checkpoint  {run / 'model_9.pt'}" in text and f"export      {run / 'exported'}/" in text
  assert "./run.sh play -n Flat-G1 -l 2026-12-01_10-00-00   #" in text
  assert "./run.sh sim -n Flat-G1 -l 2026-12-01_10-00-00    #" in text
  assert "-- --log_root /elsewhere" in next_steps(run, "Flat-G1", "/elsewhere")


def test_the_build_is_quiet_unless_verbose(capsys):
  with quiet_build(verbose=False):
    print("+-------+ Active Reward Terms")
  with quiet_build(verbose=True):
    print("asked for")
  assert capsys.readouterr().out == "asked for\n"
