"""skrl agent YAMLs: every shipped file reads, keys are skrl's, bad keys and values are named,
and every st_gym task lists its skrl agents beside its st_rl ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from skrl.agents.torch.amp import AMP_CFG
from skrl.agents.torch.ppo import PPO_CFG

import legged_robots.tasks
from legged_robots.rl.overrides import apply_overrides, parse_overrides
from legged_robots.tasks.agents_skrl import (
  AmpAgentCfg,
  PpoAgentCfg,
  SkrlCfgError,
  load_skrl_cfg,
  parse_skrl_cfg,
  skrl_cfg_to_dict,
)
from legged_robots.tasks.registry import load_agent_cfg, skrl_agents, task_ids

CONFIG = Path(legged_robots.tasks.__file__).parent / "config"
YAMLS = sorted(CONFIG.glob("*/agents/skrl_*_cfg.yaml"))
G1_PPO = CONFIG / "g1" / "agents" / "skrl_ppo_cfg.yaml"


def test_the_shipped_yamls_read_and_round_trip():
  assert {p.name for p in YAMLS} == {"skrl_ppo_cfg.yaml", "skrl_amp_cfg.yaml"} and len(YAMLS) == 3
  for path in YAMLS:
    cfg = load_skrl_cfg(path)
    assert parse_skrl_cfg(yaml.safe_load(yaml.safe_dump(skrl_cfg_to_dict(cfg))), "dump") == cfg
    assert skrl_cfg_to_dict(cfg)["agent"]["class"] == cfg.algorithm


@pytest.mark.parametrize(("ours", "skrls"), [(PpoAgentCfg, PPO_CFG), (AmpAgentCfg, AMP_CFG)])
def test_agent_keys_are_skrl_keys(ours, skrls):
  """Every key of the agent section is a field of skrl's own cfg (or one we translate)."""
  translated = {"class_name", "experiment", "rewards_shaper_scale"}
  skrl_fields = {f.name for f in dataclasses.fields(skrls)}
  assert {f.name for f in dataclasses.fields(ours)} - translated <= skrl_fields


def test_ppo_numbers_are_st_rl_ones():
  cfg, st_rl = load_skrl_cfg(G1_PPO), load_agent_cfg("Flat-G1")
  alg = st_rl.algorithm
  agent = cfg.agent
  assert (agent.rollouts, agent.learning_epochs, agent.mini_batches) == (
    st_rl.num_steps_per_env,
    alg.num_learning_epochs,
    alg.num_mini_batches,
  )
  assert (agent.ratio_clip, agent.entropy_loss_scale, agent.value_loss_scale) == (
    alg.clip_param,
    alg.entropy_coef,
    alg.value_loss_coef,
  )
  assert (agent.discount_factor, agent.gae_lambda, agent.learning_rate) == (
    alg.gamma,
    alg.lam,
    alg.learning_rate,
  )
  assert agent.learning_rate_scheduler_kwargs == {"kl_threshold": alg.desired_kl}
  assert cfg.models.policy.network[0].layers == list(st_rl.actor.hidden_dims)


def _g1_ppo() -> dict:
  return yaml.safe_load(G1_PPO.read_text())


def test_unknown_key_names_the_closest_ones():
  data = _g1_ppo()
  data["agent"]["learnin_rate"] = 1e-3
  with pytest.raises(SkrlCfgError, match=r"^f.yaml: unknown key agent\.learnin_rate; closest valid keys: "):
    parse_skrl_cfg(data, "f.yaml")
  data = _g1_ppo()
  data["models"]["policy"]["network"][0]["layer"] = [8]
  with pytest.raises(
    SkrlCfgError, match=r"models\.policy\.network\[0\]\.layer; closest valid keys: .*layers"
  ):
    parse_skrl_cfg(data, "f.yaml")


@pytest.mark.parametrize(
  ("path", "value", "expected"),
  [
    (("agent", "rollouts"), "many", r"agent\.rollouts: expected int, got 'many'"),
    (
      ("agent", "observation_preprocessor"),
      "Scaler",
      r"expected one of \[.RunningStandardScaler.\] or null, got .Scaler.",
    ),
    (("models", "policy", "network"), {"layers": [8]}, r"models\.policy\.network: expected list"),
    (("trainer",), None, r"trainer: expected TrainerCfg"),
  ],
)
def test_wrong_values_name_the_expected_type(path, value, expected):
  data = _g1_ppo()
  node = data
  for key in path[:-1]:
    node = node[key]
  node[path[-1]] = value
  with pytest.raises(SkrlCfgError, match=expected):
    parse_skrl_cfg(data, "f.yaml")


def test_yaml_1_2_numbers_and_missing_keys(tmp_path):
  text = G1_PPO.read_text().replace("learning_rate: 1.0e-3", "learning_rate: 3e-4")
  (tmp_path / "a.yaml").write_text(text)
  assert load_skrl_cfg(tmp_path / "a.yaml").agent.learning_rate == 3e-4
  data = _g1_ppo()
  del data["agent"]["experiment"]["directory"]
  with pytest.raises(SkrlCfgError, match=r"missing keys agent\.experiment\.directory"):
    parse_skrl_cfg(data, "f.yaml")


def test_overrides_reach_the_skrl_cfg_typed():
  cfg = load_skrl_cfg(G1_PPO)
  args = [
    "agent.agent.learning_rate=3e-4",
    "agent.models.policy.network.0.layers=[64,32]",
    "agent.clip_actions=1",
  ]
  apply_overrides({"agent": cfg}, parse_overrides(args, ("agent",)))
  assert cfg.agent.learning_rate == 3e-4 and cfg.models.policy.network[0].layers == [64, 32]
  assert cfg.clip_actions == 1.0


def test_every_task_lists_its_skrl_agents():
  for task in task_ids():
    agents = skrl_agents(task)
    if task.startswith(("Flat-", "Rough-", "Amp-", "Mimic-", "AmpMimic-", "Tracking-")):
      assert {"skrl_ppo", "skrl_ppo_lstm"} <= set(agents), task
      assert ("skrl_amp" in agents) == task.startswith(("Amp-", "AmpMimic-")), task
  flat = skrl_agents("Flat-G1")["skrl_ppo"]()
  assert flat.agent.experiment.directory == load_agent_cfg("Flat-G1").experiment_name == "g1_flat"
  assert flat.max_iterations == load_agent_cfg("Flat-G1").max_iterations
  lstm = skrl_agents("Rough-Go1-Play")["skrl_ppo_lstm"]()
  assert lstm.recurrent and lstm.agent.experiment.directory == "go1_rough"
  assert skrl_agents("Amp-Flat-G1")["skrl_amp"]().algorithm == "AMP"
  tracking = skrl_agents("Tracking-Flat-G1")["skrl_ppo"]()
  assert tracking.agent.experiment.directory == "g1_tracking_flat" and tracking.max_iterations == 10000
  assert skrl_agents("AmpMimic-Flat-G1-Play")["skrl_amp"]().agent.experiment.directory == "g1_amp_mimic_flat"
