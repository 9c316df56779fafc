"""ONNX export equals the torch policy (obs normalization included), MLP and LSTM."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from rsl_rl.models import MLPModel, RNNModel
from tensordict import TensorDict

from legged_robots.rl.exporter import OPSET, export_onnx, policy_spec

OBS_DIM, ACT_DIM = 13, 4
DIST = {"class_name": "GaussianDistribution", "init_std": 1.0, "std_type": "scalar"}


def _obs(batch: int) -> TensorDict:
  return TensorDict({"actor": torch.zeros(batch, OBS_DIM)}, batch_size=[batch])


def _actor(recurrent: bool) -> MLPModel:
  torch.manual_seed(0)
  kwargs = dict(hidden_dims=[32, 16], activation="elu", obs_normalization=True, distribution_cfg=dict(DIST))
  if recurrent:
    actor = RNNModel(
      _obs(1), {"actor": ["actor"]}, "actor", ACT_DIM, **kwargs, rnn_type="lstm", rnn_hidden_dim=8
    )
  else:
    actor = MLPModel(_obs(1), {"actor": ["actor"]}, "actor", ACT_DIM, **kwargs)
  # Give the normalizer non-trivial statistics (mean ~3, std ~2) so it matters.
  actor.train()
  for _ in range(5):
    actor.update_normalization(TensorDict({"actor": 3 + 2 * torch.randn(256, OBS_DIM)}, batch_size=[256]))
  actor.eval()
  return actor


def _session(actor: MLPModel, tmp_path) -> ort.InferenceSession:
  path = tmp_path / "policy.onnx"
  export_onnx(actor, path, {"task": "unit-test", "iteration": "7"})
  model = onnx.load(str(path))
  assert {p.key: p.value for p in model.metadata_props} == {"task": "unit-test", "iteration": "7"}
  assert model.opset_import[0].version == OPSET >= 17
  return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_mlp_onnx_matches_torch(tmp_path):
  actor = _actor(recurrent=False)
  session = _session(actor, tmp_path)
  assert [i.name for i in session.get_inputs()] == ["obs"]
  rng = np.random.default_rng(1)
  worst = 0.0
  for _ in range(20):
    obs = (3 + 2 * rng.standard_normal((1, OBS_DIM))).astype(np.float32)
    expected = actor(TensorDict({"actor": torch.from_numpy(obs)}, batch_size=[1])).detach().numpy()
    (got,) = session.run(None, {"obs": obs})
    worst = max(worst, float(np.abs(got - expected).max()))
  assert worst <= 1e-5


def test_lstm_onnx_matches_torch_over_a_sequence(tmp_path):
  actor = _actor(recurrent=True)
  spec = policy_spec(actor, ACT_DIM)
  assert spec.recurrent and spec.rnn_type == "lstm" and spec.rnn_hidden_dim == 8
  assert spec.input_names == ["obs", "h_in", "c_in"]
  session = _session(actor, tmp_path)
  h = np.zeros((1, 1, 8), np.float32)
  c = np.zeros((1, 1, 8), np.float32)
  actor.reset()
  rng = np.random.default_rng(2)
  worst = 0.0
  for _ in range(10):
    obs = (3 + 2 * rng.standard_normal((1, OBS_DIM))).astype(np.float32)
    # The torch actor carries its hidden state internally; ONNX takes it explicitly.
    expected = actor(TensorDict({"actor": torch.from_numpy(obs)}, batch_size=[1])).detach().numpy()
    got, h, c = session.run(None, {"obs": obs, "h_in": h, "c_in": c})
    worst = max(worst, float(np.abs(got - expected).max()))
  assert worst <= 1e-5
  assert np.abs(h).max() > 0  # the state really evolved


def test_export_is_deterministic_mean_not_a_sample(tmp_path):
  actor = _actor(recurrent=False)
  session = _session(actor, tmp_path)
  obs = np.ones((1, OBS_DIM), np.float32)
  assert np.array_equal(session.run(None, {"obs": obs})[0], session.run(None, {"obs": obs})[0])
  with pytest.raises(Exception, match=r"(?i)dimension|shape|index"):
    session.run(None, {"obs": np.ones((1, OBS_DIM + 1), np.float32)})
