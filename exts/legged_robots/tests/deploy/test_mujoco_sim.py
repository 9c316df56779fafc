"""Native MuJoCo model, state and closed loop against MuJoCo's own quantities and the shipped policy."""

from __future__ import annotations

import math
import shutil

import mujoco
import numpy as np
import pytest

from legged_robots.deploy import (
  DeployError,
  MissingFileError,
  NonFiniteActionError,
  PolicyMismatchError,
  PolicyRuntime,
)
from legged_robots.deploy.closed_loop import ClosedLoop, Perturbations, command_at, run_closed_loop
from legged_robots.deploy.mujoco_sim import build_sim, read_state, reset_to_default

from .helpers import nan_below_zero_vx_policy

WRISTS = [f"{s}_wrist_{a}_joint" for s in ("left", "right") for a in ("roll", "pitch", "yaw")]


@pytest.fixture
def g1(g1_export) -> PolicyRuntime:
  return PolicyRuntime(g1_export)


def test_actuator_force_equals_pd_torques(g1, g1_export):
  c = g1.contract
  robot = build_sim(g1_export / "robot.xml", c)
  data = mujoco.MjData(robot.model)
  reset_to_default(robot, data, c)
  rng = np.random.default_rng(0)
  data.qpos[robot.qpos_adr] += rng.uniform(-0.3, 0.3, 29)
  data.qvel[robot.dof_adr] = rng.uniform(-3, 3, 29)
  q_ref = g1.joint_targets(rng.uniform(-3, 3, 29))
  data.ctrl[:] = q_ref
  mujoco.mj_forward(robot.model, data)
  state = read_state(robot, data)
  expected = g1.pd_torques(q_ref, state.joint_pos, state.joint_vel)
  saturated = np.isclose(np.abs(expected), c.effort_limit)
  assert saturated.any() and not saturated.all()  # the torque limit is exercised
  np.testing.assert_allclose(data.actuator_force, expected, rtol=1e-9, atol=1e-9)


def test_state_frames_match_mujoco(g1, g1_export):
  robot = build_sim(g1_export / "robot.xml", g1.contract)
  data = mujoco.MjData(robot.model)
  reset_to_default(robot, data, g1.contract)
  yaw = math.pi / 2
  data.qpos[3:7] = [math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
  data.qvel[0:6] = [1.0, 0.0, 0.2, 0.1, -0.3, 0.5]
  mujoco.mj_forward(robot.model, data)
  state = read_state(robot, data)
  np.testing.assert_allclose(state.base_lin_vel, [0.0, -1.0, 0.2], atol=1e-12)  # world +x = body -y
  local = np.zeros(6)
  mujoco.mj_objectVelocity(robot.model, data, mujoco.mjtObj.mjOBJ_XBODY, robot.root_body, local, 1)
  np.testing.assert_allclose(state.base_ang_vel, local[:3], atol=1e-12)
  np.testing.assert_allclose(state.base_lin_vel, local[3:], atol=1e-12)


def test_start_pose_touches_the_ground(g1, g1_export):
  robot = build_sim(g1_export / "robot.xml", g1.contract)
  data = mujoco.MjData(robot.model)
  height = reset_to_default(robot, data, g1.contract)
  assert 0.6 < height < 0.9
  np.testing.assert_allclose(data.qpos[robot.qpos_adr], g1.contract.default_joint_pos)
  np.testing.assert_allclose(data.ctrl, g1.contract.default_joint_pos)
  gaps = [
    mujoco.mj_geomDistance(robot.model, data, g, robot.ground_geom, 1.0, None)
    for g in range(1, robot.model.ngeom)
  ]
  assert min(gaps) == pytest.approx(0.0, abs=1e-9)


def test_bad_models_are_clear_errors(g1, g1_export, tmp_path):
  with pytest.raises(MissingFileError, match="--mjcf"):
    build_sim(tmp_path / "nope.xml", g1.contract)
  renamed = (g1_export / "robot.xml").read_text().replace('"left_knee_joint"', '"l_knee"')
  (tmp_path / "renamed.xml").write_text(renamed)
  with pytest.raises(PolicyMismatchError, match=r"1 policy joints are not .*\['left_knee_joint'\]"):
    build_sim(tmp_path / "renamed.xml", g1.contract)
  arms_only = g1.contract
  keep = [i for i, n in enumerate(arms_only.joint_names) if n not in WRISTS]
  arms_only.joint_names = [arms_only.joint_names[i] for i in keep]
  with pytest.raises(PolicyMismatchError, match=r"actuates \['left_wrist_pitch_joint'"):
    build_sim(g1_export / "robot.xml", arms_only)


def test_flat_g1_walks_forward_on_robot_xml(g1, g1_export):
  result = run_closed_loop(g1, g1_export / "robot.xml", 6.0, [(0.0, (0.5, 0.0, 0.0))])
  m = result.metrics
  # Observed: survives, x = 2.8 m after 6 s, xy error 0.05 m/s, yaw-rate error 0.07 rad/s.
  assert m["status"] == "survived" and m["time_survived_s"] == pytest.approx(6.0)
  assert m["final_base_xy_m"][0] > 2.0 and abs(m["final_base_xy_m"][1]) < 0.6
  assert m["lin_vel_xy_error_mean"] < 0.15 and m["ang_vel_z_error_mean"] < 0.2
  assert 0.0 < m["foot_slip_mean"] < 0.3
  assert max(m["torque_abs_max"].values()) <= max(g1.contract.effort_limit) + 1e-9
  assert result.traces["torque"].shape == (300, 29) and np.all(np.isfinite(result.traces["velocity"]))


def test_latency_queues_delay_targets_and_states(g1, g1_export):
  loop = ClosedLoop(g1, g1_export / "robot.xml", Perturbations(action_latency_steps=2, obs_latency_steps=1))
  seen, produced, ctrl, true = [], [], [], []
  real_step = g1.step

  def spy(state):
    seen.append(state.joint_pos.copy())
    produced.append(real_step(state))
    return produced[-1]

  g1.step = spy  # type: ignore[method-assign]
  for _ in range(5):
    true.append(read_state(loop.robot, loop.data).joint_pos.copy())
    loop.step(np.array([0.3, 0.0, 0.0]))
    ctrl.append(loop.data.ctrl.copy())
  for k in range(5):
    np.testing.assert_array_equal(ctrl[k], produced[max(k - 2, 0)])
    np.testing.assert_array_equal(seen[k], true[max(k - 1, 0)])


def test_perturbations_edit_the_model(g1, g1_export):
  nominal = ClosedLoop(g1, g1_export / "robot.xml").model
  p = Perturbations(friction_scale=0.5, added_base_mass_kg=3.0, motor_strength=0.8)
  edited = ClosedLoop(g1, g1_export / "robot.xml", p).model
  np.testing.assert_allclose(edited.geom_friction[:, 0], 0.5 * nominal.geom_friction[:, 0])
  assert edited.body_mass[1] == pytest.approx(nominal.body_mass[1] + 3.0)
  np.testing.assert_allclose(edited.actuator_gainprm[:, 0], 0.8 * nominal.actuator_gainprm[:, 0])
  np.testing.assert_allclose(edited.actuator_forcerange, 0.8 * nominal.actuator_forcerange)
  with pytest.raises(DeployError, match="must be > 0"):
    ClosedLoop(g1, g1_export / "robot.xml", Perturbations(motor_strength=0.0))


def test_push_changes_the_base_velocity_at_the_interval(g1, g1_export):
  runs = []
  for push in (0.0, 1.0):
    loop = ClosedLoop(g1, g1_export / "robot.xml", Perturbations(push_interval_s=0.1, push_max_vel=push))
    runs.append([loop.step(np.zeros(3)).velocity for _ in range(6)])
  np.testing.assert_allclose(runs[0][:4], runs[1][:4])  # identical until the first push at 0.1 s
  assert np.abs(runs[0][5] - runs[1][5]).max() > 0.05


def test_command_schedule_is_piecewise_constant():
  schedule = [(1.0, (0.5, 0.0, 0.0)), (3.0, (0.0, 0.0, 1.0))]
  assert command_at(schedule, 0.5).tolist() == [0, 0, 0]
  assert command_at(schedule, 1.0).tolist() == [0.5, 0, 0]
  assert command_at(schedule, 5.0).tolist() == [0, 0, 1.0]


def test_nan_action_stops_the_run_and_holds_the_last_target(g1_export, tmp_path):
  folder = tmp_path / "nan"
  shutil.copytree(g1_export, folder)
  nan_below_zero_vx_policy(folder / "policy.onnx", vx_index=93)  # 3 + 3 + 3 x 29 terms before commands
  runtime = PolicyRuntime(folder)
  result = run_closed_loop(runtime, folder / "robot.xml", 3.0, [(0.0, (0.0, 0, 0)), (0.5, (-0.5, 0, 0))])
  m = result.metrics
  assert m["status"] == "nan_action" and not m["survived"]
  assert m["nan_action_at_s"] == pytest.approx(0.5)
  assert len(result.traces["t"]) == 25  # 0.5 s of good steps at 50 Hz
  loop = ClosedLoop(runtime, folder / "robot.xml")
  loop.step(np.zeros(3))
  held = loop.data.ctrl.copy()
  with pytest.raises(NonFiniteActionError):
    loop.step(np.array([-0.5, 0.0, 0.0]))
  np.testing.assert_array_equal(loop.data.ctrl, held)
  np.testing.assert_allclose(held, runtime.contract.default_joint_pos)  # zero action = default pose


def test_mujoco_warnings_go_to_stderr_not_to_a_log_file_in_the_working_directory(
  tmp_path, monkeypatch, capfd
):
  from legged_robots.deploy.mujoco_sim import route_mujoco_warnings

  monkeypatch.chdir(tmp_path)
  route_mujoco_warnings()
  model = mujoco.MjModel.from_xml_string(
    '<mujoco><worldbody><body><freejoint/><geom size=".1"/></body></worldbody></mujoco>'
  )
  data = mujoco.MjData(model)
  data.qpos[0] = np.nan
  mujoco.mj_step(model, data)
  assert "[mujoco] warning: Nan, Inf or huge value in QPOS" in capfd.readouterr().err
  assert list(tmp_path.iterdir()) == []  # MuJoCo's own handler wrote MUJOCO_LOG.TXT here


def test_video_shows_the_asset_meshes_where_they_are_found(g1, g1_export):
  """robot.xml has collision geoms only; the G1's meshes come from mjlab's asset when present."""
  from dataclasses import replace

  from legged_robots.deploy.mujoco_sim import TrackingRenderer
  from legged_robots.deploy.visual import find_visual_mjcf

  mjcf, where = find_visual_mjcf(g1.contract)  # exported elsewhere: /tmp/site/mjlab/... in deploy.yaml
  assert mjcf is not None and mjcf.name == "g1.xml" and str(mjcf) in where
  contract = g1.contract
  for path, reason in ((None, "no robot.mjcf_path"), ("/nowhere/robot.xml", "not on this machine")):
    robot = replace(contract.robot, mjcf_path=path)
    missing, why = find_visual_mjcf(replace(contract, robot=robot))
    assert missing is None and reason in why
  loop = ClosedLoop(g1, g1_export / "robot.xml")
  plain = TrackingRenderer(loop.robot, 160, 90)
  meshes = TrackingRenderer(loop.robot, 160, 90, mjcf)
  assert meshes._visual is not None and meshes._visual.matched == 7 + 29 and meshes._visual.model.nmesh > 0
  assert np.abs(plain.frame(loop.data).astype(int) - meshes.frame(loop.data)).mean() > 1.0
  plain.close()
  meshes.close()
