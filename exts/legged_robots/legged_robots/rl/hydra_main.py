"""hydra.main under the train and play scripts, as Isaac Lab's ``hydra_task_config``.

The script parses its own flags with argparse (``parse_known_args``); what argparse does not
know goes to hydra through ``sys.argv``: overrides in hydra's grammar, ``--multirun``,
``--cfg job``, ``--info``, ``--hydra-help``. The task's configs (after the flags) are
registered with hydra's ConfigStore as the primary config, and each named agent of the task
as an option of the config group ``agent`` (``agent=st_rl_ppo_lstm``). Every job's overrides
are checked before hydra starts, each combination of a ``--multirun`` sweep included, so bad
input fails before anything is built or written. hydra then runs one job, or one per
combination with ``--multirun``; each job is a normal call of the script's run function.

hydra writes nothing of its own: no ``outputs/``, ``.hydra/`` or log files (its output
folder is the working directory and its logging is off); the ``multirun.yaml`` its sweeper
saves goes to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, TypeVar

from legged_robots.rl.errors import OverrideError

AGENT_GROUP = "agent"
# hydra's own output and logging off: the run folders under logs/ are the only output.
_QUIET = (
  "hydra.output_subdir=null",
  "hydra.run.dir=.",
  "hydra.sweep.subdir=.",
  "hydra/job_logging=disabled",
  "hydra/hydra_logging=disabled",
)


@dataclass
class Job:
  """One run: its env.*/agent.* overrides and the agent group's choice (None: the default)."""

  overrides: list[str]
  agent: str | None = None


@dataclass
class HydraTask:
  """What the script hands to hydra for one task."""

  name: str
  roots: Callable[[str | None], dict[str, Any]]
  """agent name (None without agents) -> {"env": env cfg, "agent": agent cfg}, flags applied."""
  agents: list[str] = field(default_factory=list)
  """Named agents of the group ``agent``; empty: the agent is part of the primary config."""
  default_agent: str | None = None


class _Options(Protocol):
  """A script's options dataclass (TrainOptions, PlayOptions, ...)."""

  __dataclass_fields__: ClassVar[dict[str, Any]]
  task: str
  overrides: list[str]


OptionsT = TypeVar("OptionsT", bound=_Options)


def run_jobs(
  prog: str,
  hydra_args: list[str],
  opts: OptionsT,
  cfgs: Callable[[OptionsT], dict[str, Any]],
  run: Callable[[OptionsT], Any],
  agents: list[str] | None = None,
  default_agent: str | None = None,
) -> None:
  """A train/play script under hydra.main: ``run(opts of the job)`` per job.

  ``cfgs(opts)`` is the script's config stage ({"env": ..., "agent": ...}, flags and
  overrides applied and checked, nothing built): it checks every job before hydra starts
  and gives hydra the task's configs. A job's overrides follow opts.overrides (``--params``);
  with ``agents`` (a field ``agent`` of opts), ``agent=<name>`` sets opts.agent.
  """
  from legged_robots.rl.cli import run_main

  def options(job: Job, agent: str | None = None) -> OptionsT:
    chosen = {"agent": job.agent or agent or getattr(opts, "agent", None)} if agents else {}
    return replace(opts, overrides=[*opts.overrides, *job.overrides], **chosen)

  def roots(agent: str | None) -> dict[str, Any]:
    return cfgs(options(Job([]), agent))

  task = HydraTask(opts.task, roots, agents or [], default_agent)
  run_hydra(
    prog, hydra_args, task, lambda job: cfgs(options(job)), lambda job: run_main(lambda: run(options(job)))
  )


def split_args(
  parser: argparse.ArgumentParser, argv: list[str] | None
) -> tuple[argparse.Namespace, list[str]]:
  """(our flags, hydra's arguments); an unknown flag is an argparse error of the script."""
  from hydra._internal.utils import get_args_parser

  args, rest = parser.parse_known_args(argv)
  _, unknown = get_args_parser().parse_known_intermixed_args(rest)
  if unknown:
    parser.error(f"unrecognized arguments: {' '.join(unknown)}")
  return args, rest


def run_hydra(
  prog: str, hydra_args: list[str], task: HydraTask, check: Callable[[Job], Any], run: Callable[[Job], Any]
) -> None:
  """Check every job with ``check`` (cheap: configs only), then let hydra.main ``run`` them."""
  import hydra
  from hydra._internal.utils import get_args_parser
  from hydra.core.hydra_config import HydraConfig
  from hydra.types import RunMode

  ns = get_args_parser().parse_intermixed_args(hydra_args)
  jobs = _jobs(ns.overrides, ns.multirun, task)
  for job in jobs:
    check(job)
  _register(task, jobs)
  flags = list(hydra_args)
  for override in ns.overrides:
    flags.remove(override)

  def job_main(_cfg: Any) -> None:
    config = HydraConfig.get()
    overrides = list(config.overrides.task)
    if config.mode == RunMode.MULTIRUN:
      print(f"[hydra] multirun job {config.job.num}: {' '.join(overrides) or '(no overrides)'}", flush=True)
    run(_job(overrides, task))

  os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # a failing job shows its whole traceback
  try:
    with tempfile.TemporaryDirectory(prefix="st_gym_hydra_") as sweep_dir:
      sys.argv = [prog, *flags, *ns.overrides, *_QUIET, f"hydra.sweep.dir={sweep_dir}"]
      hydra.main(config_path=None, config_name=task.name, version_base="1.3")(job_main)()
  finally:
    _unregister(task)


def _jobs(overrides: list[str], multirun: bool, task: HydraTask) -> list[Job]:
  """The jobs hydra will run: one, or every combination of a --multirun sweep."""
  if not multirun:
    return [_job(overrides, task)]
  from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
  from hydra.core.override_parser.overrides_parser import OverridesParser

  (batch,) = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)
  return [_job(list(combination), task) for combination in batch]


def _job(overrides: list[str], task: HydraTask) -> Job:
  """Split ``agent=<name>`` (the config group) from the config overrides."""
  job = Job(overrides=[])
  for text in overrides:
    key, sep, value = text.partition("=")
    if task.agents and sep and key == AGENT_GROUP:
      if value not in task.agents:
        close = difflib.get_close_matches(value, task.agents, n=2, cutoff=0.4)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise OverrideError(
          f"{text}: task {task.name} has no agent '{value}'.{hint} Its agents: {', '.join(task.agents)}."
        )
      job.agent = value
    else:
      job.overrides.append(text)
  return job


def _register(task: HydraTask, jobs: list[Job]) -> None:
  """The task's configs as hydra's primary config ``task.name``, and the agents the jobs
  use as options of the group ``agent`` (only those: another agent may not fit the flags,
  e.g. an LSTM whose sequence does not divide a tiny batch)."""
  from hydra.core.config_store import ConfigStore

  from legged_robots.rl.overrides import cfg_node

  store = ConfigStore.instance()
  if not task.agents:
    store.store(name=task.name, node={k: cfg_node(v) for k, v in task.roots(None).items()})
    return
  default = task.default_agent or task.agents[0]
  used = list(dict.fromkeys(job.agent or default for job in jobs))
  for name in used:
    store.store(group=AGENT_GROUP, name=name, node=cfg_node(task.roots(name)[AGENT_GROUP]))
  env = task.roots(used[0])["env"]
  store.store(name=task.name, node={"defaults": [{AGENT_GROUP: used[0]}, "_self_"], "env": cfg_node(env)})


def _unregister(task: HydraTask) -> None:
  """Take back what ``_register`` stored. Hydra deep-copies its whole ConfigStore every time it
  loads a config (a --multirun: twice per job), so configs left there by earlier calls in one
  process (the tests, or a program that trains several tasks) made every later call slower,
  and a stale agent of another task stayed an option of the group."""
  from hydra.core.config_store import ConfigStore

  repo = ConfigStore.instance().repo
  repo.pop(f"{task.name}.yaml", None)
  repo.pop(AGENT_GROUP, None)
