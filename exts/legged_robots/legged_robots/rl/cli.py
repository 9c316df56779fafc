"""Shared plumbing of the st_rl command lines: defaults files, flags, errors, OpenGL.

Imports nothing from mjlab: ``configure_headless_gl`` must run before mjlab is imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from legged_robots.rl.errors import StRlError

T = TypeVar("T")
# Per library, for the help texts: its log root (conf/*.yaml's log_root), an agent key and
# a named agent of Flat-G1 that its train.py accepts.
HELP_EXAMPLES = {
  "st_rl": {"log_root": "logs/st_rl", "lr": "agent.algorithm.learning_rate", "agent": "st_rl_ppo_lstm"},
  "skrl": {"log_root": "logs/skrl", "lr": "agent.agent.learning_rate", "agent": "skrl_ppo_lstm"},
}
HYDRA_HELP = """hydra arguments (any argument not above):
  key=value   override env.* / agent.*: env.rewards.alive.weight=2.0 {lr}=3e-4
  +key=value  add a key to a mapping; ++key=value add or set; ~key delete a term (~env.rewards.alive)
  agent=NAME  a named agent of the task (agent={agent})
  --multirun  one run per combination of comma-separated values ({lr}=1e-4,3e-4)
  --cfg job   print the resolved config and exit"""


def configure_headless_gl() -> None:
  """Use OSMesa for offscreen rendering when no GPU is visible and nothing is chosen.

  mjlab defaults to EGL, which needs a GPU driver; OSMesa (Debian's libosmesa6)
  renders on the CPU. An explicit MUJOCO_GL from the user always wins.
  """
  if "MUJOCO_GL" in os.environ:
    return
  import torch

  if not torch.cuda.is_available():
    os.environ["MUJOCO_GL"] = "osmesa"
    os.environ["PYOPENGL_PLATFORM"] = "osmesa"


def configure_output(verbose: bool) -> None:
  """Warp prints its banner and a line per kernel module it loads; keep them for --verbose
  (an explicit MJLAB_WARP_QUIET wins). MuJoCo's warnings go to stderr, not to MUJOCO_LOG.TXT
  in the working directory."""
  if not verbose:
    os.environ.setdefault("MJLAB_WARP_QUIET", "1")
  quiet_warp()
  from legged_robots.deploy.mujoco_sim import route_mujoco_warnings  # imports mujoco: after the GL choice

  route_mujoco_warnings()


def quiet_warp() -> None:
  """Honour MJLAB_WARP_QUIET on the pinned Warp (1.19): mjlab sets ``wp.config.quiet``, which
  Warp 1.19 no longer reads; its banner and module-load lines are INFO messages of
  ``wp.config.log_level``. Warnings and errors still print. Call before Warp initializes."""
  if os.environ.get("MJLAB_WARP_QUIET", "0").lower() in ("1", "true", "yes"):  # mjlab's reading
    import warp

    warp.config.log_level = warp.LOG_WARNING


def load_defaults(path: Path, cls: type[T]) -> dict[str, Any]:
  """Read a conf YAML of defaults; every key must be a field of cls."""
  data = yaml.safe_load(path.read_text()) or {}
  names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
  unknown = sorted(set(data) - names)
  if unknown:
    raise StRlError(f"{path}: unknown keys {unknown}; valid keys: {sorted(names)}")
  return data


def params_file_overrides(path: Path) -> list[str]:
  """The overrides of a --params file: a YAML list of key=value strings (a study's best.yaml)."""
  try:
    data = yaml.safe_load(path.read_text())
  except (OSError, yaml.YAMLError) as e:
    raise StRlError(f"--params {path}: cannot read it ({e})") from None
  if not isinstance(data, list) or not all(isinstance(o, str) for o in data):
    raise StRlError(
      f"--params {path}: expected a YAML list of overrides like '- agent.algorithm.learning_rate=3e-4', "
      f"got {type(data).__name__}"
    )
  return data


def build_options(cls: type[T], defaults: dict[str, Any], args: argparse.Namespace) -> T:
  """Defaults file, then the flags the user actually typed (argparse.SUPPRESS); the
  overrides of a --params file come before those on the command line, which win."""
  values = {**defaults, **vars(args)}
  values.pop("headless", None)  # always headless; accepted for Isaac Lab habits
  params = values.pop("params", None)
  if params is not None:
    values["overrides"] = [*params_file_overrides(Path(params)), *values.get("overrides", [])]
  return cls(**values)


def add_run_flags(parser: argparse.ArgumentParser, library: str) -> None:
  """Flags shared by train and play of library (st_rl or skrl); unset flags keep the conf/ default."""
  log_root = HELP_EXAMPLES[library]["log_root"]
  add = parser.add_argument
  add("--task", required=True, help="registered task id, e.g. Flat-G1")
  add("--device", help="cpu or cuda:N (default: cuda:0 if available, else cpu)")
  add("--experiment_name", help=f"{log_root}/<experiment_name>/ (default: the agent cfg's)")
  add("--load_run", help="run folder name or path; -1 = newest run with a checkpoint")
  add("--checkpoint", help="iteration, file name or path; -1 = newest checkpoint")
  add("--num_envs", type=int, help="number of parallel environments")
  add("--log_root", help=f"root folder of the logs (default {log_root})")
  add("--headless", action="store_true", help="accepted for compatibility; always headless")
  add("--verbose", action="store_true", help="print mjlab's manager tables and Warp's module loads")


def add_train_flags(parser: argparse.ArgumentParser, library: str) -> None:
  """The run flags plus the training ones shared by st_rl's and skrl's train.py."""
  add_run_flags(parser, library)
  add = parser.add_argument
  add("--seed", type=int, help="random seed of env and agent")
  add("--max_iterations", type=int, help="learning iterations to run in this invocation")
  add("--run_name", help="suffix of the timestamped run folder")
  add("--resume", action="store_true", help="continue from --load_run/--checkpoint")
  add("--params", help="YAML list of overrides applied before the command line's (a study's best.yaml)")
  add("--video", action="store_true", help="record env 0 every video_interval steps")
  add("--video_length", type=int, help="frames per training video")
  add("--video_interval", type=int, help="env steps between training videos")
  add(
    "--distributed",
    action="store_true",
    help="one process per GPU under torchrun (./run.sh [-r skrl] -g N); --num_envs is then per process",
  )


def add_play_flags(parser: argparse.ArgumentParser, library: str) -> None:
  """The run flags plus the evaluation ones shared by st_rl's and skrl's play.py."""
  add_run_flags(parser, library)
  add = parser.add_argument
  add("--num_episodes", type=int, help="completed episodes to evaluate")
  add("--episode_length_s", type=float, help="evaluation episode cap in seconds")
  add("--video", action=argparse.BooleanOptionalAction, help="write video.mp4 (env 0)")
  add("--video_length", type=int, help="frames in the video")
  add("--plot_steps", type=int, help="steps of env 0 in the velocity plot")
  add("--style_speed", type=float, help="m/s of the style report's MuJoCo walk (tasks with motions)")
  add("--style_duration_s", type=float, help="seconds of that walk")


def script_parser(
  doc: str | None, add_flags: Callable[[argparse.ArgumentParser, str], None], library: str
) -> argparse.ArgumentParser:
  """The parser of a train/play script of library (st_rl or skrl); flags left unset keep the
  conf/ defaults."""
  parser = argparse.ArgumentParser(
    description=doc,
    epilog=HYDRA_HELP.format(**HELP_EXAMPLES[library]),
    formatter_class=argparse.RawDescriptionHelpFormatter,
    argument_default=argparse.SUPPRESS,
  )
  add_flags(parser, library)
  return parser


def run_main(main: Callable[[], object]) -> None:
  """Run main; a StRlError, a bad motion file or a term that does not fit the task (found
  when the env is built) becomes one 'error:' line on stderr and exit status 2."""
  try:
    main()
  except StRlError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  except Exception as e:
    # refmotion_manager and the tasks are imported by then (the env was being built);
    # imported here so that this module stays free of mujoco before the OpenGL backend is
    # chosen.
    from legged_robots.tasks.errors import TermCfgError
    from refmotion_manager import MotionFormatError

    if not isinstance(e, (MotionFormatError, TermCfgError)):
      raise
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
