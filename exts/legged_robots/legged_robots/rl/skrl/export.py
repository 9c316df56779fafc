"""The skrl policy as the deployment contract, and as a torch policy for play.

deploy.yaml states the law the runtime applies: feed ``policy.onnx`` the raw (clipped,
scaled) observation vector, take its output as the action (clamped to ``action.raw_clip``
when set). skrl's policy acts on ``observation_preprocessor(obs)``, skrl's
``RunningStandardScaler`` in eval mode:

    x = clamp((obs - mean) / (sqrt(var) + eps), -clip_threshold, clip_threshold)

so the graph is ``x -> [LSTM ->] MLP -> mean`` with that scaler folded in, exactly as skrl
computes it (float32 mean and sqrt(var) + eps). The Gaussian's deterministic action is its
mean; the exploration std is not part of the contract. ``agent.clip_actions`` (the wrapper's
clamp before the env) becomes ``action.raw_clip``. The graph is written by st_rl's exporter
(same names, opset, metadata, deploy.yaml and robot.xml); it takes this module through the
interface it reads off rsl_rl's actors (``obs_dim``, ``as_onnx()``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import cast

import torch
from mjlab.envs import ManagerBasedRlEnv
from rsl_rl.models import MLPModel
from skrl.agents.torch import Agent
from skrl.resources.preprocessors.torch import RunningStandardScaler
from torch import nn

from legged_robots.deploy import DeployContract
from legged_robots.rl.exporter import export_policy
from legged_robots.rl.skrl.models import GaussianPolicy, SharedPolicyValue


class Standardize(nn.Module):
  """skrl's RunningStandardScaler in eval mode, with its statistics as constants."""

  mean: torch.Tensor
  std: torch.Tensor

  def __init__(self, scaler: RunningStandardScaler):
    super().__init__()
    self.register_buffer("mean", scaler.running_mean.detach().float().cpu().clone())
    self.register_buffer("std", torch.sqrt(scaler.running_variance.detach().float().cpu()) + scaler.epsilon)
    self.clip = float(scaler.clip_threshold)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return torch.clamp((x - self.mean) / self.std, -self.clip, self.clip)


class SkrlOnnxPolicy(nn.Module):
  """Deterministic skrl policy: obs [, h_in, c_in] -> actions [, h_out, c_out]."""

  def __init__(
    self, policy: GaussianPolicy | SharedPolicyValue, scaler: RunningStandardScaler | None, obs_dim: int
  ):
    super().__init__()
    self.normalizer = nn.Identity() if scaler is None else Standardize(scaler)
    self.mlp = copy.deepcopy(policy.net).cpu()
    rnn = policy.rnn if isinstance(policy, GaussianPolicy) else None
    self.is_recurrent = rnn is not None
    self.rnn: nn.LSTM | None = None if rnn is None else copy.deepcopy(rnn.lstm).cpu()
    if self.rnn is not None:
      self.rnn.batch_first = False  # (seq 1, batch 1, features): what the exporter traces cleanly
    self.rnn_type = "lstm" if self.is_recurrent else None
    self.input_size = obs_dim

  def forward(self, obs: torch.Tensor, h_in: torch.Tensor | None = None, c_in: torch.Tensor | None = None):
    x = self.normalizer(obs)
    if self.rnn is None:
      return self.mlp(x)
    assert h_in is not None and c_in is not None
    out, (h, c) = self.rnn(x.unsqueeze(0), (h_in, c_in))
    return self.mlp(out.squeeze(0)), h, c

  def get_dummy_inputs(self) -> tuple[torch.Tensor, ...]:
    obs = torch.zeros(1, self.input_size)
    if self.rnn is None:
      return (obs,)
    state = torch.zeros(self.rnn.num_layers, 1, self.rnn.hidden_size)
    return (obs, state, state.clone())

  @property
  def input_names(self) -> list[str]:
    return ["obs", "h_in", "c_in"] if self.is_recurrent else ["obs"]

  @property
  def output_names(self) -> list[str]:
    return ["actions", "h_out", "c_out"] if self.is_recurrent else ["actions"]


class ExportableSkrlActor:
  """What ``rl.exporter`` reads off an actor (rsl_rl's ``obs_dim`` and ``as_onnx``)."""

  def __init__(self, module: SkrlOnnxPolicy):
    self._module = module
    self.obs_dim = module.input_size

  def as_onnx(self, verbose: bool = False) -> SkrlOnnxPolicy:
    del verbose
    return copy.deepcopy(self._module)


def observation_scaler(agent: Agent) -> RunningStandardScaler | None:
  scaler = agent.checkpoint_modules.get("observation_preprocessor")
  assert scaler is None or isinstance(scaler, RunningStandardScaler)
  return scaler


def onnx_policy(agent: Agent) -> SkrlOnnxPolicy:
  policy = agent.models["policy"]
  assert isinstance(policy, (GaussianPolicy, SharedPolicyValue))
  return SkrlOnnxPolicy(policy, observation_scaler(agent), int(policy.num_observations))


def export_skrl_policy(
  agent: Agent,
  env: ManagerBasedRlEnv,
  task_id: str,
  out_dir: Path,
  iteration: int | None,
  clip_actions: float | None,
) -> DeployContract:
  """Write out_dir/{policy.onnx,deploy.yaml,robot.xml} with st_rl's exporter; return the contract."""
  actor = ExportableSkrlActor(onnx_policy(agent))
  # The exporter uses only obs_dim and as_onnx() of its actor (see ExportableSkrlActor).
  return export_policy(cast(MLPModel, actor), env, task_id, out_dir, iteration, clip_actions)


class SkrlInferencePolicy:
  """The skrl policy's mean action on the ``actor`` group, for play (LSTM state per env)."""

  def __init__(self, agent: Agent, num_envs: int, policy_group: str = "actor"):
    self.policy = agent.models["policy"]
    self.scaler = observation_scaler(agent)
    self.group = policy_group
    self.policy.eval()
    spec = self.policy.get_specification().get("rnn", {})
    device = self.policy.device
    self.state = [torch.zeros(size[0], num_envs, size[2], device=device) for size in spec.get("sizes", [])]

  @torch.no_grad()
  def act(self, obs: torch.Tensor) -> torch.Tensor:
    """Mean actions (N, A) for actor observations (N, O); advances the LSTM state."""
    x = obs if self.scaler is None else self.scaler(obs)
    inputs = {"observations": x, **({"rnn": self.state} if self.state else {})}
    _, outputs = self.policy.act(inputs, role="policy")
    if self.state:
      self.state = list(outputs["rnn"])
    return outputs["mean_actions"]

  def __call__(self, obs) -> torch.Tensor:
    """obs: the env's observation dict (play's rollout passes rsl_rl's TensorDict)."""
    return self.act(obs[self.group])

  def reset(self, dones: torch.Tensor | None = None) -> None:
    """Zero the LSTM state of envs whose episode ended (None: of every env)."""
    if dones is None:
      self.state = [torch.zeros_like(s) for s in self.state]
      return
    keep = (dones == 0).to(torch.float32).view(1, -1, 1)
    self.state = [s * keep for s in self.state]
