"""Isaac Lab 3 (kitless, Newton) probe of issue 18: run every stage, record what works and what fails.

Stages, each in its own process with a time limit:
  install         the bundle imports; a Warp kernel runs on the GPU (stage_install.py)
  cartpole_local  Isaac Lab's install test (Cartpole, rsl_rl, newton_mjwarp) with the offline
                  cartpole and ground plane of assets/ in place of the cloud ones
  g1_env          mjlab's G1 MJCF in an Isaac Lab ManagerBasedRLEnv on Newton (stage_g1_env.py)
  g1_newton       the same G1 straight through Newton, no Isaac Lab (stage_g1_newton.py)
  cartpole_stock  the install test unchanged; not run unless named: its USD assets come from NVIDIA's
                  cloud server, so offline it fails after ~70 s of connection attempts whatever the GPU
Each stage writes OUT/<stage>.log (its whole output, tracebacks included); OUT/summary.json holds
every stage's status, exit code, wall time, last error line and findings. A failed stage never
stops the next one.

usage: python3 probe.py --out OUT [--stages install,g1_env] [--num_envs 4096] [--device cuda:0]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from probe_common import bad_input, write_json

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
STAGES = ("install", "cartpole_local", "g1_env", "g1_newton", "cartpole_stock")
DEFAULT_STAGES = STAGES[:4]
TIMEOUT_S = {"install": 90, "cartpole_local": 200, "g1_env": 240, "g1_newton": 150, "cartpole_stock": 120}
"""Per-stage limits [s]: Warp compiles Newton's and MuJoCo Warp's kernels on a fresh machine (~1 min)."""
CARTPOLE_TRAIN = ["-m", "isaaclab", "train", "--rl_library", "rsl_rl", "--task", "Isaac-Cartpole-Direct"]
FINDINGS_LISTS = ("joint_names", "body_names", "joints", "modules")
"""Long findings kept in OUT/<stage>.json but left out of summary.json."""


def stage_command(stage: str, args: argparse.Namespace) -> list[str]:
  """The command line of one stage (run with the probe's own Python)."""
  device = ["--device", args.device]
  if stage == "install":
    return [str(HERE / "stage_install.py"), "--out", str(args.out)]
  if stage in ("cartpole_stock", "cartpole_local"):
    command = [*CARTPOLE_TRAIN, "--num_envs", str(args.num_envs), "presets=newton_mjwarp"]
    command += ["--max_iterations", str(args.iterations), *device]
    if args.device == "cpu":
      command.append("agent.device=cpu")  # rsl_rl's runner cfg defaults to cuda:0
    if stage == "cartpole_local":
      command += [
        f"env.scene.cartpole.spawn.usd_path={ASSETS / 'cartpole.usda'}",
        f"env.scene.ground.spawn.usd_path={ASSETS / 'ground_plane.usda'}",
      ]
    return command
  script = "stage_g1_env.py" if stage == "g1_env" else "stage_g1_newton.py"
  command = [str(HERE / script), "--out", str(args.out), "--g1_xml", str(args.g1_xml)]
  command += ["--num_envs", str(args.num_envs), "--steps", str(args.steps), *device]
  if stage == "g1_env":
    command += ["--usd_dir", str(args.work / "g1_usd")]
  return command


def training_findings(log: str) -> dict[str, Any]:
  """What rsl_rl printed: completion, iterations, last throughput and reward."""

  def last(pattern: str) -> str | None:
    found = re.findall(pattern, log)
    return found[-1] if found else None

  return {
    "completed": "Training time:" in log,
    "training_time_s": last(r"Training time: ([\d.]+) seconds"),
    "iterations_logged": len(re.findall(r"Learning iteration \d+/\d+", log)),
    "last_steps_per_s": last(r"Steps per second: (\d+)"),
    "last_mean_reward": last(r"Mean reward: ([-\d.]+)"),
  }


def last_error(log: str) -> str | None:
  """The last line of the last traceback in ``log`` (the exception and its message)."""
  if "Traceback (most recent call last)" not in log:
    return None
  tail = log.rsplit("Traceback (most recent call last)", 1)[1].strip().splitlines()
  return next((line for line in tail if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)), tail[-1])


def run_stage(stage: str, args: argparse.Namespace) -> dict[str, Any]:
  """Run one stage with its time limit; return its summary entry."""
  work = args.work / stage
  work.mkdir(parents=True, exist_ok=True)
  log_path = args.out / f"{stage}.log"
  command = [sys.executable, *stage_command(stage, args)]
  print(f"[probe] {stage}: {' '.join(command)}", flush=True)
  start = time.monotonic()
  with log_path.open("w") as log_file:
    log_file.write("$ " + " ".join(command) + "\n")
    log_file.flush()
    try:
      rc: int | None = subprocess.run(
        command, cwd=work, stdout=log_file, stderr=subprocess.STDOUT, timeout=TIMEOUT_S[stage], check=False
      ).returncode
    except subprocess.TimeoutExpired:
      rc = None
  log = log_path.read_text(errors="replace")
  entry: dict[str, Any] = {"seconds": round(time.monotonic() - start, 1), "rc": rc, "log": log_path.name}
  findings_path = args.out / f"{stage}.json"
  if stage.startswith("cartpole"):
    findings = training_findings(log)
    write_json(findings_path, findings)
  else:
    findings = json.loads(findings_path.read_text()) if findings_path.is_file() else {}
  entry.update({k: v for k, v in findings.items() if k not in FINDINGS_LISTS})
  ok = rc == 0 and findings.get("completed", True) is not False
  entry["status"] = "ok" if ok else ("timeout" if rc is None else "failed")
  if not ok:
    entry["error"] = last_error(log) or (f"no result within {TIMEOUT_S[stage]} s" if rc is None else None)
  print(f"[probe] {stage}: {entry['status']} in {entry['seconds']} s {entry.get('error') or ''}", flush=True)
  return entry


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
  parser.add_argument("--out", type=Path, required=True, help="folder for logs, <stage>.json, summary.json")
  parser.add_argument("--stages", default=",".join(DEFAULT_STAGES), help=f"of {','.join(STAGES)}")
  parser.add_argument("--g1_xml", type=Path, default=Path(os.environ.get("G1_XML", "")), help="mjlab g1.xml")
  parser.add_argument("--num_envs", type=int, default=4096)
  parser.add_argument("--iterations", type=int, default=5, help="cartpole training iterations")
  parser.add_argument("--steps", type=int, default=200, help="timed G1 control steps")
  parser.add_argument("--device", default="cuda:0")
  parser.add_argument("--work", type=Path, default=Path("/tmp/il_probe"), help="scratch (training logs, USD)")
  args = parser.parse_args()
  stages = args.stages.split(",")
  unknown = sorted(set(stages) - set(STAGES))
  if unknown:
    bad_input(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
  if any(s.startswith("g1") for s in stages) and not args.g1_xml.is_file():
    bad_input(f"G1 MJCF not found at '{args.g1_xml}'; pass --g1_xml or G1_XML (mjlab's unitree_g1 g1.xml)")
  args.out.mkdir(parents=True, exist_ok=True)
  summary: dict[str, Any] = {"argv": sys.argv[1:], "python": sys.version.split()[0], "stages": {}}
  for stage in stages:
    summary["stages"][stage] = run_stage(stage, args)
    write_json(args.out / "summary.json", summary)  # after every stage: a cut-off run keeps what it has
  print(json.dumps(summary["stages"], indent=1, default=str))


if __name__ == "__main__":
  main()
