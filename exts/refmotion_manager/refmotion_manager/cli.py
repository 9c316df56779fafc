"""`python -m refmotion_manager {inspect,convert,validate,synthesize,render}`.

Exit codes: 0 success, 1 validation failed, 2 bad input (message on stderr naming the
file, the frame/column and the fix). Input files are only ever read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from refmotion_manager import commands
from refmotion_manager.errors import MotionFormatError
from refmotion_manager.formats import FORMATS


def _input_options(p: argparse.ArgumentParser) -> None:
  p.add_argument("--format", choices=FORMATS, help="input format (default: from the file)")
  p.add_argument("--mjcf", help="robot MJCF (default: the G1 inside an installed mjlab)")
  p.add_argument(
    "--input-fps",
    type=float,
    help="input rate: required for a CSV unless its name carries it (walk_120hz.csv); "
    "a check for formats that store it",
  )
  p.add_argument(
    "--joint-names", help="column names for CSV/mjlab inputs: g1_29dof, g1_23dof or a comma-separated list"
  )
  p.add_argument("--motion-key", help="which motion of a multi-motion st_gym pkl")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog="python -m refmotion_manager",
    description=__doc__,
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  sub = parser.add_subparsers(dest="command", required=True)

  p = sub.add_parser("inspect", help="print a clip's rate, length, joints and ranges")
  p.add_argument("path")
  _input_options(p)
  p.set_defaults(func=commands.inspect)

  p = sub.add_parser("convert", help="convert between formats, remap joints, resample, trim")
  p.add_argument("input")
  p.add_argument("output")
  _input_options(p)
  p.add_argument("--to", choices=FORMATS, help="output format (default: from the suffix)")
  p.add_argument("--fps", type=float, help="resample to this rate")
  p.add_argument("--joints", help="map joints by name: g1_23dof, g1_29dof or a name list")
  p.add_argument(
    "--fill",
    nargs="*",
    default=[],
    metavar="JOINT=VALUE",
    help="constant values for target joints the input lacks",
  )
  p.add_argument("--trim", nargs=2, type=float, metavar=("START_S", "END_S"))
  p.add_argument("--fk", action="store_true", help="store body poses computed by FK")
  p.set_defaults(func=commands.convert)

  p = sub.add_parser("validate", help="check clips; non-zero exit on errors")
  p.add_argument("paths", nargs="+")
  _input_options(p)
  p.add_argument("--strict", action="store_true", help="treat warnings as errors")
  p.add_argument("--expected-fps", type=float)
  p.add_argument("--min-duration", type=float, default=1.0, help="warn below (s)")
  p.add_argument("--root-height", type=float, nargs=2, default=(0.25, 1.5), metavar=("MIN", "MAX"))
  p.add_argument("--no-model", action="store_true", help="skip the MJCF-based checks")
  p.set_defaults(func=commands.validate)

  p = sub.add_parser("synthesize", help="generate the synthetic G1 motions by IK")
  p.add_argument("--out", default=".", help="output directory")
  p.add_argument("--mjcf", help="G1 29-DoF MJCF (default: mjlab's)")
  p.add_argument("--motion", nargs="*", help="motions to make (default: all)")
  p.add_argument("--fps", type=float, default=50.0)
  p.add_argument("--duration", type=float, help="seconds (default: each motion's own)")
  p.set_defaults(func=commands.synthesize)

  p = sub.add_parser("render", help="render a clip on the robot to .mp4 or a .png strip")
  p.add_argument("path")
  p.add_argument("--out", required=True, help="output .mp4 or .png")
  _input_options(p)
  p.add_argument("--width", type=int, default=480)
  p.add_argument("--height", type=int, default=360)
  p.add_argument("--stride", type=int, default=1, help="render every n-th frame")
  p.add_argument("--columns", type=int, default=8, help="frames in a .png strip")
  p.set_defaults(func=commands.render)
  return parser


def main(argv: Sequence[str] | None = None) -> int:
  args = build_parser().parse_args(argv)
  try:
    return int(args.func(args))
  except (MotionFormatError, FileNotFoundError) as err:
    print(f"error: {err}", file=sys.stderr)
    return 2
