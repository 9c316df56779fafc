"""benchmarks/tracking_vs_mjlab.py: the shared tracking metric on hand-computed poses, the
session plan on plain numbers, and prepare / train (both sides, a resumed session) / eval /
compare end to end on CPU with a 2 s clip cut from the shipped synthetic dance."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from preloaded import Launcher  # same folder (pytest puts it on sys.path)

from legged_robots.evaluation.time_to_walk import ESTIMATE_MARGIN, EXIT_RESERVE_S
from legged_robots.evaluation.tracking_compare import Action, Limits, RunState, Settings, plan_chunk
from legged_robots.evaluation.tracking_metric import (
  BodyPoses,
  EpisodeScore,
  anchored_reference,
  body_pos_errors,
  failed,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "tracking_vs_mjlab.py"
ENV = {
  **os.environ,
  "CUDA_VISIBLE_DEVICES": "",
  "MUJOCO_GL": "osmesa",
  "PYOPENGL_PLATFORM": "osmesa",
  "MJLAB_WARP_QUIET": "1",
  # One torch thread: on a small shared CPU, mjlab's PPO update (batches of 96 samples)
  # took 9 s per iteration with the default thread count and 0.06 s with one.
  "OMP_NUM_THREADS": "1",
}
S = math.sqrt(0.5)
IDENTITY = [1.0, 0.0, 0.0, 0.0]
YAW_90 = [S, 0.0, 0.0, S]
PITCH_90 = [S, 0.0, S, 0.0]


def _poses(robot_pos, robot_quat, ref_pos, ref_quat) -> BodyPoses:
  """One env, bodies [pelvis-like, anchor, end effector] (anchor=1, end_effectors=(2,))."""
  return BodyPoses(
    *(torch.tensor([x], dtype=torch.float32) for x in (robot_pos, robot_quat, ref_pos, ref_quat))
  )


REF_POS = [[0.0, 0.0, 0.8], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]


# ---- the metric ---------------------------------------------------------------------------------


def test_anchored_reference_follows_the_robot_anchor_in_xy_and_yaw():
  # The robot stands 2 m along x, turned 90 deg left: the reference's body 1 m ahead of the
  # anchor (+x) lands 1 m to the robot's left of its anchor (+y), at the reference height.
  robot_pos = [[2.0, 0.0, 0.7], [2.0, 0.0, 0.9], [2.0, 1.0, 1.0]]
  p = _poses(robot_pos, [YAW_90] * 3, REF_POS, [IDENTITY] * 3)
  expected = torch.tensor([[[2.0, 0.0, 0.8], [2.0, 0.0, 1.0], [2.0, 1.0, 1.0]]])
  torch.testing.assert_close(anchored_reference(p, anchor=1), expected, atol=1e-6, rtol=0)
  anchored, world = body_pos_errors(p, anchor=1)
  # anchored: 0.1 (pelvis z), 0.1 (anchor z), 0 (ee); world: |(2,0,-.1)|, |(2,0,-.1)|, |(1,1,0)|.
  assert anchored.item() == pytest.approx(0.2 / 3, abs=1e-6)
  assert world.item() == pytest.approx((2 * math.sqrt(4.01) + math.sqrt(2)) / 3, abs=1e-6)
  assert not failed(p, anchor=1, end_effectors=(2,)).item()


@pytest.mark.parametrize(
  ("anchor_z", "anchor_quat", "ee_z", "fails"),
  [
    (1.0 - 0.24, IDENTITY, 1.0, False),  # anchor 0.24 m low: within 0.25
    (1.0 - 0.26, IDENTITY, 1.0, True),  # 0.26 m low
    (
      1.0,
      [math.cos(math.pi / 12), 0.0, math.sin(math.pi / 12), 0.0],
      1.0,
      False,
    ),  # pitched 30 deg: 1-cos30 = 0.13
    (1.0, PITCH_90, 1.0, True),  # pitched 90 deg: gravity z -1 -> 0, |diff| 1 > 0.8
    (1.0, IDENTITY, 1.0 + 0.26, True),  # the end effector 0.26 m above its anchored reference
    (1.0, IDENTITY, 1.0 - 0.24, False),
  ],
)
def test_failure_conditions_at_their_thresholds(anchor_z, anchor_quat, ee_z, fails):
  robot_pos = [[0.0, 0.0, 0.8], [0.0, 0.0, anchor_z], [1.0, 0.0, ee_z]]
  p = _poses(robot_pos, [IDENTITY, anchor_quat, IDENTITY], REF_POS, [IDENTITY] * 3)
  assert failed(p, anchor=1, end_effectors=(2,)).item() is fails


def test_episode_score_windows_failures_and_means():
  # Three envs, windows 2, 2, 0 steps; BODIES-shaped poses (14 bodies, torso anchor 7).
  window = torch.tensor([2, 2, 0])
  score = EpisodeScore(window)
  base = torch.zeros(3, 14, 3)
  base[..., 2] = 1.0
  quat = torch.tensor(IDENTITY).expand(3, 14, 4)
  # Step 1: env 0 is 0.1 m off in x everywhere (anchored error 0: xy follows the anchor;
  # world 0.1); env 1's anchor is 0.3 m low (fails; anchored: the anchor alone 0.3 -> 0.3 / 14).
  robot = base.clone()
  robot[0, :, 0] += 0.1
  robot[1, 7, 2] -= 0.3
  score.step(BodyPoses(robot, quat, base, quat))
  # Step 2: env 0 every body 0.2 m high (anchored 0.2, world 0.2); env 1 is no longer scored.
  robot = base.clone()
  robot[0, :, 2] += 0.2
  robot[1] += 5.0
  score.step(BodyPoses(robot, quat, base, quat))
  summary = score.summary()
  assert summary["episodes"] == 2 and summary["empty_windows"] == 1
  assert summary["success_rate"] == pytest.approx(0.5)
  # env 0: anchored (0 + 0.2) / 2 = 0.1, world (0.1 + 0.2) / 2 = 0.15; env 1 (1 step):
  # anchored: the anchor 0.3 low, the rest follow its xy at the reference height -> 0.3 / 14;
  # world 0.3 / 14.
  assert summary["body_pos_error_anchored_m"] == pytest.approx((0.1 + 0.3 / 14) / 2, abs=1e-6)
  assert summary["body_pos_error_world_m"] == pytest.approx((0.15 + 0.3 / 14) / 2, abs=1e-6)


# ---- the session plan ---------------------------------------------------------------------------

SETTINGS = Settings("st_gym", "/p", 4096, 42, budget_s=900.0, chunk=25)


def test_plan_ends_at_the_budget_and_fits_the_session():
  state = RunState(SETTINGS)
  assert plan_chunk(state, Limits(540.0), 30.0, 30.0, progressed=False) == (
    Action.TRAIN,
    25,
  )  # nothing measured
  state.s_per_iter = 2.0
  # 880 s used: 20 s = 10 iterations left.
  assert plan_chunk(state, Limits(540.0), 880.0, 100.0, progressed=True) == (Action.TRAIN, 10)
  # 0.9 s left: under half an iteration -> done.
  assert plan_chunk(state, Limits(540.0), 899.1, 100.0, progressed=True) == (Action.DONE, 0)
  # Session: 500 s used of 540 -> (540 - 15 - 500) / (2 x 1.25) = 10 iterations fit.
  fit = math.floor((540.0 - EXIT_RESERVE_S - 500.0) / (2.0 * ESTIMATE_MARGIN))
  assert plan_chunk(state, Limits(540.0), 600.0, 500.0, progressed=True) == (Action.TRAIN, fit)
  assert plan_chunk(state, Limits(540.0), 600.0, 524.0, progressed=True) == (Action.PAUSE, 0)
  assert plan_chunk(state, Limits(540.0), 600.0, 524.0, progressed=False) == (Action.TRAIN, 1)
  state.iterations = 3
  assert plan_chunk(state, Limits(540.0, max_iterations=4), 600.0, 10.0, progressed=True) == (Action.TRAIN, 1)
  state.iterations = 4
  assert plan_chunk(state, Limits(540.0, max_iterations=4), 600.0, 10.0, progressed=True) == (Action.DONE, 0)


# ---- end to end ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def launcher(launch) -> Launcher:
  return launch(ENV)


def _cmd(*args: str) -> list[str]:
  return [sys.executable, str(SCRIPT), *args]


def _run(launcher: Launcher, *args: str) -> subprocess.CompletedProcess:
  return launcher.run(_cmd(*args), cwd=ROOT, timeout=600)


def _csv(path: Path) -> Path:
  """The first 2 s of the shipped synthetic dance as a LAFAN1-style CSV (50 fps)."""
  from refmotion_manager import data_path

  clip = np.load(data_path() / "g1_dance.npz")
  quat_xyzw = clip["root_quat_wxyz"][:, [1, 2, 3, 0]]
  rows = np.concatenate([clip["root_pos"], quat_xyzw, clip["joint_pos"]], axis=1)[:101]
  np.savetxt(path, rows, delimiter=",", fmt="%.6f")
  return path


TRAIN = ["--num_envs", "4", "--chunk", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def runs(launcher, tmp_path_factory):
  tmp = tmp_path_factory.mktemp("tvm")
  csv = _csv(tmp / "dance.csv")
  out = {
    "prepare": _run(
      launcher, "prepare", "--csv", str(csv), "--fps", "50", "--out", str(tmp / "clip"), "--device", "cpu"
    )
  }
  common = ["--prepared", str(tmp / "clip"), *TRAIN]
  # st_gym: a 1 s session trains one chunk and pauses (exit 3); the rerun resumes and ends
  # at the 2-iteration cap. mjlab: one iteration in one session.
  st = ["train", "--side", "st_gym", "--run-dir", str(tmp / "st"), *common, "--max-iterations", "2"]
  # The two sides' folders are apart: mjlab trains while st_gym's second (longer) session
  # runs, and the two evaluations overlap.
  out["st1"] = _run(launcher, *st, "--session-s", "1")
  mj = _cmd("train", "--side", "mjlab", "--run-dir", str(tmp / "mj"), *common, "--max-iterations", "1")
  out["mj"], out["st2"] = launcher.run_all([mj, _cmd(*st)], cwd=ROOT, timeout=600)
  eval_args = ["--episodes", "3", "--episode-s", "0.2", "--device", "cpu"]
  evals = [_cmd("eval", "--run-dir", str(tmp / side), *eval_args) for side in ("st", "mj")]
  out["eval_st"], out["eval_mj"] = launcher.run_all(evals, cwd=ROOT, timeout=600)
  out["compare"] = _run(launcher, "compare", str(tmp / "st"), str(tmp / "mj"), "--out", str(tmp / "cmp.json"))
  out["resume_other"] = _run(launcher, *st, "--seed", "7")
  return tmp, out


@pytest.mark.slow
def test_prepare_train_eval_compare(runs):
  tmp, out = runs
  for name, expected in (
    ("prepare", 0),
    ("st1", 3),
    ("st2", 0),
    ("mj", 0),
    ("eval_st", 0),
    ("eval_mj", 0),
    ("compare", 0),
  ):
    assert out[name].returncode == expected, (name, out[name].stderr[-3000:])
  info = json.loads((tmp / "clip" / "prepare.json").read_text())
  # 101 frames at 50 fps = 2 s: mjlab's arange(0, 2, 0.02) has 100 frames; ours' last step is 100.
  assert info["mjlab"]["frames"] == 100
  assert info["check"]["st_gym_last_step"] == 100
  assert info["check"]["max_body_pos_diff_m"] < 1e-3
  # The folder holds a copy of the CSV (it moves whole).
  assert info["csv"] == "dance.csv" and (tmp / "clip" / "dance.csv").is_file()
  npz = np.load(tmp / "clip" / "motion.npz")
  assert npz["body_pos_w"].shape[:1] == (100,) and float(npz["fps"][0]) == 50.0
  st = json.loads((tmp / "st" / "state.json").read_text())
  assert st["finished"] and st["iterations"] == 2 and len(st["sessions"]) == 2
  assert st["checkpoint"] == "train/model_1.pt" and (tmp / "st" / st["checkpoint"]).is_file()
  assert [p.name for p in (tmp / "st" / "train").glob("model_*.pt")] == ["model_1.pt"]  # the newest only
  assert st["env_steps"] == 2 * 4 * 24  # 24 steps per env and iteration (the agent cfg)
  # Our side's train/ is a run folder that play.py, goals.py and sim2mujoco accept.
  params = tmp / "st" / "train" / "params"
  assert (params / "run.yaml").read_text() == "task: Tracking-Flat-G1\n"
  assert "csv_fps: 50.0" in (params / "env.yaml").read_text() and (params / "agent.yaml").is_file()
  mj = json.loads((tmp / "mj" / "state.json").read_text())
  assert mj["finished"] and mj["iterations"] == 1 and mj["env_steps"] == 4 * 24
  for side in ("st", "mj"):
    result = json.loads((tmp / side / "eval.json").read_text())
    # 3 episodes, a 10-step window each unless the start is within 10 steps of the clip's end.
    assert result["episodes"] + result["empty_windows"] == 3
    assert 0.0 <= result["success_rate"] <= 1.0 and 0.0 < result["body_pos_error_anchored_m"] < 1.0
    assert result["last_step"] == (100 if side == "st" else 99)
    # After the reset, each robot stands on its start frame (the window's first frame - 1).
    assert result["start_pose_error_m"] < 1e-3
  table = json.loads((tmp / "cmp.json").read_text())
  assert [c["side"] for c in table["columns"]] == ["st_gym", "mjlab"]
  assert "success_rate" in out["compare"].stdout and "body_pos_error_anchored_m" in out["compare"].stdout


@pytest.mark.slow
def test_resume_with_other_settings_is_exit_2(runs):
  _, out = runs
  result = out["resume_other"]
  assert result.returncode == 2 and "seed: 42 -> 7" in result.stderr
  assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["train", "--side", "isaac", "--prepared", "x", "--run-dir", "y"], "invalid choice: 'isaac'"),
    (["prepare", "--csv", "no_such.csv", "--fps", "60", "--out", "OUT"], "no such CSV file"),
    (["compare", "RUN"], "holds no finished training run"),
    (["eval", "--run-dir", "RUN"], "does not exist: --run-dir must be a folder that `train` wrote"),
    (
      ["train", "--side", "mjlab", "--prepared", "no_such_dir", "--run-dir", "RUN"],
      "run `prepare --out no_such_dir` first",
    ),
  ],
)
def test_bad_input_is_exit_2_with_one_message(launcher, tmp_path, args, message):
  args = [a.replace("OUT", str(tmp_path / "out")).replace("RUN", str(tmp_path / "run")) for a in args]
  result = _run(launcher, *args)
  assert result.returncode == 2 and message in result.stderr
  assert "Traceback" not in result.stderr
  assert not (tmp_path / "out").exists() and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_incomplete_folders_are_exit_2_with_one_message(launcher, tmp_path):
  # A prepare folder missing its clip files, a finished run missing its checkpoint, an
  # eval.json missing its results, and an --out that cannot be written.
  prep, run = tmp_path / "prep", tmp_path / "run"
  prep.mkdir()
  run.mkdir()
  (prep / "prepare.json").write_text(json.dumps({"csv": "a.csv", "npz": "motion.npz"}))
  settings = {"side": "mjlab", "prepared": str(prep), "num_envs": 1, "seed": 1, "budget_s": 1.0, "chunk": 1}
  state = {"format": 1, "settings": settings, "finished": True, "checkpoint": "train/model_0.pt"}
  (run / "state.json").write_text(json.dumps(state))
  (run / "eval.json").write_text("{}")
  for args, message in (
    (["train", "--side", "mjlab", "--prepared", str(prep), "--run-dir", str(tmp_path / "r")], "a.csv"),
    (["eval", "--run-dir", str(run)], "model_0.pt is missing"),
    (["compare", str(run)], "lacks success_rate"),
  ):
    result = _run(launcher, *args)
    assert result.returncode == 2 and message in result.stderr, (args, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
  keys = ("success_rate", "body_pos_error_anchored_m", "body_pos_error_world_m", "episodes")
  (run / "eval.json").write_text(json.dumps(dict.fromkeys(keys, 1)))
  result = _run(launcher, "compare", str(run), "--out", str(tmp_path))
  assert result.returncode == 2 and "cannot write --out" in result.stderr and "Traceback" not in result.stderr
  assert not (tmp_path / "r").exists()
