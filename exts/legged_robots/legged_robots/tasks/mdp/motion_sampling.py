"""Failure-adaptive start sampling (BeyondMimic's): start where episodes fail more often.

Each clip is cut into bins of ``bin_s`` seconds. A failed episode (a real termination,
not a time-out) adds 1 to the bin of the clip time it failed at; every update first
multiplies all counts by ``decay``, so old failures fade. Start bins are drawn with
probability ``(1 - alpha) / B + alpha * counts / sum(counts)`` per clip of B bins
(uniform while a clip has no failures), and the start time uniformly inside the bin.
Everything is masked tensor math: no host syncs.
"""

from __future__ import annotations

import torch


class FailureAdaptiveSampler:
  def __init__(
    self, durations: torch.Tensor, bin_s: float = 1.0, alpha: float = 0.8, decay: float = 0.999
  ) -> None:
    if bin_s <= 0 or not 0.0 <= alpha <= 1.0 or not 0.0 < decay <= 1.0:
      raise ValueError(
        f"adaptive sampling: need bin_s > 0, alpha in [0, 1], decay in (0, 1]; got {bin_s}, {alpha}, {decay}"
      )
    self.durations = durations
    self.bin_s, self.alpha, self.decay = bin_s, alpha, decay
    self.num_bins = torch.clamp(torch.ceil(durations / bin_s), min=1).long()
    max_bins = int(self.num_bins.max()) if len(durations) else 1
    self.valid = torch.arange(max_bins, device=durations.device) < self.num_bins.unsqueeze(1)
    self.counts = torch.zeros(len(durations), max_bins, device=durations.device)

  def bins(self, clip_ids: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    return torch.minimum(torch.floor(times / self.bin_s).long().clamp(min=0), self.num_bins[clip_ids] - 1)

  def record(self, clip_ids: torch.Tensor, times: torch.Tensor, failed: torch.Tensor) -> None:
    """Decay all counts, then add each failed episode to the bin it failed in."""
    self.counts.mul_(self.decay)
    self.counts.index_put_((clip_ids, self.bins(clip_ids, times)), failed.float(), accumulate=True)

  def probabilities(self) -> torch.Tensor:
    """(clips, max bins) start-bin probabilities; 0 beyond a clip's last bin."""
    uniform = self.valid.float() / self.num_bins.unsqueeze(1)
    total = self.counts.sum(dim=1, keepdim=True)
    adaptive = (1.0 - self.alpha) * uniform + self.alpha * self.counts / total.clamp(min=1e-12)
    return torch.where(total > 0, adaptive, uniform)

  def sample_times(self, clip_ids: torch.Tensor) -> torch.Tensor:
    probs = self.probabilities()[clip_ids]
    start_bin = torch.multinomial(probs, 1).squeeze(1).float()
    times = (start_bin + torch.rand(len(clip_ids), device=probs.device)) * self.bin_s
    return torch.minimum(times, self.durations[clip_ids])
