"""skrl agent configs: Isaac Lab's skrl YAML layout, read into typed dataclasses.

The files live beside the st_rl agents, ``tasks/config/<robot>/agents/skrl_{ppo,amp}_cfg.yaml``,
with the sections Isaac Lab users know: ``seed``, ``models`` (``policy``, ``value`` and, for
AMP, ``discriminator``), ``memory``, ``agent`` (field names of skrl's ``PPO_CFG``/``AMP_CFG``),
``trainer``, and for AMP ``motion_dataset`` and ``reply_buffer``. A YAML key ``class`` is the
field ``class_name`` here (``class`` is a Python keyword). Every key is checked when a file is
read: an unknown key names the closest valid ones, a value of the wrong type the expected one.

st_gym adds one top-level key, ``clip_actions`` (float or null): the clamp of raw actions
before the env, as rsl_rl's ``agent.clip_actions``; it becomes deploy.yaml's
``action.raw_clip``. The classes named by strings (``RunningStandardScaler``,
``KLAdaptiveLR``) are the only ones skrl's YAML runner would accept there too; they are mapped
to classes by a table in ``legged_robots.rl.skrl.agent``, never evaluated.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from legged_robots.tasks.registry import load_agent_cfg, register_skrl_agents

Activation = Literal["elu", "relu", "tanh", "selu", "leaky_relu"]
Preprocessor = Literal["RunningStandardScaler"]


class SkrlCfgError(ValueError):
  """A skrl agent YAML with an unknown key or a value of the wrong type."""


@dataclass(kw_only=True)
class NetworkCfg:
  """One MLP container of a model (skrl's model-instantiator ``network`` entry)."""

  name: str = "net"
  input: Literal["OBSERVATIONS", "STATES"] = "OBSERVATIONS"
  """OBSERVATIONS: the ``actor`` group (the policy reads only this); STATES: ``critic``."""
  layers: list[int] = field(default_factory=lambda: [512, 256, 128])
  activations: Activation = "elu"


@dataclass(kw_only=True)
class RnnCfg:
  """An LSTM before the MLP (obs -> LSTM -> MLP), as rsl_rl's RNNModel."""

  type: Literal["lstm"] = "lstm"
  hidden_size: int = 256
  num_layers: int = 1
  sequence_length: int = 24
  """Steps per training sequence; must divide ``agent.rollouts``."""


@dataclass(kw_only=True)
class PolicyModelCfg:
  """Gaussian policy: mean = MLP(obs), state-independent log std."""

  class_name: Literal["GaussianMixin"] = "GaussianMixin"
  clip_log_std: bool = True
  min_log_std: float = -20.0
  max_log_std: float = 2.0
  initial_log_std: float = 0.0
  """log of the initial action std (0.0: std 1, st_rl's init_noise_std)."""
  fixed_log_std: bool = False
  rnn: RnnCfg | None = None
  network: list[NetworkCfg] = field(default_factory=lambda: [NetworkCfg()])
  output: Literal["ACTIONS"] = "ACTIONS"


@dataclass(kw_only=True)
class ValueModelCfg:
  """Deterministic MLP with one output: the value (or the AMP discriminator's logit)."""

  class_name: Literal["DeterministicMixin"] = "DeterministicMixin"
  rnn: RnnCfg | None = None
  network: list[NetworkCfg] = field(default_factory=lambda: [NetworkCfg(input="STATES")])
  output: Literal["ONE"] = "ONE"


@dataclass(kw_only=True)
class ModelsCfg:
  separate: bool = True
  """False: policy and value share one trunk (its input must be OBSERVATIONS)."""
  policy: PolicyModelCfg = field(default_factory=PolicyModelCfg)
  value: ValueModelCfg = field(default_factory=ValueModelCfg)
  discriminator: ValueModelCfg | None = None
  """AMP only: reads the ``amp`` group (network input OBSERVATIONS)."""


@dataclass(kw_only=True)
class MemoryCfg:
  class_name: Literal["RandomMemory"] = "RandomMemory"
  memory_size: int = -1
  """-1: ``agent.rollouts`` (the rollout memory); AMP datasets give a size."""


@dataclass(kw_only=True)
class ExperimentCfg:
  directory: str
  """Experiment folder under logs/skrl/ (``--experiment_name``)."""
  experiment_name: str = ""
  """Suffix of the timestamped run folder (``--run_name``)."""
  write_interval: int | Literal["auto"] = "auto"
  """Env steps between TensorBoard writes; auto: every iteration (rollouts steps)."""
  checkpoint_interval: int | Literal["auto"] = "auto"
  """Env steps between checkpoints (a multiple of rollouts); auto: a tenth of the run."""


@dataclass(kw_only=True)
class OnPolicyAgentCfg:
  """The ``agent`` section's keys that skrl's PPO and AMP share (``PPO_CFG``/``AMP_CFG`` names);
  defaults are st_gym's PPO table, as st_rl's."""

  class_name: Literal["PPO", "AMP"]
  rollouts: int = 24
  learning_epochs: int = 5
  mini_batches: int = 4
  discount_factor: float = 0.99
  gae_lambda: float = 0.95
  learning_rate: float = 1.0e-3
  learning_rate_scheduler: Literal["KLAdaptiveLR"] | None = "KLAdaptiveLR"
  learning_rate_scheduler_kwargs: dict[str, float] = field(default_factory=lambda: {"kl_threshold": 0.01})
  observation_preprocessor: Preprocessor | None = "RunningStandardScaler"
  """Normalizes the policy input; folded into policy.onnx at export."""
  observation_preprocessor_kwargs: dict[str, float] = field(default_factory=dict)
  state_preprocessor: Preprocessor | None = "RunningStandardScaler"
  state_preprocessor_kwargs: dict[str, float] = field(default_factory=dict)
  value_preprocessor: Preprocessor | None = "RunningStandardScaler"
  value_preprocessor_kwargs: dict[str, float] = field(default_factory=dict)
  grad_norm_clip: float = 1.0
  ratio_clip: float = 0.2
  value_clip: float = 0.2
  entropy_loss_scale: float = 0.01
  value_loss_scale: float = 1.0
  rewards_shaper_scale: float = 1.0
  """Multiplies the env reward before the agent sees it (Isaac Lab's key)."""
  time_limit_bootstrap: bool = True
  """Time-outs bootstrap from the value instead of ending the return (rsl_rl does this too)."""
  mixed_precision: bool = False
  experiment: ExperimentCfg


@dataclass(kw_only=True)
class PpoAgentCfg(OnPolicyAgentCfg):
  """skrl PPO (``PPO_CFG``)."""

  class_name: Literal["PPO"] = "PPO"  # pyright: ignore[reportIncompatibleVariableOverride]
  kl_threshold: float = 0.0
  """KL early stop of an update's epochs (0: off)."""


@dataclass(kw_only=True)
class AmpAgentCfg(OnPolicyAgentCfg):
  """skrl AMP (``AMP_CFG``): PPO plus a discriminator on the ``amp`` group."""

  class_name: Literal["AMP"] = "AMP"  # pyright: ignore[reportIncompatibleVariableOverride]
  amp_observation_preprocessor: Preprocessor | None = "RunningStandardScaler"
  amp_observation_preprocessor_kwargs: dict[str, float] = field(default_factory=dict)
  discriminator_loss_scale: float = 5.0
  amp_batch_size: int = 512
  """Expert windows drawn into the motion dataset per update."""
  task_reward_scale: float = 0.5
  style_reward_scale: float = 0.02
  discriminator_batch_size: int = 4096
  discriminator_logit_regularization_scale: float = 0.05
  discriminator_gradient_penalty_scale: float = 5.0
  discriminator_weight_decay_scale: float = 1.0e-4


@dataclass(kw_only=True)
class TrainerCfg:
  class_name: Literal["SequentialTrainer"] = "SequentialTrainer"
  timesteps: int
  """Env steps per env of a run: max_iterations x rollouts (``--max_iterations`` sets it)."""
  environment_info: str = "log"
  """Key of the env's step infos whose scalars go to TensorBoard (mjlab: ``log``)."""


@dataclass(kw_only=True)
class SkrlAgentCfg:
  """One skrl agent YAML."""

  seed: int = 42
  clip_actions: float | None = None
  models: ModelsCfg = field(default_factory=ModelsCfg)
  memory: MemoryCfg = field(default_factory=MemoryCfg)
  agent: PpoAgentCfg | AmpAgentCfg
  trainer: TrainerCfg
  motion_dataset: MemoryCfg | None = None
  """AMP: expert windows (num_envs 1)."""
  reply_buffer: MemoryCfg | None = None
  """AMP: past policy windows (skrl's spelling)."""

  @property
  def algorithm(self) -> str:
    return self.agent.class_name

  @property
  def max_iterations(self) -> int:
    return self.trainer.timesteps // max(self.agent.rollouts, 1)

  @property
  def recurrent(self) -> bool:
    return self.models.policy.rnn is not None


# --- reading and writing ---------------------------------------------------------------

_YAML_NAME = {"class_name": "class"}


def _fields(cls: type) -> dict[str, dataclasses.Field]:
  return {_YAML_NAME.get(f.name, f.name): f for f in dataclasses.fields(cls)}


def _dataclass_option(hint: Any, value: Any) -> type | None:
  """The dataclass a mapping value stands for under hint (``A | B | None``: by ``class``)."""
  options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
  classes = [o for o in options if isinstance(o, type) and dataclasses.is_dataclass(o)]
  if len(classes) > 1 and isinstance(value, dict):
    for cls in classes:
      if value.get("class") == typing.get_args(typing.get_type_hints(cls)["class_name"])[0]:
        return cls
  return classes[0] if classes else None


def _build(cls: type, data: Any, where: str) -> Any:
  if not isinstance(data, dict):
    raise SkrlCfgError(f"{where}: expected a mapping, got {type(data).__name__} ({data!r})")
  fields, hints = _fields(cls), typing.get_type_hints(cls)
  kwargs = {}
  for key, value in data.items():
    if key not in fields:
      close = difflib.get_close_matches(str(key), list(fields), n=3, cutoff=0.5)
      shown = ", ".join(f"{where}.{k}" for k in (close or list(fields)))
      label = "closest valid keys" if close else "valid keys"
      raise SkrlCfgError(f"unknown key {where}.{key}; {label}: {shown}")
    f = fields[key]
    kwargs[f.name] = _value(hints[f.name], value, f"{where}.{key}")
  missing = [
    k
    for k, f in fields.items()
    if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
  ]
  if missing:
    raise SkrlCfgError(f"{where}: missing keys {', '.join(f'{where}.{k}' for k in missing)}")
  return cls(**kwargs)


def _describe(hint: Any) -> str:
  if typing.get_origin(hint) is Literal:
    return f"one of {list(typing.get_args(hint))}"
  return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _value(hint: Any, value: Any, where: str) -> Any:
  """value checked against hint (dataclasses built, YAML ints accepted as floats)."""
  origin, args = typing.get_origin(hint), typing.get_args(hint)
  if isinstance(value, dict) and (cls := _dataclass_option(hint, value)) is not None:
    return _build(cls, value, where)
  if origin in (typing.Union, types.UnionType):
    for option in args:
      try:
        return _value(option, value, where)
      except SkrlCfgError:
        continue
    raise SkrlCfgError(f"{where}: expected {' or '.join(_describe(a) for a in args)}, got {value!r}")
  if origin is Literal:
    if value in args:
      return value
    raise SkrlCfgError(f"{where}: expected one of {list(args)}, got {value!r}")
  if hint is type(None) and value is None:
    return None
  if origin is list and isinstance(value, list):
    return [_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
  if origin is dict and (isinstance(value, dict) or value is None):
    return {str(k): _value(args[1], v, f"{where}.{k}") for k, v in (value or {}).items()}
  if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
    return float(value)
  if hint in (int, str, bool) and type(value) is hint:
    return value
  raise SkrlCfgError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def parse_skrl_cfg(data: Any, source: str) -> SkrlAgentCfg:
  """Build the config from YAML data; errors start with ``source``."""
  try:
    cfg = _build(SkrlAgentCfg, data, "cfg")
  except SkrlCfgError as e:
    raise SkrlCfgError(f"{source}: {str(e).replace('cfg.', '')}") from None
  return cfg


class _Loader(yaml.SafeLoader):
  """YAML 1.2 floats (``1e-3``, which PyYAML's YAML 1.1 reads as a string)."""


_Loader.add_implicit_resolver(
  "tag:yaml.org,2002:float",
  re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
  list("-+0123456789."),
)


def load_skrl_cfg(path: Path) -> SkrlAgentCfg:
  """Read a skrl agent YAML, checking every key and value."""
  try:
    data = yaml.load(Path(path).read_text(), Loader=_Loader)
  except (OSError, yaml.YAMLError) as e:
    raise SkrlCfgError(f"cannot read skrl agent config {path}: {e}") from None
  return parse_skrl_cfg(data, str(path))


def skrl_cfg_to_dict(cfg: SkrlAgentCfg) -> dict[str, Any]:
  """Plain data in the YAML layout (``class`` keys), readable by ``parse_skrl_cfg``."""

  def rename(value: Any) -> Any:
    if isinstance(value, dict):
      return {_YAML_NAME.get(k, k): rename(v) for k, v in value.items()}
    if isinstance(value, list):
      return [rename(v) for v in value]
    return value

  return rename(dataclasses.asdict(cfg))


def dump_skrl_cfg(cfg: SkrlAgentCfg, path: Path) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(yaml.safe_dump(skrl_cfg_to_dict(cfg), sort_keys=False))


def skrl_agent_cfg(
  path: Path, *, experiment_name: str, max_iterations: int, recurrent: bool = False
) -> SkrlAgentCfg:
  """A task's skrl agent: the robot's YAML with the task's experiment folder and run length."""
  cfg = load_skrl_cfg(path)
  cfg.agent.experiment.directory = experiment_name
  cfg.trainer.timesteps = max_iterations * cfg.agent.rollouts
  if recurrent:
    cfg.models.policy.rnn = RnnCfg(sequence_length=cfg.agent.rollouts)
    cfg.models.value.rnn = RnnCfg(sequence_length=cfg.agent.rollouts)
  return cfg


def skrl_agents_for(task_id: str, ppo_yaml: Path, amp_yaml: Path | None = None) -> None:
  """Register ``skrl_ppo``, ``skrl_ppo_lstm`` (and ``skrl_amp`` from amp_yaml) for a task,
  with the experiment folder name and run length of the task's default st_rl agent."""

  def factory(path: Path, recurrent: bool = False):
    def make() -> SkrlAgentCfg:
      st_rl = load_agent_cfg(task_id)
      return skrl_agent_cfg(
        path, experiment_name=st_rl.experiment_name, max_iterations=st_rl.max_iterations, recurrent=recurrent
      )

    return make

  agents = {"skrl_ppo": factory(ppo_yaml), "skrl_ppo_lstm": factory(ppo_yaml, recurrent=True)}
  if amp_yaml is not None:
    agents["skrl_amp"] = factory(amp_yaml)
  register_skrl_agents(task_id, agents)
