# Isaac Lab 3 and Newton need Python 3.12; the 3.11 dev venv cannot hold them, so pyright cannot see them.
# pyright: reportMissingImports=false
"""Probe stage 2b: the same G1 MJCF straight through Newton, without Isaac Lab.

Newton's own MJCF importer (``ModelBuilder.add_mjcf``) and its MuJoCo Warp solver, with the gains
and solver settings of the Isaac Lab stage: if the Isaac Lab env cannot be built this says whether
Newton itself can, and where both run it gives the cost of Isaac Lab's managers over raw physics.
Holds the knees-bent pose with joint position targets and reports physics steps per second.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import warp as wp
from probe_common import parse_g1_args, pelvis_height_summary, stage_main, stage_parser
from stage_g1_env import FALLEN_HEIGHT, G1_ACTUATORS, G1_INIT_HEIGHT, G1_INIT_JOINT_POS, MJWARP_SETTINGS

DT = 0.005
DECIMATION = 4


@wp.kernel
def record_root_height(
  body_q: wp.array(dtype=wp.transform),  # type: ignore[valid-type]
  bodies_per_env: int,
  row: int,
  height: wp.array2d(dtype=wp.float32),  # type: ignore[valid-type]
):
  """height[row, env] = z of env's first body (the pelvis)."""
  env = wp.tid()
  height[row, env] = wp.transform_get_translation(body_q[env * bodies_per_env]).z


def match_value(name: str, table: dict[str, Any], default: Any) -> Any:
  """The value of the first regex key of ``table`` that fully matches ``name``."""
  return next((value for pattern, value in table.items() if re.fullmatch(pattern, name)), default)


def run(g1_xml: Path, num_envs: int, steps: int, device: str) -> dict[str, Any]:
  """Build ``num_envs`` G1s with Newton, hold the default pose for ``steps`` control steps."""
  import newton

  gains = {p: group[1:] for group in G1_ACTUATORS.values() for p in group[0]}
  g1 = newton.ModelBuilder()
  g1.add_mjcf(
    str(g1_xml),
    xform=wp.transform(wp.vec3(0.0, 0.0, G1_INIT_HEIGHT), wp.quat_identity()),
    override_root_xform=True,  # the XML puts the pelvis at 0.793 m; start at the keyframe height instead
    parse_visuals=False,
    enable_self_collisions=False,
  )
  # joint 0 is the free joint of the pelvis; every other joint is a hinge with one coordinate and one dof
  hinge_names = [label.rsplit("/", 1)[-1] for label in g1.joint_label[1:]]
  for joint, name in enumerate(hinge_names, start=1):
    kp, kd, effort, armature = match_value(name, gains, None)
    q = match_value(name, G1_INIT_JOINT_POS, 0.0)
    coord, dof = g1.joint_q_start[joint], g1.joint_qd_start[joint]
    g1.joint_q[coord] = q
    g1.joint_target_q[coord] = q  # coordinate-sized in the builder (Newton >= 1.5)
    g1.joint_target_ke[dof] = kp
    g1.joint_target_kd[dof] = kd
    g1.joint_effort_limit[dof] = effort
    g1.joint_armature[dof] = armature
    g1.joint_target_mode[dof] = int(newton.JointTargetMode.POSITION)

  builder = newton.ModelBuilder()
  builder.replicate(g1, num_envs, spacing=(2.5, 2.5, 0.0))
  builder.add_ground_plane()
  start = time.monotonic()
  model = builder.finalize(device=device)
  solver = newton.solvers.SolverMuJoCo(model, **MJWARP_SETTINGS)
  state_0, state_1, control = model.state(), model.state(), model.control()
  newton.eval_fk(model, model.joint_q, model.joint_qd, state_0)
  findings: dict[str, Any] = {
    "g1_xml": g1_xml,
    "num_envs": num_envs,
    "device": device,
    "joints": hinge_names,
    "build_s": round(time.monotonic() - start, 1),
  }

  def control_step():
    nonlocal state_0, state_1
    for _ in range(DECIMATION):  # an even count: the state buffers end where they began (graph-safe)
      state_0.clear_forces()
      solver.step(state_0, state_1, control, None, DT)
      state_0, state_1 = state_1, state_0

  start = time.monotonic()
  control_step()  # compiles the kernels
  wp.synchronize_device(device)
  findings["first_step_s"] = round(time.monotonic() - start, 1)
  graph = None
  if wp.get_device(device).is_cuda:  # one CUDA graph per control step, as Isaac Lab does
    try:
      with wp.ScopedCapture(device=device) as capture:
        control_step()
      graph = capture.graph
    except Exception as exc:  # then time plain launches, and say so in the findings
      findings["cuda_graph_error"] = f"{type(exc).__name__}: {exc}"
  findings["cuda_graph"] = graph is not None
  bodies_per_env = model.body_count // num_envs
  height = wp.zeros((steps, num_envs), dtype=wp.float32, device=device)
  start = time.monotonic()
  for row in range(steps):
    if graph is None:
      control_step()
    else:
      wp.capture_launch(graph)
    # recorded on Warp's stream, behind the step it measures
    wp.launch(
      record_root_height, dim=num_envs, inputs=[state_0.body_q, bodies_per_env, row, height], device=device
    )
  wp.synchronize_device(device)
  elapsed = time.monotonic() - start
  findings.update(
    steps=steps,
    env_steps_per_s=round(steps * num_envs / elapsed),
    physics_steps_per_s=round(steps * num_envs * DECIMATION / elapsed),
    **pelvis_height_summary(wp.to_torch(height), DECIMATION * DT, FALLEN_HEIGHT),
  )
  return findings


if __name__ == "__main__":
  args = parse_g1_args(stage_parser("G1 (mjlab MJCF) through Newton's MJCF importer and MuJoCo Warp solver"))
  run_args = (args.g1_xml, args.num_envs, args.steps, args.device)
  raise SystemExit(stage_main("g1_newton", args.out, lambda: run(*run_args)))
