"""st_gym's env class: mjlab's ``ManagerBasedRlEnv`` with the reward bookkeeping fused.

mjlab's reward manager weights, cleans (NaN/Inf -> 0), accumulates and logs each term
with its own tensor ops: seven kernel launches per term and step, and three more per
term at every reset. ``FusedRewardManager`` computes the same quantities once for all
terms on an ``(envs, terms)`` matrix, so a 21-term task issues 6 launches instead of
147. Each term function still runs on its own; weights stay Python floats (a curriculum
may change them every step without a host-to-device copy).

st_gym tasks run in ``StGymRlEnv``; mjlab's own tasks keep mjlab's class
(``registry.env_class``), so benchmarks compare mjlab as it ships. A task whose cfg is a
``MotionEnvCfg`` with ``motion`` set gets its reference clips loaded once, before the
managers are built, as ``env.motion_library`` (AMP, mimic and reference-state terms).

NaN containment: one env whose physics blows up (a huge or NaN push, a bad contact) must
not end a training run of thousands. The ``non_finite`` termination term (mjlab's
``nan_detection``: NaN/Inf in qpos, qvel, qacc, warm start or sensors) ends such an
episode at the step it happens. State written after the termination check (interval
events such as pushes), observation terms that return NaN/Inf from a finite state, and
non-finite rewards are caught after the step: ``StGymRlEnv.step`` resets exactly those
envs before returning, books them under the same ``non_finite`` term, and returns their
post-reset observations, so rsl_rl never sees a non-finite number.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.managers.reward_manager import RewardManager

from legged_robots.tasks.motion import MotionDataCfg, load_motion_library, robot_model
from refmotion_manager import MotionLibrary

NON_FINITE_TERM = "non_finite"
"""Termination term (a time-out: no termination penalty, the value is bootstrapped from
the last finite observation) of envs whose state, observations or reward went NaN/Inf."""


class FusedRewardManager(RewardManager):
  """mjlab's ``RewardManager`` with compute and reset done on all terms at once.

  Same results as the parent: ``reward_buf`` = sum of nan_to_num(value * weight * scale),
  ``_step_reward`` the per-term rate before the dt scaling, ``_episode_sums[name]`` the
  per-term episode sum (a column view of one ``(envs, terms)`` matrix), and
  ``Episode_Reward/<name>`` = mean episode sum / episode length in s at reset.
  Terms with weight 0 are not evaluated and contribute 0, as in the parent.
  """

  @classmethod
  def from_manager(cls, manager: RewardManager) -> FusedRewardManager:
    """A fused manager over ``manager``'s resolved terms and cfgs.

    The cfg objects are shared, not copied: curriculum terms built against ``manager``
    (e.g. reward weight schedules) keep changing the weights this manager uses.
    """
    fused = cls.__new__(cls)
    fused.__dict__.update(vars(manager))
    fused._fuse()
    return fused

  non_finite: torch.Tensor
  """``(envs,)`` bool: a term of the last ``compute`` was NaN/Inf in that env."""

  def _fuse(self) -> None:
    self.non_finite = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
    self._sums = torch.zeros(self.num_envs, len(self._term_names), device=self.device)
    for i, name in enumerate(self._term_names):
      self._sums[:, i] = self._episode_sums[name]
    self._episode_sums = {name: self._sums[:, i] for i, name in enumerate(self._term_names)}
    self._zeros = torch.zeros(self.num_envs, device=self.device)

  def compute(self, dt: float) -> torch.Tensor:
    scale = dt if self._scale_by_dt else 1.0
    if not self._term_names:
      self.non_finite.zero_()
      return self._reward_buf.zero_()
    values: list[torch.Tensor] = []
    factors: list[float] = []
    for name, term_cfg in zip(self._term_names, self._term_cfgs, strict=True):
      if term_cfg.weight == 0.0:
        values.append(self._zeros)
        factors.append(0.0)
        continue
      value = term_cfg.func(self._env, **term_cfg.params)
      self._check_term_shape(name, value)
      values.append(value if value.dtype == torch.float32 else value.float())
      factors.append(term_cfg.weight * scale)
    weighted = torch.stack(torch._foreach_mul(values, factors), dim=1)
    # NaN/Inf can come from a corrupted physics state: zero them as mjlab does, and note
    # the envs so that StGymRlEnv resets them.
    self.non_finite = ~torch.isfinite(weighted).all(dim=1)
    torch.nan_to_num_(weighted, nan=0.0, posinf=0.0, neginf=0.0)
    torch.sum(weighted, dim=1, out=self._reward_buf)
    self._sums += weighted
    torch.div(weighted, scale, out=self._step_reward)
    return self._reward_buf

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> dict[str, torch.Tensor]:
    ids = slice(None) if env_ids is None else env_ids
    average = self._sums[ids].mean(dim=0) / self._env.max_episode_length_s
    self._sums[ids] = 0.0
    for term_cfg in self._class_term_cfgs:
      term_cfg.func.reset(env_ids=ids)
    return {f"Episode_Reward/{name}": average[i] for i, name in enumerate(self._term_names)}


@dataclass(kw_only=True)
class MotionEnvCfg(ManagerBasedRlEnvCfg):
  """An env cfg with reference motions (AMP style data, mimic targets)."""

  motion: MotionDataCfg | None = None
  """Clips loaded into ``env.motion_library``; None: the task uses no motion data."""
  motion_entity: str = "robot"
  """Entity the clips are mapped to (by joint name) and validated against."""


class StGymRlEnv(ManagerBasedRlEnv):
  """The env of every st_gym task: mjlab's, with ``FusedRewardManager``."""

  motion_library: MotionLibrary | None = None

  def load_managers(self) -> None:
    motion = getattr(self.cfg, "motion", None)
    if motion is not None:
      assert isinstance(self.cfg, MotionEnvCfg)
      entity = self.scene[self.cfg.motion_entity]
      model = robot_model(self.cfg.scene.entities[self.cfg.motion_entity].spec_fn())
      self.motion_library = load_motion_library(motion, model, tuple(entity.joint_names), self.device)
    super().load_managers()
    self.reward_manager = FusedRewardManager.from_manager(self.reward_manager)

  def step(self, action: torch.Tensor):
    """mjlab's step, then the envs left with a non-finite observation or reward are reset
    (see the module docstring); the others are untouched."""
    obs, reward, terminated, truncated, extras = super().step(action)
    if not self.cfg.auto_reset:
      return obs, reward, terminated, truncated, extras
    # A reward is non-finite where the state is; envs already reset by a term keep their
    # (sanitized) reward and their term.
    bad = self.reward_manager.non_finite & ~self.reset_buf
    for group in obs.values():
      for value in group.values() if isinstance(group, dict) else (group,):
        bad |= ~torch.isfinite(value).flatten(1).all(dim=1)
    if bool(bad.any()):
      obs = self._contain(bad.nonzero(as_tuple=False).squeeze(-1))
    return obs, self.reward_buf, self.reset_terminated, self.reset_time_outs, self.extras

  def _contain(self, env_ids: torch.Tensor) -> dict:
    """Reset env_ids now, as ended by the ``non_finite`` term; return all observations."""
    normal_resets = int(self.reset_buf.sum())
    dones = self.termination_manager._term_dones
    for name in dones:
      dones[name][env_ids] = name == NON_FINITE_TERM
    self.reset_buf[env_ids] = True
    self.reset_terminated[env_ids] = False
    self.reset_time_outs[env_ids] = True
    self.reward_buf[env_ids] = 0.0
    step_log = self.extras["log"]
    obs, _ = self.reset(env_ids=env_ids)  # mjlab's partial reset: only env_ids change
    contained_log = self.extras["log"]
    contained_log.setdefault(f"Episode_Termination/{NON_FINITE_TERM}", len(env_ids))
    self.extras["log"] = _merge_logs(step_log, normal_resets, contained_log, len(env_ids))
    return obs


def _merge_logs(first: dict, n_first: int, second: dict, n_second: int) -> dict:
  """One step's episode log from two resets: termination counts add, means are weighted."""
  merged = dict(first)
  for key, value in second.items():
    if key not in merged:
      merged[key] = value
    elif key.startswith("Episode_Termination/"):
      merged[key] = merged[key] + value
    else:
      merged[key] = (merged[key] * n_first + value * n_second) / max(n_first + n_second, 1)
  return merged
