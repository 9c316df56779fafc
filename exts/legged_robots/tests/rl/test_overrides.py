"""Override parsing and application on small hand-made configs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from legged_robots.rl.errors import OverrideError
from legged_robots.rl.overrides import apply_overrides, parse_overrides


@dataclass
class Term:
  weight: float = 1.0
  params: dict = field(default_factory=dict)


@dataclass
class Algo:
  learning_rate: float = 1e-3
  epochs: int = 5
  schedule: Literal["adaptive", "fixed"] = "adaptive"
  hidden_dims: tuple[int, ...] = (512, 256)
  clip: float | None = None
  use_clip: bool = True


@dataclass
class Env:
  rewards: dict[str, Term | None] = field(default_factory=lambda: {"alive": Term(), "feet": Term()})
  ranges: tuple[float, float] = (-1.0, 1.0)


def _apply(*args: str) -> tuple[Env, Algo]:
  env, algo = Env(), Algo()
  apply_overrides({"env": env, "agent": algo}, parse_overrides(list(args), ("env", "agent")))
  return env, algo


def test_values_are_set_with_their_declared_types():
  env, algo = _apply(
    "env.rewards.alive.weight=2",
    "agent.learning_rate=3e-4",
    "agent.epochs=8",
    "agent.schedule=fixed",
    "agent.hidden_dims=[64, 32]",
    "agent.clip=0.5",
    "env.ranges=[-2, 2]",
    "+env.rewards.feet.params.std=0.25",
  )
  alive, feet = env.rewards["alive"], env.rewards["feet"]
  assert alive is not None and feet is not None
  assert alive.weight == 2.0 and isinstance(alive.weight, float)
  assert algo.learning_rate == pytest.approx(3e-4)  # YAML 1.1 reads 3e-4 as a string
  assert algo.epochs == 8
  assert algo.schedule == "fixed"
  assert algo.hidden_dims == (64, 32)
  assert algo.clip == 0.5
  assert env.ranges == (-2.0, 2.0)
  assert feet.params == {"std": 0.25}


def test_null_removes_a_term_and_unsets_an_optional():
  env, algo = _apply("env.rewards.feet=null", "agent.clip=null")
  assert env.rewards["feet"] is None
  assert algo.clip is None


def test_unknown_key_names_the_closest_valid_keys():
  with pytest.raises(OverrideError, match=r"env\.rewards\.alive"):
    _apply("env.rewards.aliv.weight=2")
  with pytest.raises(OverrideError, match=r"agent\.learning_rate"):
    _apply("agent.learning_rat=1e-3")
  with pytest.raises(OverrideError, match=r"Did you mean agent\.epochs"):
    _apply("agnt.epochs=3")


@pytest.mark.parametrize(
  ("arg", "expected"),
  [
    ("agent.epochs=2.5", "expected int"),
    ("agent.epochs=true", "expected int"),
    ("agent.use_clip=1", "expected bool"),
    ("agent.learning_rate=fast", "expected float"),
    ("agent.schedule=cosine", "expected one of"),
    ("env.ranges=[1, 2, 3]", "2 items"),
    ("env.rewards.alive=3", "set its fields"),
    ("agent.epochs=null", "expected int"),
  ],
)
def test_wrong_value_type_is_a_clear_error(arg, expected):
  with pytest.raises(OverrideError, match=expected):
    _apply(arg)


def test_syntax_errors():
  with pytest.raises(OverrideError, match="key=value"):
    _apply("agent.epochs")
  with pytest.raises(OverrideError, match="null"):
    _apply("env.rewards.feet=null", "env.rewards.feet.weight=1")


@dataclass
class Event:
  params: dict = field(default_factory=lambda: {"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}})


@dataclass
class Scene:
  events: dict[str, Event] = field(default_factory=lambda: {"push": Event()})
  gains: dict[str, float] = field(default_factory=lambda: {"hip": 100.0})
  hidden: list = field(default_factory=lambda: [256, 128])


def _apply_scene(*args: str) -> Scene:
  scene = Scene()
  apply_overrides({"env": scene}, parse_overrides(list(args), ("env",)))
  return scene


@pytest.mark.parametrize("text", ["1e6", "1.0e6", "3e-4", "2E+3", ".5", "5.e-1"])
def test_yaml11_float_strings_are_floats_inside_lists_and_mappings(text):
  """PyYAML reads these as str inside [..] and {..}; they used to reach the env as str."""
  scene = _apply_scene(
    f"env.events.push.params.velocity_range.x=[-{text}, {text}]",
    f"env.gains={{hip: {text}}}",
  )
  low, high = scene.events["push"].params["velocity_range"]["x"]
  assert isinstance(low, float) and isinstance(high, float) and high == float(text) == -low
  assert scene.gains["hip"] == float(text) and isinstance(scene.gains["hip"], float)


@pytest.mark.parametrize(
  ("arg", "expected"),
  [
    ("env.events.push.params.velocity_range.x=[-1, fast]", r"velocity_range\.x\[1\].*expected float"),
    ("env.events.push.params.velocity_range={x: [a, b]}", r"velocity_range\.x\[0\].*expected float"),
    ("env.gains={hip: stiff}", r"gains\.hip.*expected float"),
    ("env.hidden=[64, wide]", r"hidden\[1\].*expected int"),
  ],
)
def test_element_types_inside_lists_and_mappings_are_checked(arg, expected):
  with pytest.raises(OverrideError, match=expected):
    _apply_scene(arg)


def test_plus_adds_a_key_to_a_mapping_of_values():
  scene = _apply_scene("+env.events.push.params.velocity_range.z=[-1e-1, 0.1]")
  assert scene.events["push"].params["velocity_range"]["z"] == (-0.1, 0.1)  # typed like x and y


def test_adding_a_key_needs_plus_and_a_key_mjlab_reads():
  with pytest.raises(OverrideError, match=r"to add the key write \+env\.events"):
    _apply_scene("env.events.push.params.velocity_range.z=[-0.1, 0.1]")
  with pytest.raises(OverrideError, match=r"mjlab reads only the keys"):
    _apply_scene("+env.events.push.params.velocity_range.w=[-0.1, 0.1]")
  with pytest.raises(OverrideError, match=r"already exists; drop the \+"):
    _apply_scene("+env.events.push.params.velocity_range.x=[-0.1, 0.1]")
  with pytest.raises(OverrideError, match=r"expected float"):
    _apply_scene("+env.events.push.params.velocity_range.z=[low, 0.1]")
  with pytest.raises(OverrideError, match=r"term configs"):
    _apply_scene("+env.events.kick={}")


def test_tilde_deletes_a_term_and_only_mapping_entries():
  env, _ = _apply("~env.rewards.feet")
  assert list(env.rewards) == ["alive"]
  with pytest.raises(OverrideError, match=r"field of Algo, it cannot be deleted"):
    _apply("~agent.epochs")
  with pytest.raises(OverrideError, match=r"closest valid keys: env\.rewards\.feet"):
    _apply("~env.rewards.fet")


def test_double_plus_sets_or_adds():
  env, algo = _apply("++agent.epochs=7", "++env.rewards.feet.params.std=0.5")
  feet = env.rewards["feet"]
  assert algo.epochs == 7 and feet is not None and feet.params == {"std": 0.5}


def test_a_mapping_value_merges_into_the_mapping_it_sets():
  """hydra merges {..} into the existing mapping (the old parser replaced it)."""
  scene = _apply_scene("env.events.push.params.velocity_range={x: [-1, 1]}")
  assert scene.events["push"].params["velocity_range"] == {"x": (-1.0, 1.0), "y": (-0.5, 0.5)}
  with pytest.raises(OverrideError, match=r"no key 'z'.*to add it write \+\+env"):
    _apply_scene("env.events.push.params.velocity_range={z: [-1, 1]}")


def test_interpolation_and_quoted_strings():
  _, algo = _apply("agent.clip=${agent.learning_rate}", "agent.schedule='fixed'")
  assert algo.clip == pytest.approx(1e-3) and algo.schedule == "fixed"


def test_a_sweep_needs_multirun():
  with pytest.raises(OverrideError, match=r"is a sweep: add --multirun"):
    _apply("agent.epochs=1,2")


def test_applying_overrides_leaves_hydras_config_store_as_it_found_it():
  """Each application composes through hydra's ConfigStore, which hydra deep-copies whole on
  every load: an entry left per call (a study's trials, the test suite) slowed every later one."""
  from hydra.core.config_store import ConfigStore

  before = dict(ConfigStore.instance().repo)
  _apply("agent.learning_rate=3e-4")
  with pytest.raises(OverrideError):
    _apply("agent.epochs=fast")
  assert ConfigStore.instance().repo == before
