"""Every registered task builds, resets and steps on CPU; registry and build-time errors."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import pytest
import torch
from mjlab.entity import Entity
from mjlab.envs import ManagerBasedRlEnv
from mjlab.managers.scene_entity_config import SceneEntityCfg
from mjlab.scene import Scene
from mjlab.tasks import registry as mjlab_registry

from legged_robots.assets import G1_23DOF_LOCKED_JOINTS, g1_robot_cfg
from legged_robots.tasks import load_env_cfg, make_env, task_ids
from legged_robots.tasks.registry import UnknownTaskError, check_task_id

EXPECTED = (
  {
    f"{terrain}-{robot}{suffix}"
    for terrain in ("Flat", "Rough")
    for robot in ("G1", "G1-23DoF", "Go1")
    for suffix in ("", "-Play")
  }
  | {
    f"{family}-{terrain}-{robot}{suffix}"
    for family in ("Amp", "Mimic")
    for terrain in ("Flat", "Rough")
    for robot in ("G1", "G1-23DoF")
    for suffix in ("", "-Play")
  }
  | {"AmpMimic-Flat-G1", "AmpMimic-Flat-G1-Play", "Tracking-Flat-G1", "Tracking-Flat-G1-Play"}
)
# Policy observation = ang vel (3) + gravity (3) + 3 x joints (pos, vel, last action)
# + command (3) [+ 11 x 17 height scan on rough terrain].
ACTOR_SIZE = {"G1": 6 + 3 * 29 + 3, "G1-23DoF": 6 + 3 * 23 + 3, "Go1": 6 + 3 * 12 + 3}
SCAN = 17 * 11


def test_all_tasks_registered_in_both_registries():
  assert set(task_ids()) == EXPECTED
  assert set(mjlab_registry.list_tasks()) >= EXPECTED
  for tid in EXPECTED:
    assert gym.spec(tid).id == tid


def test_unknown_task_lists_valid_ids():
  with pytest.raises(UnknownTaskError) as err:
    check_task_id("Flat-G2")
  msg = str(err.value)
  assert "Unknown task id 'Flat-G2'" in msg and "Did you mean: Flat-G1" in msg
  assert all(tid in msg for tid in EXPECTED)
  with pytest.raises(UnknownTaskError):
    load_env_cfg("NoSuchTask")


def test_23dof_g1_locks_the_wrists():
  full = Entity(g1_robot_cfg(29)).spec.compile()
  locked = Entity(g1_robot_cfg(23)).spec.compile()
  hinge = lambda m: [m.joint(i).name for i in range(m.njnt) if m.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]  # noqa: E731
  assert len(hinge(full)) == 29 and len(hinge(locked)) == 23
  assert set(hinge(full)) - set(hinge(locked)) == set(G1_23DOF_LOCKED_JOINTS)
  assert locked.nu == 23 and locked.nbody == full.nbody
  assert locked.body_subtreemass[1] == pytest.approx(full.body_subtreemass[1])


@pytest.mark.slow
@pytest.mark.parametrize("task_id", sorted(EXPECTED))
def test_task_builds_resets_and_steps(task_id: str):
  env = make_env(task_id, device="cpu", num_envs=2, seed=0)
  try:
    family = task_id.split("-")[0] if task_id.startswith(("Amp", "Mimic-", "Tracking-")) else ""
    terrain, robot = task_id.removeprefix(f"{family}-").split("-", 1)
    robot = robot.removesuffix("-Play")
    obs, _ = env.reset()
    dims = env.observation_manager.group_obs_dim
    # Mimic: + goal positions and velocities of the waist and arms (17 joints, 11 without wrists).
    goals = 2 * (17 if robot == "G1" else 11) if "Mimic" in family else 0
    if family == "Tracking":  # goals of all 29 joints instead of the velocity command
      goals = 2 * 29 - 3
    expected_actor = ACTOR_SIZE[robot] + (SCAN if terrain == "Rough" else 0) + goals
    assert dims["actor"] == (expected_actor,)
    if task_id.startswith("Amp"):
      # 2 frames x (height 1 + gravity 3 + lin/ang vel 6 + joint pos/vel 2 J).
      assert dims["amp"] == (2 * (10 + 2 * num_joints(robot)),)
    num_actions = env.action_manager.total_action_dim
    assert num_actions == num_joints(robot)
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
      action = torch.rand(2, num_actions, generator=gen) * 2 - 1
      obs, reward, terminated, truncated, _ = env.step(action)
      assert reward.shape == (2,) and torch.isfinite(reward).all()
      assert terminated.shape == truncated.shape == (2,)
      for group, tensor in obs.items():
        assert tensor.shape == (2, *dims[group]), group
        assert torch.isfinite(tensor).all(), group
  finally:
    env.close()


def num_joints(robot: str) -> int:
  return {"G1": 29, "G1-23DoF": 23, "Go1": 12}[robot]


def test_pattern_matching_nothing_fails_at_build_naming_what_exists():
  cfg = load_env_cfg("Flat-Go1")
  cfg.scene.num_envs = 1
  cfg.rewards["feet_slide"].params["asset_cfg"] = SceneEntityCfg("robot", site_names=("left_toe",))
  with pytest.raises(ValueError, match=r"(?s)left_toe.*FR"):
    ManagerBasedRlEnv(cfg, device="cpu")


def _contact_sensor_bodies(model: mujoco.MjModel) -> dict[str, list[tuple[str, bool]]]:
  """Contact sensor name -> [(primary body, whether it or its subtree has a colliding geom)]."""
  collides = (model.geom_contype | model.geom_conaffinity) != 0
  out: dict[str, list[tuple[str, bool]]] = {}
  for i in range(model.nsensor):
    if model.sensor_type[i] != mujoco.mjtSensor.mjSENS_CONTACT:
      continue
    kind, obj = model.sensor_objtype[i], model.sensor_objid[i]
    if kind == mujoco.mjtObj.mjOBJ_GEOM:
      body, geoms = model.geom_bodyid[obj], [obj]
    else:
      body = obj
      subtree = {obj}
      if kind == mujoco.mjtObj.mjOBJ_XBODY:
        subtree |= {b for b in range(model.nbody) if obj in _ancestors(model, b)}
      geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] in subtree]
    out[model.sensor(i).name] = [(model.body(body).name, bool(collides[geoms].any()))]
  return out


def _ancestors(model: mujoco.MjModel, body: int) -> set[int]:
  seen = set()
  while body > 0:
    body = model.body_parentid[body]
    seen.add(body)
  return seen


@pytest.mark.parametrize("task_id", ["Flat-G1", "Flat-G1-23DoF", "Flat-Go1"])
def test_contact_sensors_watch_only_bodies_that_can_collide(task_id: str):
  # A contact sensor on a body without collision geoms reads zero forever, yet it runs
  # in every physics step (contact matching over all contacts of all worlds).
  cfg = load_env_cfg(task_id)
  cfg.scene.num_envs = 1
  sensors = _contact_sensor_bodies(Scene(cfg.scene, device="cpu").compile())
  dead = {name: body for name, found in sensors.items() for body, ok in found if not ok}
  assert sensors and not dead, f"contact sensors on bodies without collision geoms: {dead}"


def test_g1_undesired_contacts_cover_every_colliding_body_above_the_ankles():
  cfg = load_env_cfg("Flat-G1")
  cfg.scene.num_envs = 1
  sensors = _contact_sensor_bodies(Scene(cfg.scene, device="cpu").compile())
  bodies = {body for name, found in sensors.items() if "undesired" in name for body, _ in found}
  sides = ("left", "right")
  links = ("hip_roll", "hip_yaw", "knee", "shoulder_yaw", "elbow")
  assert bodies == {"robot/pelvis", "robot/torso_link"} | {
    f"robot/{s}_{k}_link" for s in sides for k in links
  }
  # Force only: the undesired-contact reward reads no other field.
  assert all(name.endswith("_force") for name in sensors if "undesired" in name)
