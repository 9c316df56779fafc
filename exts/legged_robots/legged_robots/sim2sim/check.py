"""``run_sim2sim``: the parity check of ``scripts/st_rl/sim2sim.py`` from its options.

Two inputs: an exported folder (``--policy``), or a checkpoint (``--load_run``/``--checkpoint``,
resolved as play.py does), which is exported to a temporary folder so the check also
compares the torch actor with its ONNX. A folder inside a run (``<run>/exported``) or a
checkpoint's run restores the training interface from ``<run>/params`` as play.py does
(for a run of scripts/skrl/train.py: its env interface and ``clip_actions``).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from legged_robots.deploy.runs import experiment_dirs
from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.errors import StRlError
from legged_robots.rl.skrl.task_cfg import read_skrl_run_cfg
from legged_robots.rl.task_cfg import (
  load_task_cfgs,
  policy_io_sizes,
  restore_env_interface,
  restore_training_interface,
)
from legged_robots.sim2sim.parity import (
  DEFAULT_TOL,
  ParityReport,
  check_export_task,
  check_parity,
  parity_env_cfg,
)


@dataclass
class Sim2SimOptions:
  """Command-line options of sim2sim.py."""

  task: str
  policy: str | None = None
  """Exported folder (policy.onnx + deploy.yaml); exclusive with load_run."""
  load_run: str | None = None
  checkpoint: str = "-1"
  experiment_name: str | None = None
  log_root: str = "logs/st_rl"
  num_states: int = 200
  num_envs: int = 4
  seed: int = 0
  tol: float = DEFAULT_TOL
  out: str | None = None
  """Write the report as JSON here."""


def _check_options(opts: Sim2SimOptions) -> None:
  if (opts.policy is None) == (opts.load_run is None):
    raise StRlError(
      "pass either --policy EXPORTED_DIR or --load_run RUN [--checkpoint C], not both or neither."
    )
  if opts.num_states < 1 or opts.num_envs < 1:
    raise StRlError(f"--num_states ({opts.num_states}) and --num_envs ({opts.num_envs}) must be at least 1.")
  if not opts.tol > 0:
    raise StRlError(f"--tol must be positive, got {opts.tol}.")
  if opts.policy is not None and not (Path(opts.policy) / "deploy.yaml").is_file():
    raise StRlError(
      f"no deploy.yaml in {opts.policy}: pass the exported/ folder of a run (train.py and play.py write it)."
    )


def run_sim2sim(opts: Sim2SimOptions) -> ParityReport:
  """Build the task's parity env on CPU, check the export, write opts.out; return the report."""
  _check_options(opts)
  cfgs = load_task_cfgs(opts.task, play=True)
  path = data = None
  if opts.policy is not None:
    folder = Path(opts.policy)
    check_export_task(folder, opts.task)
    run_dir = folder.resolve().parent if (folder.resolve().parent / "params").is_dir() else None
  else:
    assert opts.load_run is not None
    experiments = experiment_dirs(Path(opts.log_root).resolve(), opts.experiment_name)
    path = ckpt.resolve_checkpoint(experiments, opts.load_run, opts.checkpoint, opts.task)
    data = ckpt.read_checkpoint(path)
    folder, run_dir = None, path.parent
  skrl_cfg = None if run_dir is None else read_skrl_run_cfg(run_dir)
  if skrl_cfg is not None and run_dir is not None:  # a run of scripts/skrl/train.py
    restore_env_interface(cfgs.env, run_dir / "params")
    cfgs.agent.clip_actions = skrl_cfg.clip_actions  # the clamp that training applied
  elif run_dir is not None:
    restore_training_interface(cfgs, run_dir)

  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import runner_class
  from legged_robots.tasks.registry import env_class

  clip = cfgs.agent.clip_actions  # rsl_rl clamps raw actions before the env when set
  env = env_class(opts.task)(cfg=parity_env_cfg(cfgs.env, opts.num_envs, opts.seed), device="cpu")
  try:
    if folder is not None:
      report = check_parity(env, folder, opts.task, opts.num_states, opts.tol, None, opts.seed, clip)
    else:
      assert path is not None and data is not None
      wrapped = RslRlVecEnvWrapper(env, clip_actions=cfgs.agent.clip_actions)
      ckpt.check_fits(path, data, *policy_io_sizes(wrapped, cfgs.agent))
      runner = runner_class(cfgs.agent)(wrapped, asdict(cfgs.agent), opts.task, None, "cpu")
      runner.load(str(path), load_cfg={"actor": True}, map_location="cpu")
      actor = runner.alg.get_policy()
      actor.eval()
      with tempfile.TemporaryDirectory(prefix="sim2sim_") as tmp:
        exported = Path(tmp) / "exported"
        runner.export(exported, iteration=int(data["iter"]))
        report = check_parity(env, exported, opts.task, opts.num_states, opts.tol, actor, opts.seed, clip)
      report.policy_dir = f"{path} (exported to a temporary folder)"
  finally:
    env.close()
  if opts.out is not None:
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
  return report
