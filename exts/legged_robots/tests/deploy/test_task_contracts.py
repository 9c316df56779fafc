"""Every registered task's policy observation is one the deploy runtime can build."""

from __future__ import annotations

import numpy as np

from legged_robots.deploy import PolicyRuntime, PolicySpec
from legged_robots.deploy.closed_loop import ClosedLoop, run_closed_loop
from legged_robots.deploy.observations import SUPPORTED_FUNCS

from .helpers import linear_onnx


def test_every_task_uses_only_deployable_observation_terms():
  from legged_robots.rl.contract_builder import POLICY_GROUP, plain
  from legged_robots.tasks import load_env_cfg, task_ids

  unsupported = {}
  for task in task_ids():
    group = load_env_cfg(task).observations[POLICY_GROUP]
    for name, term in group.terms.items():
      func = plain(term.func)
      if func not in SUPPORTED_FUNCS:
        unsupported[f"{task}/{name}"] = func
  assert unsupported == {}, "add these terms to legged_robots/deploy/observations.py"


def test_rough_g1_policy_runs_in_mujoco_with_a_flat_ground_scan(tmp_path):
  """Rough-G1's contract (187-ray height scan) built from the env runs in the closed loop."""
  from legged_robots.rl.contract_builder import build_contract, robot_mjcf
  from legged_robots.tasks import make_env

  env = make_env("Rough-G1", device="cpu", num_envs=1, seed=0).unwrapped
  try:
    obs_dim = int(env.observation_manager.compute()["actor"].shape[-1])
    contract = build_contract(env, "Rough-G1", PolicySpec("policy.onnx", ["obs"], ["actions"], obs_dim, 29))
    (tmp_path / "robot.xml").write_text(robot_mjcf(env, "robot"))
  finally:
    env.close()
  scan = contract.observations[-1]
  assert (scan.name, scan.size, scan.func) == ("height_scan", 187, "mjlab.envs.mdp.observations:height_scan")
  assert scan.params == {"sensor_name": "height_scanner"} and scan.clip == [-1.0, 1.0]
  contract.robot.sim_mjcf = "robot.xml"
  contract.save(tmp_path / "deploy.yaml")
  linear_onnx(tmp_path / "policy.onnx", np.zeros((obs_dim, 29)), np.zeros(29))
  runtime = PolicyRuntime(tmp_path)
  result = run_closed_loop(runtime, tmp_path / "robot.xml", 0.2, [(0.0, (0.0, 0.0, 0.0))])
  assert result.metrics["height_scan"].startswith("flat ground")
  loop = ClosedLoop(runtime, tmp_path / "robot.xml")
  seen = []
  real_step = runtime.step
  runtime.step = lambda state: seen.append(state) or real_step(state)  # type: ignore[method-assign]
  loop.step(np.zeros(3))
  # On a plane every vertical ray from the base frame reads the base height.
  np.testing.assert_allclose(seen[0].height_scan, np.full(187, loop.start_height))
  terms = runtime.compute_terms(seen[0])
  np.testing.assert_allclose(terms["height_scan"], np.full(187, 0.2 * loop.start_height), rtol=1e-6)
