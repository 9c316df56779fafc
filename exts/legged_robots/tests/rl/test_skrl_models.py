"""skrl models and agents from the agent YAML: ONNX = the skrl policy's mean action (MLP, LSTM,
shared trunk), the normalizer folded in with its clamp, and a recurrent update runs."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from legged_robots.rl.exporter import export_onnx, policy_spec
from legged_robots.rl.skrl.agent import StGymPPO, StGymPPORNN, build_agent
from legged_robots.rl.skrl.env import SkrlVecEnvWrapper
from legged_robots.rl.skrl.export import ExportableSkrlActor, SkrlInferencePolicy, onnx_policy
from legged_robots.tasks.agents_skrl import RnnCfg, SkrlAgentCfg, load_skrl_cfg
from legged_robots.tasks.config.g1.skrl_agents import PPO_YAML

NUM_ENVS = 4


def _cfg(recurrent: bool = False, separate: bool = True) -> SkrlAgentCfg:
  cfg = load_skrl_cfg(PPO_YAML)
  cfg.agent.rollouts, cfg.agent.mini_batches, cfg.agent.learning_epochs = 8, 2, 2
  cfg.models.separate = separate
  for model in (cfg.models.policy, cfg.models.value):
    model.network[0].layers = [16, 8]
    model.rnn = RnnCfg(hidden_size=6, sequence_length=4) if recurrent else None
  if not separate:
    cfg.models.value.network[0].input = "OBSERVATIONS"
  return cfg


def _agent(fake_mjlab_env, cfg: SkrlAgentCfg):
  torch.manual_seed(0)
  agent = build_agent(cfg, SkrlVecEnvWrapper(fake_mjlab_env(num_envs=NUM_ENVS)), "cpu")
  # Non-trivial normalizer statistics (mean ~3, std ~2) so the folded scaler matters.
  scaler = agent.checkpoint_modules["observation_preprocessor"]
  scaler(3 + 2 * torch.randn(512, 5), train=True)
  return agent


def _onnx(agent, tmp_path) -> ort.InferenceSession:
  actor = ExportableSkrlActor(onnx_policy(agent))
  export_onnx(actor, tmp_path / "policy.onnx", {"task": "test"})  # pyright: ignore[reportArgumentType]
  return ort.InferenceSession(str(tmp_path / "policy.onnx"))


@pytest.mark.parametrize("separate", [True, False], ids=["separate", "shared"])
def test_onnx_equals_skrl_mean_action_mlp(fake_mjlab_env, tmp_path, separate):
  agent = _agent(fake_mjlab_env, _cfg(separate=separate))
  assert isinstance(agent, StGymPPO)
  session = _onnx(agent, tmp_path)
  policy = SkrlInferencePolicy(agent, num_envs=1)
  rng = np.random.default_rng(0)
  worst = 0.0
  for scale in (1.0, 1.0, 50.0):  # 50: far outside the scaler's clip threshold (5 std)
    obs = (3 + scale * rng.standard_normal((1, 5))).astype(np.float32)
    expected = policy.act(torch.from_numpy(obs)).numpy()
    (got,) = session.run(None, {"obs": obs})
    worst = max(worst, float(np.abs(got - expected).max()))
  assert worst <= 1e-5


def test_onnx_equals_skrl_mean_action_lstm(fake_mjlab_env, tmp_path):
  agent = _agent(fake_mjlab_env, _cfg(recurrent=True))
  assert isinstance(agent, StGymPPORNN)
  session = _onnx(agent, tmp_path)
  spec = policy_spec(ExportableSkrlActor(onnx_policy(agent)), 3)  # pyright: ignore[reportArgumentType]
  assert spec.recurrent and (spec.rnn_type, spec.rnn_hidden_dim, spec.rnn_num_layers) == ("lstm", 6, 1)
  assert spec.input_names == ["obs", "h_in", "c_in"] and spec.output_names == ["actions", "h_out", "c_out"]
  policy = SkrlInferencePolicy(agent, num_envs=1)
  h = c = np.zeros((1, 1, 6), dtype=np.float32)
  rng = np.random.default_rng(1)
  worst = 0.0
  for _ in range(8):  # the state carries over: step 8 depends on all before it
    obs = (3 + 2 * rng.standard_normal((1, 5))).astype(np.float32)
    expected = policy.act(torch.from_numpy(obs)).numpy()
    got, h, c = session.run(None, {"obs": obs, "h_in": h, "c_in": c})
    worst = max(worst, float(np.abs(got - expected).max()))
  assert worst <= 1e-5
  policy.reset(torch.tensor([1]))
  assert all(float(s.abs().max()) == 0.0 for s in policy.state)


@pytest.mark.parametrize("recurrent", [False, True], ids=["mlp", "lstm"])
def test_a_rollout_updates_once_per_iteration(fake_mjlab_env, tmp_path, recurrent):
  """rollouts steps -> one update -> one on_iteration call; the policy's weights change."""
  cfg = _cfg(recurrent=recurrent)
  agent = _agent(fake_mjlab_env, cfg)
  env = SkrlVecEnvWrapper(fake_mjlab_env(num_envs=NUM_ENVS))
  agent.experiment_dir = str(tmp_path)
  calls = []
  agent.on_iteration = lambda: calls.append(len(agent.tracking_data))  # pyright: ignore[reportAttributeAccessIssue]
  agent.init()
  agent.enable_training_mode(True)
  before = [p.detach().clone() for p in agent.models["policy"].parameters()]
  obs, _ = env.reset()
  steps = 2 * cfg.agent.rollouts
  for t in range(steps):
    with torch.no_grad():
      actions, _ = agent.act(obs, env.state(), timestep=t, timesteps=steps)
      states = env.state()
      next_obs, reward, terminated, truncated, infos = env.step(actions)
      agent.record_transition(
        observations=obs,
        states=states,
        actions=actions,
        rewards=reward,
        next_observations=next_obs,
        next_states=env.state(),
        terminated=terminated,
        truncated=truncated,
        infos=infos,
        timestep=t,
        timesteps=steps,
      )
    agent.post_interaction(timestep=t, timesteps=steps)
    obs = next_obs
  assert len(calls) == 2 and all(n > 0 for n in calls)
  after = list(agent.models["policy"].parameters())
  assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
