"""Sim-to-sim parity: a correct Flat-G1 export passes, broken ones fail with the right cause.

One parity env (Flat-G1 play cfg, 4 envs, CPU) and one checkpoint of a randomly
initialised st_rl actor (with its exported folder) are shared by the module. Broken
folders are copies whose deploy.yaml is edited the way real mistakes look.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import mujoco
import numpy as np
import pytest
import yaml

from legged_robots.deploy import PolicyRuntime
from legged_robots.deploy import observations as deploy_obs
from legged_robots.sim2sim.parity import check_parity, parity_env_cfg

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "scripts" / "st_rl" / "sim2sim.py"
TASK = "Flat-G1"
STATES = 40  # 4 envs x 10 control steps
KNEES = (3, 9)  # left_knee_joint, right_knee_joint in the G1 action order


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
  """(env, actor, run folder holding model_0.pt and exported/)."""
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import StRlOnPolicyRunner
  from legged_robots.tasks import load_agent_cfg, load_env_cfg

  env = ManagerBasedRlEnv(parity_env_cfg(load_env_cfg(TASK, play=True), num_envs=4, seed=0), device="cpu")
  run_dir = tmp_path_factory.mktemp("logs") / "exp" / "run"
  runner = StRlOnPolicyRunner(RslRlVecEnvWrapper(env), asdict(load_agent_cfg(TASK)), TASK, None, "cpu")
  runner.save(str(run_dir / "model_0.pt"))  # writes exported/policy.onnx + deploy.yaml beside it
  actor = runner.alg.get_policy()
  actor.eval()
  yield env, actor, run_dir
  env.close()


def _broken(setup, tmp_path: Path, edit) -> Path:
  folder = tmp_path / "exported"
  shutil.copytree(setup[2] / "exported", folder)
  data = yaml.safe_load((folder / "deploy.yaml").read_text())
  edit(data)
  (folder / "deploy.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
  return folder


def _contract(setup) -> dict:
  return yaml.safe_load((setup[2] / "exported" / "deploy.yaml").read_text())


def _swap_joints(data: dict) -> None:
  """Swap two joints in joint_names and, as a hand-edited export would, in every per-joint list."""
  i, j = KNEES
  lists = [data[k] for k in ("joint_names", "default_joint_pos", "stiffness", "damping", "effort_limit")]
  for values in [*lists, data["action"]["scale"], data["action"]["offset"]]:
    values[i], values[j] = values[j], values[i]


def _shift_default(data: dict) -> None:
  """Default pose of joint 4 off by 0.1 rad (the action offset follows it, as in the exporter)."""
  data["default_joint_pos"][4] += 0.1
  data["action"]["offset"][4] += 0.1


def _double_scale(data: dict) -> None:
  data["action"]["scale"][20] *= 2.0


def _stiffer(data: dict) -> None:
  data["stiffness"][10] *= 1.5


def test_correct_export_passes(setup):
  env, actor, run_dir = setup
  report = check_parity(env, run_dir / "exported", TASK, num_states=STATES, actor=actor)
  assert report.passed, report.summary()
  assert report.num_states == STATES and report.causes == []
  assert set(report.observations) == {
    "base_ang_vel",
    "projected_gravity",
    "joint_pos",
    "joint_vel",
    "actions",
    "velocity_commands",
  }
  assert report.actor is not None and len(report.actor) == len(report.actions) == len(report.targets) == 29
  tables = [report.observations, report.policy_input, report.actions, report.targets, report.actor]
  assert max(max(t.values()) for t in tables) <= 1e-5
  assert max(max(row.values()) for row in report.gains.values()) <= 1e-5


def test_clip_actions_is_exported_and_checked(setup, tmp_path):
  """agent.clip_actions: recorded as action.raw_clip, and parity holds the runtime to it."""
  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import StRlOnPolicyRunner
  from legged_robots.tasks import load_agent_cfg

  env, actor, run_dir = setup
  clip = 0.05  # below the random actor's outputs, so the clamp changes actions
  runner = StRlOnPolicyRunner(
    RslRlVecEnvWrapper(env, clip_actions=clip), asdict(load_agent_cfg(TASK)), TASK, None, "cpu"
  )
  runner.alg.get_policy().load_state_dict(actor.state_dict())
  runner.export(tmp_path / "clipped", iteration=0)
  assert yaml.safe_load((tmp_path / "clipped" / "deploy.yaml").read_text())["action"]["raw_clip"] == clip
  assert "raw_clip" not in _contract(setup)["action"]
  ok = check_parity(env, tmp_path / "clipped", TASK, num_states=STATES, actor=actor, clip_actions=clip)
  assert ok.passed and ok.causes == [], ok.summary()
  # A folder that does not clamp, for a training that did (and the reverse), fails on it.
  for folder, training_clip in ((run_dir / "exported", clip), (tmp_path / "clipped", None)):
    report = check_parity(env, folder, TASK, num_states=STATES, clip_actions=training_clip)
    assert not report.passed
    assert "action_clip" in {c.kind for c in report.causes}, report.summary()
    assert report.timing["action.raw_clip"] == 1.0
  unclamped = check_parity(env, run_dir / "exported", TASK, num_states=STATES, clip_actions=clip)
  assert max(unclamped.actions.values()) > 0.01  # the clamp was active in the rollout


@pytest.mark.parametrize(
  ("edit", "kind", "joints"),
  [
    (_swap_joints, "joint_order", {"left_knee_joint", "right_knee_joint"}),
    (_shift_default, "default_pose", {"left_ankle_pitch_joint"}),
    (_double_scale, "scale", {"left_wrist_pitch_joint"}),
    (_stiffer, "gain", {"right_ankle_pitch_joint"}),
  ],
)
def test_broken_contract_fails_with_its_cause(setup, tmp_path, edit, kind, joints):
  env, _, _ = setup
  report = check_parity(env, _broken(setup, tmp_path, edit), TASK, num_states=STATES)
  assert not report.passed
  assert {c.kind for c in report.causes} == {kind}, report.summary()
  assert set().union(*(c.subjects for c in report.causes)) == joints


def test_diagnosis_quotes_both_sides(setup, tmp_path):
  env, _, _ = setup
  original = _contract(setup)
  report = check_parity(env, _broken(setup, tmp_path, _double_scale), TASK, num_states=STATES)
  (cause,) = report.causes
  scale = original["action"]["scale"][20]
  assert f"runtime uses {2 * scale:.6g}" in cause.message and f"training uses {scale:.6g}" in cause.message
  assert report.worst_joint == "left_wrist_pitch_joint" and report.targets["left_wrist_pitch_joint"] > 1e-3

  shifted = check_parity(env, _broken(setup, tmp_path / "b", _shift_default), TASK, num_states=STATES)
  default = original["default_joint_pos"][4]
  pose = next(c for c in shifted.causes if "default_joint_pos" in c.message and "off by" in c.message)
  assert f"deploy.yaml default_joint_pos {default + 0.1:.6g}, training {default:.6g}" in pose.message
  assert "off by -0.1 " in pose.message  # joint_pos_rel = q - default: 0.1 rad less at every state


def _world_frame_ang_vel(term, contract, func):
  """A deploy term that forgets the angular velocity is body-frame and rotates it to the world."""

  def read(state, _inputs):
    out = np.zeros(3)
    mujoco.mju_rotVecQuat(out, np.asarray(state.base_ang_vel, float), np.asarray(state.base_quat, float))
    return out

  return deploy_obs.BuiltTerm(read, 3)


def test_frame_mistake_in_the_runtime_is_diagnosed(setup, monkeypatch):
  env, _, run_dir = setup
  monkeypatch.setitem(deploy_obs._BUILDERS, f"{deploy_obs._MJLAB_OBS}:base_ang_vel", _world_frame_ang_vel)
  report = check_parity(env, run_dir / "exported", TASK, num_states=STATES)
  assert not report.passed and report.worst_term == "base_ang_vel"
  (cause,) = report.causes
  assert cause.kind == "frame" and cause.subjects == ["base_ang_vel"] and "world frame" in cause.message


def test_stale_last_action_in_the_runtime_is_timing(setup, monkeypatch):
  env, _, run_dir = setup
  step = PolicyRuntime.step

  def stale_step(self, state):
    kept = self.last_action.copy()
    targets = step(self, state)
    self.last_action = kept  # forgets to remember the action it just produced
    return targets

  monkeypatch.setattr(PolicyRuntime, "step", stale_step)
  report = check_parity(env, run_dir / "exported", TASK, num_states=STATES)
  assert not report.passed
  assert [c.kind for c in report.causes] == ["timing"]


def _cli(monkeypatch, *args: str) -> int:
  """Run scripts/st_rl/sim2sim.py in this process (warm imports); return its exit status."""
  monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
  with pytest.raises(SystemExit) as exit_info:
    runpy.run_path(str(SCRIPT), run_name="__main__")
  return int(exit_info.value.code or 0)


def test_cli_checkpoint_passes_and_writes_the_report(setup, tmp_path, monkeypatch, capsys):
  run_dir = setup[2]
  out = tmp_path / "report.json"
  args = [
    "--task",
    TASK,
    "--load_run",
    str(run_dir),
    "--checkpoint",
    "0",
    "--num_states",
    "8",
    "--out",
    str(out),
  ]
  assert _cli(monkeypatch, *args) == 0
  assert "PASS" in capsys.readouterr().out
  report = json.loads(out.read_text())
  assert report["passed"] and report["num_states"] == 8 and len(report["actor"]) == 29


def test_cli_mismatch_exits_1_naming_the_cause(setup, tmp_path):
  folder = _broken(setup, tmp_path, _swap_joints)
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
  cmd = [sys.executable, str(SCRIPT), "--task", TASK, "--policy", str(folder), "--num_states", "8"]
  result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
  assert "joints left_knee_joint and right_knee_joint are swapped" in result.stdout


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--task", "Flat-G2", "--policy", "{exported}"], "Unknown task id 'Flat-G2'"),
    (["--task", TASK, "--policy", "{missing}"], "no deploy.yaml in"),
    (["--task", "Flat-Go1", "--policy", "{exported}"], "exported for task Flat-G1, not Flat-Go1"),
    (["--task", TASK], "pass either --policy"),
  ],
)
def test_cli_bad_input_exits_2(setup, tmp_path, monkeypatch, capsys, args, message):
  paths = {"exported": str(setup[2] / "exported"), "missing": str(tmp_path / "nothing")}
  assert _cli(monkeypatch, *[a.format(**paths) for a in args]) == 2
  out, err = capsys.readouterr()
  assert err.startswith("error: ") and message in err
  assert out == ""  # found before the env is built: no env tables ahead of the error
