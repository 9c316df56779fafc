"""Play metrics of motion-tracking tasks: how closely the joints follow the reference.

Per env step, each joint's error is |q - q_ref| against the frame the step's action
aimed at (the command's ``reference`` before the step; after it the command shows the
next frame). Steps that end an episode are left out (their state is the reset state).

- ``mimicked_joint_pos_error_rad``: mean over env-steps and the command's mimicked joints;
- ``other_joint_pos_error_rad``: the same over the remaining joints (the legs, for mimic:
  they walk rather than follow the clip, so this is a measure, not a target);
- ``link_pos_error_world_m`` / ``link_pos_error_root_m`` (when the motion library serves
  links, ``env.motion.body_names``: whole-body tracking): mean over env-steps and links of
  the distance between each link and its reference, in the world (the clip as placed on
  the env) and relative to the root (each root's heading frame, ``mimic.link_states``);
- ``success_rate``: fraction of completed episodes that reached the time limit, i.e.
  ended by neither a fall nor a tracking termination (mjlab's tracking evaluation counts
  success the same way);
- a trace of env 0's reference and achieved positions of a few mimicked joints for a plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from legged_robots.tasks.mdp.mimic import link_states, resolve_links
from legged_robots.tasks.mdp.motion_command import MotionCommand


def motion_command(env) -> MotionCommand | None:
  """The env's first MotionCommand, if any."""
  for name in env.command_manager.active_terms:
    term = env.command_manager.get_term(name)
    if isinstance(term, MotionCommand):
      return term
  return None


@dataclass
class MimicMetrics:
  motion: MotionCommand
  plot_joints: int = 4
  plot_steps: int = 500
  _sums: torch.Tensor = field(init=False)
  _steps: int = 0
  _trace: list[np.ndarray] = field(default_factory=list)

  def __post_init__(self) -> None:
    self._sums = torch.zeros(4, dtype=torch.float64)  # mimicked, other joints; links world, root
    num_joints = self.motion.asset.data.joint_pos.shape[1]
    self._mimicked = torch.zeros(num_joints, dtype=torch.bool)
    self._mimicked[self.motion.joint_ids] = True
    self.links = self.motion.library.body_names
    self._link_ids = resolve_links(self.motion, self.links, "play metrics") if self.links else None

  def target(self) -> dict[str, torch.Tensor]:
    """Call before the env step: the reference frame the step's action aims at (a copy),
    its root and links moved onto the env as the clip is (``root_offset``)."""
    reference = {k: v.clone() for k, v in self.motion.reference.items()}
    reference["root_pos"] += self.motion.root_offset
    if "body_pos_w" in reference:
      reference["body_pos_w"] += self.motion.root_offset.unsqueeze(1)
    return reference

  def step(self, target: dict[str, torch.Tensor], dones: torch.Tensor) -> None:
    """Call after the env step with ``target()`` from before it."""
    data = self.motion.asset.data
    live = ~dones.detach().cpu().bool()
    error = (data.joint_pos - target["joint_pos"]).abs().detach().cpu()[live]
    sums = [error[:, self._mimicked].sum(), error[:, ~self._mimicked].sum()]
    if self._link_ids is not None:
      ids, cols = self._link_ids
      world = (data.body_link_pos_w[:, ids] - target["body_pos_w"][:, cols]).norm(dim=-1)
      robot, reference = link_states(self.motion, ids, cols, "pos", target)
      root = (robot - reference).norm(dim=-1)
      sums += [world.detach().cpu()[live].sum(), root.detach().cpu()[live].sum()]
    self._sums[: len(sums)] += torch.stack(sums).double()
    self._steps += int(live.sum())
    if len(self._trace) < self.plot_steps:
      ids = self.motion.joint_ids[: self.plot_joints]
      q = data.joint_pos[0, ids].detach().cpu().numpy()
      self._trace.append(np.stack([target["joint_pos"][0, ids].detach().cpu().numpy(), q]))

  def summary(self, fall_rate: float) -> dict:
    n_mimicked = int(self._mimicked.sum())
    n_other = len(self._mimicked) - n_mimicked
    steps = max(self._steps, 1)
    links = {}
    if self.links:
      n_links = steps * len(self.links)
      links = {
        "link_pos_error_world_m": float(self._sums[2]) / n_links,
        "link_pos_error_root_m": float(self._sums[3]) / n_links,
        "tracked_links": list(self.links),
      }
    return {
      "success_rate": 1.0 - fall_rate,
      "mimicked_joint_pos_error_rad": float(self._sums[0]) / (steps * n_mimicked),
      "other_joint_pos_error_rad": float(self._sums[1]) / (steps * n_other) if n_other else None,
      "mimicked_joints": [self.motion.asset.joint_names[i] for i in self.motion.joint_ids],
      **links,
    }

  def plot(self, path: Path, step_dt: float, title: str) -> None:
    """Reference (dashed) and achieved (solid) positions of the first mimicked joints, env 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trace = np.stack(self._trace)  # (T, 2, J)
    t = np.arange(len(trace)) * step_dt
    names = [self.motion.asset.joint_names[i] for i in self.motion.joint_ids[: self.plot_joints]]
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.8 * len(names)), sharex=True, squeeze=False)
    for j, (ax, name) in enumerate(zip(axes[:, 0], names, strict=True)):
      ax.plot(t, trace[:, 0, j], "--", label="reference")
      ax.plot(t, trace[:, 1, j], label="achieved")
      ax.set_ylabel(f"{name}\n(rad)", fontsize=7)
    axes[0, 0].legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
