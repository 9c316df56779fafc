"""hydra under train.py/play.py: the grammar on the real Flat-G1 configs, --cfg job, config
groups, --multirun jobs, and bad input failing before hydra starts (nothing written)."""

from __future__ import annotations

import argparse
import copy
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from legged_robots.rl.cli import add_train_flags, script_parser
from legged_robots.rl.distributed import Rank
from legged_robots.rl.errors import OverrideError, StRlError
from legged_robots.rl.hydra_main import HydraTask, Job, run_hydra, split_args
from legged_robots.rl.task_cfg import apply_cfg_overrides, checked_overrides, load_task_cfgs
from legged_robots.rl.train import TrainOptions, train_cfgs, train_with_hydra

TASK = "Flat-G1"


@pytest.fixture(scope="module")
def base():
  return load_task_cfgs(TASK, play=False)


def _printed_cfg(out: str) -> dict:
  """The config --cfg job printed (Warp may print its device table first)."""
  return yaml.safe_load(out[out.index("agent:\n") :])


def _options(tmp_path: Path, **kw) -> TrainOptions:
  return TrainOptions(
    task=TASK, num_envs=2, max_iterations=1, device="cpu", log_root=str(tmp_path / "logs"), **kw
  )


def test_overrides_on_the_real_config_change_only_what_they_name(base):
  cfgs = copy.deepcopy(base)
  args = [
    "agent.algorithm.learning_rate=3e-4",
    "~env.rewards.feet_slide",
    "env.rewards.energy_cost=null",
    "agent.actor.hidden_dims=[64,32]",
    "+env.events.push_robot.params.velocity_range.z=[-0.1,0.1]",
    "env.events.reset_robot_base_com.params.ranges.0=[-0.1,0.1]",
  ]
  apply_cfg_overrides(cfgs, checked_overrides(args))
  expected = copy.deepcopy(base)  # the same edits by hand
  expected.agent.algorithm.learning_rate = 3e-4
  del expected.env.rewards["feet_slide"]
  expected.env.rewards["energy_cost"] = None
  expected.agent.actor.hidden_dims = (64, 32)
  push, com = expected.env.events["push_robot"], expected.env.events["reset_robot_base_com"]
  assert push is not None and com is not None
  push.params["velocity_range"]["z"] = (-0.1, 0.1)
  com.params["ranges"][0] = (-0.1, 0.1)
  assert cfgs == expected  # tuples stay tuples, int keys stay ints, functions stay functions


def test_cfg_job_prints_the_resolved_config_and_writes_nothing(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  train_with_hydra("train.py", _options(tmp_path), ["agent.algorithm.learning_rate=5e-4", "--cfg", "job"])
  printed = _printed_cfg(capsys.readouterr().out)
  assert printed["agent"]["algorithm"]["learning_rate"] == 5e-4
  assert printed["agent"]["actor"]["rnn_type"] is None  # the default agent: st_rl_ppo, an MLP
  assert printed["env"]["scene"]["num_envs"] == 2  # --num_envs
  assert list(tmp_path.iterdir()) == []  # no outputs/, .hydra/ or logs/


def test_agent_group_picks_the_lstm_agent(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  train_with_hydra("train.py", _options(tmp_path), ["agent=st_rl_ppo_lstm", "--cfg", "job"])
  printed = _printed_cfg(capsys.readouterr().out)
  assert printed["agent"]["actor"]["rnn_type"] == "lstm"
  cfgs = train_cfgs(_options(tmp_path, agent="st_rl_ppo_lstm"), Rank())
  assert cfgs.agent.actor.rnn_type == "lstm"


def test_skrl_agent_group_builds_only_the_agents_the_jobs_use(tmp_path, monkeypatch, capsys):
  from legged_robots.rl.skrl.train import SkrlTrainOptions, skrl_train_with_hydra

  monkeypatch.chdir(tmp_path)
  opts = SkrlTrainOptions(
    task=TASK, num_envs=2, max_iterations=1, device="cpu", log_root=str(tmp_path / "logs")
  )
  skrl_train_with_hydra("train.py", opts, ["--cfg", "job"])  # skrl_ppo_lstm does not fit 2 envs
  assert _printed_cfg(capsys.readouterr().out)["agent"]["models"]["policy"]["rnn"] is None
  skrl_train_with_hydra("train.py", replace(opts, num_envs=8), ["agent=skrl_ppo_lstm", "--cfg", "job"])
  assert _printed_cfg(capsys.readouterr().out)["agent"]["models"]["policy"]["rnn"]["type"] == "lstm"
  with pytest.raises(StRlError, match=r"sequence_length \(24\) must divide"):
    skrl_train_with_hydra("train.py", opts, ["agent=skrl_ppo_lstm", "--cfg", "job"])
  assert list(tmp_path.iterdir()) == []


def _fake_task() -> HydraTask:
  roots = {"env": {"rewards": {"alive": 1.0}}, "agent": {"lr": 1e-3}}
  return HydraTask("fake", lambda _agent: roots)


def test_multirun_runs_one_job_per_combination_and_writes_nothing(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  checked, ran = [], []
  args = ["--multirun", "agent.lr=1e-4,3e-4", "env.rewards.alive=2,3"]
  run_hydra("x", args, _fake_task(), checked.append, ran.append)
  expected = [
    Job([f"agent.lr={lr}", f"env.rewards.alive={a}"]) for lr in ("0.0001", "0.0003") for a in ("2", "3")
  ]
  assert checked == expected and ran == expected  # every job checked before the first ran
  assert list(tmp_path.iterdir()) == []  # multirun.yaml went to a removed temporary folder


def test_each_call_leaves_hydras_config_store_as_it_found_it(tmp_path, monkeypatch):
  """Hydra deep-copies its whole ConfigStore on every config load: configs left there by
  earlier calls slowed every later one (with the overrides' leftovers, a fake 4-job multirun
  took 18 s instead of 1 s after the study tests), and an agent of an earlier call stayed an
  option of the group."""
  from hydra.core.config_store import ConfigStore

  monkeypatch.chdir(tmp_path)
  roots = {"env": {"alive": 1.0}, "agent": {"lr": 1e-3}}
  task = HydraTask("fake_agents", lambda _agent: roots, agents=["a", "b"], default_agent="a")
  before = copy.copy(ConfigStore.instance().repo)
  seen = []
  for args in (["agent=b"], []):
    run_hydra("x", args, task, lambda _job: None, lambda _job: seen.append(_group_options()))
    assert ConfigStore.instance().repo == before
  assert seen == [["b.yaml"], ["a.yaml"]]  # the second call offers only the agent it uses


def _group_options() -> list[str]:
  from hydra.core.config_store import ConfigStore

  return sorted(ConfigStore.instance().repo["agent"])


def test_multirun_checks_every_combination_before_the_first_job(tmp_path):
  with pytest.raises(OverrideError, match=r"learning_rate='fast': expected float"):
    train_with_hydra(
      "train.py", _options(tmp_path), ["--multirun", "agent.algorithm.learning_rate=1e-3,fast"]
    )
  assert not (tmp_path / "logs").exists()  # the first (good) job did not run


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["agent.algorithm.learnin_rate=1e-3"], r"closest valid keys: agent\.algorithm\.learning_rate"),
    (["agent=st_rl_ppo_lstn"], r"no agent 'st_rl_ppo_lstn'\. Did you mean st_rl_ppo_lstm"),
    (["agent.algorithm.learning_rate=1e-3,3e-4"], r"is a sweep: add --multirun"),
    (["~env.scene.num_envs"], r"cannot be deleted"),
    (["+env.rewards.feet_slide=1"], r"already exists; drop the \+"),
  ],
)
def test_bad_input_fails_before_hydra_starts(tmp_path, args, message):
  with pytest.raises(StRlError, match=message):
    train_with_hydra("train.py", _options(tmp_path), args)
  assert not (tmp_path / "logs").exists()


def test_split_args_keeps_our_flags_and_hands_the_rest_to_hydra():
  parser = script_parser(None, add_train_flags, "st_rl")
  args, rest = split_args(parser, ["--task", TASK, "a=1", "--num_envs", "4", "--cfg", "job", "-m", "~b"])
  assert (args.task, args.num_envs) == (TASK, 4)
  assert rest == ["a=1", "--cfg", "job", "-m", "~b"]
  with pytest.raises(SystemExit) as exit_info:
    split_args(parser, ["--task", TASK, "--seeds", "3"])
  assert exit_info.value.code == 2
  assert isinstance(args, argparse.Namespace)


@pytest.mark.slow
def test_multirun_of_two_learning_rates_trains_two_runs(tmp_path, monkeypatch):
  from legged_robots.rl.cfg_yaml import load_cfg

  monkeypatch.chdir(tmp_path)
  opts = _options(tmp_path, experiment_name="sweep")
  train_with_hydra(
    "train.py", opts, ["--multirun", "agent.algorithm.learning_rate=1e-3,3e-4", "agent.num_steps_per_env=2"]
  )
  runs = sorted((tmp_path / "logs" / "sweep").iterdir())
  rates = sorted(load_cfg(run / "params" / "agent.yaml").algorithm.learning_rate for run in runs)
  assert rates == [3e-4, 1e-3] and all((run / "model_0.pt").is_file() for run in runs)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]
