"""st_gym's names (rl/st_gym_names.py): every place an entry points to exists in its task,
and an override with st_gym's key fails with the usual message plus where it lives here."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import legged_robots.tasks  # noqa: F401  (registers the tasks)
from legged_robots.rl.errors import OverrideError
from legged_robots.rl.overrides import apply_overrides, parse_overrides
from legged_robots.rl.st_gym_names import ST_GYM_NAMES, st_gym_hint
from legged_robots.rl.task_cfg import load_task_cfgs

_cfgs: dict[str, Any] = {}


def _roots(task: str) -> dict[str, Any]:
  if task not in _cfgs:
    cfgs = load_task_cfgs(task, play=False)
    _cfgs[task] = {"env": cfgs.env, "agent": cfgs.agent}
  return _cfgs[task]


def _resolve(roots: dict[str, Any], key: str) -> Any:
  head, *rest = key.split(".")
  node = roots[head]
  for i, part in enumerate(rest):
    if dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}:
      node = getattr(node, part)
    elif isinstance(node, dict) and part in node:
      node = node[part]
    else:
      raise KeyError(f"{key}: no {part!r} under {'.'.join([head, *rest[:i]])}")
  return node


@pytest.mark.parametrize("key", sorted(ST_GYM_NAMES))
def test_the_keys_an_entry_points_to_exist_and_its_own_key_does_not(key):
  entry = ST_GYM_NAMES[key]
  roots = _roots(entry.task)  # the task is registered
  for here in entry.here:
    _resolve(roots, here)  # raises KeyError naming the missing part (a value may be None)
  with pytest.raises(KeyError):
    _resolve(roots, key)  # st_gym's key is not a key here (else no entry is needed)


def test_using_21_joint_is_the_23_dof_task():
  assert ST_GYM_NAMES["env.using_21_joint"].here == ()
  njnt = {
    t: _roots(t)["env"].scene.entities["robot"].spec_fn().compile().njnt for t in ("Flat-G1", "Flat-G1-23DoF")
  }
  assert njnt == {"Flat-G1": 1 + 29, "Flat-G1-23DoF": 1 + 23}  # the free joint, then the hinges


def test_st_gyms_group_weight_is_set_from_the_command_line():
  cfgs = load_task_cfgs("Flat-G1", play=False)
  roots: dict[str, Any] = {"env": cfgs.env, "agent": cfgs.agent}
  apply_overrides(
    roots, parse_overrides(["env.rewards.joint_deviation.params.weights.hip=2.0"], ("env", "agent"))
  )
  params = roots["env"].rewards["joint_deviation"].params
  assert params["weights"] == {"hip": 2.0, "feet": 0.5, "arms": 1.0, "torso": 1.0, "wrist": 1.0}
  assert params["groups"]["hip"] == r".*_hip_(yaw|roll)_joint"


@pytest.mark.parametrize(
  ("override", "expected"),
  [
    (
      "env.rewards.joint_deviation_hip.weight=-0.2",
      "st_gym's env.rewards.joint_deviation_hip: one joint_deviation term weights every group (one "
      "batched term instead of five); this group's factor of its weight is "
      "env.rewards.joint_deviation.params.weights.hip",
    ),
    ("env.curriculum.alive_rew.params.num_steps=500", "is env.curriculum.alive_schedule"),
    ("agent.actor_hidden_dims=[256,128]", "st_gym's agent.actor_hidden_dims: it is agent.actor.hidden_dims"),
    ("env.num_envs=64", "it is env.scene.num_envs"),
  ],
)
def test_an_override_with_st_gyms_key_says_where_it_lives_here(override, expected):
  roots = _roots("Rough-G1")
  with pytest.raises(OverrideError) as info:
    apply_overrides(dict(roots), parse_overrides([override], ("env", "agent")))
  message = str(info.value)
  assert message.startswith("unknown override key") and expected in message, message


def test_other_unknown_keys_get_no_st_gym_note():
  assert st_gym_hint("env.rewards.no_such_term") == ""
  with pytest.raises(OverrideError) as info:
    apply_overrides(
      dict(_roots("Rough-G1")), parse_overrides(["env.rewards.aliv.weight=1"], ("env", "agent"))
    )
  assert "st_gym's" not in str(info.value)


def test_docs_list_every_entry():
  text = (Path(__file__).resolve().parents[4] / "docs" / "tasks.md").read_text()
  section = text.split("## From st_gym's names", 1)[1]
  missing = [key for key in ST_GYM_NAMES if f"| `{key}` |" not in section]
  assert not missing, f"docs/tasks.md 'From st_gym's names' lacks {missing}"
