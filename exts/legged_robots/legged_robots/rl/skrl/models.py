"""skrl models from the agent YAML's ``models`` section: Gaussian policy, value, discriminator.

- policy: ``mean = MLP(obs)`` (or ``MLP(LSTM(obs))``) and a state-independent ``log_std``
  parameter (skrl's ``GaussianMixin``); it reads only ``observations`` (the ``actor``
  group), so that it can be deployed;
- value: ``V = MLP(states)`` (the privileged ``critic`` group; or ``observations``) with one
  output (``DeterministicMixin``), MLP or LSTM;
- discriminator (AMP): ``logit = MLP(amp window)``, its last module is the output Linear
  (skrl's AMP regularizes that layer's weights);
- ``separate: false``: one MLP trunk on ``observations`` with a mean head and a value head.

The LSTM models follow skrl's documented RNN model contract: ``get_specification`` gives the
state sizes, rollout steps carry the state in ``inputs["rnn"]``, and training feeds
sequences of ``sequence_length`` steps whose state is zeroed after an episode end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import gymnasium
import torch
from skrl.models.torch import DeterministicMixin, GaussianMixin, Model
from torch import nn

from legged_robots.tasks.agents_skrl import ModelsCfg, NetworkCfg, PolicyModelCfg, RnnCfg, ValueModelCfg

ACTIVATIONS: dict[str, type[nn.Module]] = {
  "elu": nn.ELU,
  "relu": nn.ReLU,
  "tanh": nn.Tanh,
  "selu": nn.SELU,
  "leaky_relu": nn.LeakyReLU,
}
INPUT_KEYS = {"OBSERVATIONS": "observations", "STATES": "states"}


def mlp(in_dim: int, network: NetworkCfg, out_dim: int | None) -> nn.Sequential:
  """Linear + activation per hidden layer, then a linear output layer (none: out_dim None)."""
  modules: list[nn.Module] = []
  dim = in_dim
  for width in network.layers:
    modules += [nn.Linear(dim, width), ACTIVATIONS[network.activations]()]
    dim = width
  if out_dim is not None:
    modules.append(nn.Linear(dim, out_dim))
  return nn.Sequential(*modules)


def _space_size(model: Model, key: str) -> int:
  return int(model.num_observations if key == "observations" else model.num_states)


@dataclass(frozen=True)
class Spaces:
  """What skrl's ``Model`` is built from."""

  observation_space: gymnasium.Space | None
  state_space: gymnasium.Space | None
  action_space: gymnasium.Space | None
  device: str | torch.device


def _gaussian_init(model: Any, cfg: PolicyModelCfg) -> None:
  """GaussianMixin with the policy cfg's log-std bounds, and the log-std parameter."""
  GaussianMixin.__init__(
    model,
    clip_actions=False,
    clip_log_std=cfg.clip_log_std,
    min_log_std=cfg.min_log_std,
    max_log_std=cfg.max_log_std,
    reduction="sum",
    role="policy",
  )
  log_std = torch.full((int(model.num_actions),), float(cfg.initial_log_std))
  model.log_std_parameter = nn.Parameter(log_std, requires_grad=not cfg.fixed_log_std)


class _Lstm(nn.Module):
  """An LSTM that runs rollout steps (one step per env) or training sequences."""

  def __init__(self, in_dim: int, cfg: RnnCfg, num_envs: int):
    super().__init__()
    self.cfg, self.num_envs = cfg, num_envs
    self.lstm = nn.LSTM(in_dim, cfg.hidden_size, cfg.num_layers, batch_first=True)

  def specification(self) -> dict[str, Any]:
    size = (self.cfg.num_layers, self.num_envs, self.cfg.hidden_size)
    return {"rnn": {"sequence_length": self.cfg.sequence_length, "sizes": [size, size]}}

  def forward(self, x: torch.Tensor, inputs: dict[str, Any], sequences: bool):
    """(N * L, hidden) outputs and the final [h, c] (layers, N, hidden)."""
    h, c = inputs["rnn"]
    if not sequences:  # rollout: one step per env
      out, (h, c) = self.lstm(x.unsqueeze(1), (h, c))
      return out.flatten(0, 1), [h, c]
    length, layers = self.cfg.sequence_length, self.cfg.num_layers
    seq = x.view(-1, length, x.shape[-1])  # (N, L, in): N sequences of L steps
    # Memory stores the state before every step; a sequence starts from its first one.
    h = h.view(layers, -1, length, h.shape[-1])[:, :, 0, :].contiguous()
    c = c.view(layers, -1, length, c.shape[-1])[:, :, 0, :].contiguous()
    done = inputs.get("terminated")
    if done is not None and inputs.get("truncated") is not None:
      done = done | inputs["truncated"]  # skrl's PPO_RNN zeroes the state after both
    if done is None or not bool(done.any()):
      out, (h, c) = self.lstm(seq, (h, c))
      return out.flatten(0, 1), [h, c]
    done = done.view(-1, length)
    cuts = [0, *(done[:, :-1].any(dim=0).nonzero(as_tuple=True)[0] + 1).tolist(), length]
    outs = []
    for i0, i1 in itertools.pairwise(cuts):
      out, (h, c) = self.lstm(seq[:, i0:i1, :], (h, c))
      keep = (~done[:, i1 - 1]).to(h.dtype).view(1, -1, 1)  # a new episode starts from zeros
      h, c = h * keep, c * keep
      outs.append(out)
    return torch.cat(outs, dim=1).flatten(0, 1), [h, c]


class GaussianPolicy(GaussianMixin, Model):
  """Gaussian policy on ``observations``: mean = MLP(obs) or MLP(LSTM(obs)); log_std a parameter."""

  def __init__(self, spaces: Spaces, cfg: PolicyModelCfg, num_envs: int):
    Model.__init__(self, **vars(spaces))
    _gaussian_init(self, cfg)
    in_dim = int(self.num_observations)
    self.rnn = None if cfg.rnn is None else _Lstm(in_dim, cfg.rnn, num_envs)
    self.net = mlp(in_dim if cfg.rnn is None else cfg.rnn.hidden_size, cfg.network[0], int(self.num_actions))

  def get_specification(self) -> dict[str, Any]:
    return {} if self.rnn is None else self.rnn.specification()

  def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
    x, outputs = inputs["observations"], {"log_std": self.log_std_parameter}
    if self.rnn is not None:
      x, outputs["rnn"] = self.rnn(x, inputs, sequences=self.training)
    return self.net(x), outputs


class Value(DeterministicMixin, Model):
  """One output from ``states`` or ``observations`` (the network's ``input``): MLP or LSTM + MLP."""

  def __init__(self, spaces: Spaces, cfg: ValueModelCfg, num_envs: int, role: str):
    Model.__init__(self, **vars(spaces))
    DeterministicMixin.__init__(self, clip_actions=False, role=role)
    self.input_key = INPUT_KEYS[cfg.network[0].input]
    in_dim = _space_size(self, self.input_key)
    self.rnn = None if cfg.rnn is None else _Lstm(in_dim, cfg.rnn, num_envs)
    self.net = mlp(in_dim if cfg.rnn is None else cfg.rnn.hidden_size, cfg.network[0], 1)

  def get_specification(self) -> dict[str, Any]:
    return {} if self.rnn is None else self.rnn.specification()

  def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
    x, outputs = inputs[self.input_key], {}
    if self.rnn is not None:
      x, outputs["rnn"] = self.rnn(x, inputs, sequences=self.training)
    return self.net(x), outputs


class SharedPolicyValue(GaussianMixin, DeterministicMixin, Model):
  """``separate: false``: one MLP trunk on ``observations``, a mean head and a value head."""

  def __init__(self, spaces: Spaces, cfg: ModelsCfg):
    Model.__init__(self, **vars(spaces))
    policy = cfg.policy
    _gaussian_init(self, policy)
    DeterministicMixin.__init__(self, clip_actions=False, role="value")
    network = policy.network[0]
    self.trunk = mlp(int(self.num_observations), network, None)
    width = network.layers[-1] if network.layers else int(self.num_observations)
    self.mean_layer = nn.Linear(width, int(self.num_actions))
    self.value_layer = nn.Linear(width, 1)
    self.net = nn.Sequential(self.trunk, self.mean_layer)  # the policy's mean, for export

  def act(self, inputs: dict[str, Any], *, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
    if role == "value":
      return DeterministicMixin.act(self, inputs, role=role)
    return GaussianMixin.act(self, inputs, role=role)

  def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
    features = self.trunk(inputs["observations"])
    if role == "value":
      return self.value_layer(features), {}
    return self.mean_layer(features), {"log_std": self.log_std_parameter}


def check_models_cfg(cfg: ModelsCfg, algorithm: str) -> list[str]:
  """What the models section asks for that these models cannot build (empty: fine)."""
  problems = []
  roles = {"policy": cfg.policy, "value": cfg.value}
  if cfg.discriminator is not None:
    roles["discriminator"] = cfg.discriminator
  for role, model in roles.items():
    if len(model.network) != 1:
      problems.append(f"models.{role}.network must have exactly one entry (an MLP), not {len(model.network)}")
  if cfg.policy.network and cfg.policy.network[0].input != "OBSERVATIONS":
    problems.append(
      "models.policy.network[0].input must be OBSERVATIONS: the deployed policy sees the actor group"
    )
  if algorithm == "AMP":
    if cfg.discriminator is None:
      problems.append("AMP needs models.discriminator")
    elif cfg.discriminator.rnn is not None or (cfg.discriminator.network[0].input != "OBSERVATIONS"):
      problems.append("models.discriminator must be an MLP with input OBSERVATIONS (the amp windows)")
    if cfg.policy.rnn is not None or cfg.value.rnn is not None:
      problems.append(
        "skrl's AMP agent has no recurrent variant: set models.policy.rnn and models.value.rnn to null"
      )
  elif cfg.discriminator is not None:
    problems.append(f"models.discriminator is only used by AMP, not {algorithm}")
  if not cfg.separate and (cfg.policy.rnn is not None or cfg.value.network[0].input != "OBSERVATIONS"):
    problems.append(
      "models.separate: false shares an MLP trunk on OBSERVATIONS (no rnn, value input OBSERVATIONS)"
    )
  return problems


def build_models(
  cfg: ModelsCfg,
  spaces: dict[str, gymnasium.Space | None],
  num_envs: int,
  device: str | torch.device,
) -> dict[str, Model]:
  """The agent's models by role; spaces: observation, state, action and (AMP) amp spaces."""
  agent_spaces = Spaces(spaces["observation"], spaces["state"], spaces["action"], device)
  models: dict[str, Model] = {}
  if cfg.separate:
    models["policy"] = GaussianPolicy(agent_spaces, cfg.policy, num_envs)
    models["value"] = Value(agent_spaces, cfg.value, num_envs, "value")
  else:
    models["policy"] = models["value"] = SharedPolicyValue(agent_spaces, cfg)
  if cfg.discriminator is not None:
    amp_spaces = Spaces(spaces["amp"], None, spaces["action"], device)
    models["discriminator"] = Value(amp_spaces, cfg.discriminator, num_envs, "discriminator")
  for model in models.values():
    model.to(model.device)
  return models
