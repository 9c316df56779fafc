"""Training metrics: TensorBoard/W&B scalars and one progress line per iteration.

Replaces the multi-line console block of rsl_rl's ``Logger.log`` with one line that
carries steps/s and ETA. The scalars are the same as rsl_rl's; mjlab's episode extras
arrive already namespaced (``Episode_Reward/<term>``, ``Episode_Termination/<term>``,
``Curriculum/<term>``, ``Metrics/<name>``) and are written under those names.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import torch
from rsl_rl.utils.logger import Logger


def eta_seconds(elapsed_s: float, done_iters: int, remaining_iters: int) -> float:
  """Remaining time if the remaining iterations take the mean time of the done ones."""
  if done_iters <= 0:
    raise ValueError("ETA needs at least one finished iteration")
  return elapsed_s / done_iters * remaining_iters


def format_progress(
  it: int,
  last_it: int,
  steps_per_s: float,
  mean_reward: float | None,
  mean_episode_length: float | None,
  elapsed_s: float,
  eta_s: float,
) -> str:
  """``[it 12/99] 4321 steps/s | reward 3.21 | ep_len 120.5 | 0:01:02 elapsed | ETA 0:07:30``."""
  reward = "n/a" if mean_reward is None else f"{mean_reward:.3f}"
  length = "n/a" if mean_episode_length is None else f"{mean_episode_length:.1f}"
  return (
    f"[it {it}/{last_it}] {steps_per_s:.0f} steps/s | reward {reward} | ep_len {length} | "
    f"{datetime.timedelta(seconds=int(elapsed_s))} elapsed | "
    f"ETA {datetime.timedelta(seconds=round(eta_s))}"
  )


def _episode_means(ep_extras: list[dict], device: str) -> dict[str, float]:
  """Mean of each extras key over the steps it was reported in."""
  means = {}
  for key in sorted({k for info in ep_extras for k in info}):
    values = []
    for info in ep_extras:
      if key not in info:
        continue
      value = info[key]
      value = value if isinstance(value, torch.Tensor) else torch.tensor([float(value)])
      values.append(value.reshape(-1).float().to(device))
    means[key] = torch.cat(values).mean().item()
  return means


@dataclass(frozen=True)
class IterationStats:
  """What one finished learning iteration reports (times in seconds)."""

  it: int
  steps_per_s: float
  collect_s: float
  learn_s: float
  mean_reward: float | None
  mean_episode_length: float | None


class ProgressLogger(Logger):
  """rsl_rl Logger with a one-line console print; everything else is inherited."""

  print_progress: bool = True
  """Print the one-line progress per iteration; a caller that prints its own turns it off."""
  on_iteration: Callable[[IterationStats], None] | None = None
  """Called after each logged iteration, e.g. to record the reward curve against wall-clock."""

  def log(  # type: ignore[override]
    self,
    it: int,
    start_it: int,
    total_it: int,
    collect_time: float,
    learn_time: float,
    loss_dict: dict,
    learning_rate: float,
    action_std: torch.Tensor,
    rnd_weight: float | None,
    **_: object,
  ) -> None:
    if self.writer is None:
      return
    collection_size = self.cfg["num_steps_per_env"] * self.num_envs * self.gpu_world_size
    iteration_time = collect_time + learn_time
    self.tot_timesteps += collection_size
    self.tot_time += iteration_time
    steps_per_s = collection_size / iteration_time

    for key, value in _episode_means(self.ep_extras, self.device).items():
      self.writer.add_scalar(key if "/" in key else f"Episode/{key}", value, it)
    self.ep_extras.clear()
    for key, value in loss_dict.items():
      # Keys with a section (AMP-PPO's "AMP/expert_score", ...) keep it.
      self.writer.add_scalar(key if "/" in key else f"Loss/{key}", value, it)
    self.writer.add_scalar("Loss/learning_rate", learning_rate, it)
    self.writer.add_scalar("Policy/mean_std", action_std.mean().item(), it)
    self.writer.add_scalar("Perf/total_fps", steps_per_s, it)
    self.writer.add_scalar("Perf/collection_time", collect_time, it)
    self.writer.add_scalar("Perf/learning_time", learn_time, it)
    if rnd_weight is not None:
      self.writer.add_scalar("Rnd/weight", rnd_weight, it)

    mean_reward = mean_length = None
    if self.rewbuffer:
      mean_reward = statistics.mean(self.rewbuffer)
      mean_length = statistics.mean(self.lenbuffer)
      self.writer.add_scalar("Train/mean_reward", mean_reward, it)
      self.writer.add_scalar("Train/mean_episode_length", mean_length, it)

    if self.print_progress:
      done = it + 1 - start_it
      eta = eta_seconds(self.tot_time, done, total_it - start_it - done)
      line = format_progress(it, total_it - 1, steps_per_s, mean_reward, mean_length, self.tot_time, eta)
      print(line, flush=True)
    if self.on_iteration is not None:
      self.on_iteration(IterationStats(it, steps_per_s, collect_time, learn_time, mean_reward, mean_length))
