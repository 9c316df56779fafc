"""Export several checkpoints of one run, each to its own ``exported/model_<i>/`` folder.

``exported/`` itself always holds the newest save; a robustness sweep compares older
checkpoints too, so each gets its own folder (policy.onnx, deploy.yaml, robot.xml). One
single-env CPU env is built for all of them, with the run's trained policy interface.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from legged_robots.rl import checkpoint as ckpt
from legged_robots.rl.task_cfg import load_task_cfgs, policy_io_sizes, restore_training_interface


def export_checkpoints(task: str, run_dir: Path, checkpoints: list[str], device: str = "cpu") -> list[Path]:
  """Write ``run_dir/exported/model_<i>/`` for each checkpoint (iteration, name or path)."""
  run_dir = Path(run_dir).resolve()
  paths = [ckpt.resolve_checkpoint(run_dir.parent, str(run_dir), c) for c in checkpoints]
  data = [ckpt.read_checkpoint(p) for p in paths]  # every file checked before the env is built
  cfgs = load_task_cfgs(task, play=True)
  restore_training_interface(cfgs, run_dir)
  cfgs.env.scene.num_envs = 1

  from mjlab.rl import RslRlVecEnvWrapper

  from legged_robots.rl.runner import runner_class
  from legged_robots.tasks.registry import env_class

  env = env_class(task)(cfg=cfgs.env, device=device)
  folders = []
  try:
    wrapped = RslRlVecEnvWrapper(env, clip_actions=cfgs.agent.clip_actions)
    sizes = policy_io_sizes(wrapped, cfgs.agent)
    runner = runner_class(cfgs.agent)(wrapped, asdict(cfgs.agent), task, None, device)
    for path, d in zip(paths, data, strict=True):
      ckpt.check_fits(path, d, *sizes)
      runner.load(str(path), load_cfg={"actor": True}, map_location=device)
      out = run_dir / "exported" / path.stem
      runner.export(out, iteration=int(d["iter"]))
      print(f"[st_rl] exported {path.name} -> {out}", flush=True)
      folders.append(out)
  finally:
    env.close()
  return folders
