"""Whole-body tracking: failure-adaptive start sampling by hand, the clip placed on the env
origin (root offset), root errors and the end of the clip."""

from __future__ import annotations

import math

import pytest
import torch

from legged_robots.tasks import load_env_cfg
from legged_robots.tasks.env import StGymRlEnv
from legged_robots.tasks.mdp import mimic
from legged_robots.tasks.mdp.motion_sampling import FailureAdaptiveSampler
from legged_robots.tasks.motion import MotionDataCfg
from refmotion_manager import MotionClip, data_path

CLIP = data_path() / "g1_dance.npz"  # 50 fps, 4 s


def test_failures_pull_the_start_bins():
  sampler = FailureAdaptiveSampler(torch.tensor([2.0, 1.0]), bin_s=1.0, alpha=0.8, decay=1.0)
  assert sampler.num_bins.tolist() == [2, 1]
  torch.testing.assert_close(sampler.probabilities(), torch.tensor([[0.5, 0.5], [1.0, 0.0]]))
  # Two failures at 1.5 s of clip 0, one time-out at 0.2 s (not a failure), one at clip 1.
  sampler.record(
    torch.tensor([0, 0, 0, 1]), torch.tensor([1.5, 1.7, 0.2, 0.4]), torch.tensor([1, 1, 0, 0]).bool()
  )
  torch.testing.assert_close(sampler.counts, torch.tensor([[0.0, 2.0], [0.0, 0.0]]))
  # clip 0: 0.2 x uniform (0.5, 0.5) + 0.8 x (0, 1) = (0.1, 0.9); clip 1 keeps uniform.
  torch.testing.assert_close(sampler.probabilities(), torch.tensor([[0.1, 0.9], [1.0, 0.0]]))
  torch.manual_seed(0)
  times = sampler.sample_times(torch.zeros(20000, dtype=torch.long))
  assert 0.88 < (times >= 1.0).float().mean().item() < 0.92
  assert times.min() >= 0.0 and times.max() <= 2.0
  decaying = FailureAdaptiveSampler(torch.tensor([2.0]), bin_s=1.0, decay=0.5)
  decaying.record(torch.tensor([0]), torch.tensor([1.2]), torch.tensor([True]))
  decaying.record(torch.tensor([0]), torch.tensor([0.1]), torch.tensor([True]))
  torch.testing.assert_close(decaying.counts, torch.tensor([[1.0, 0.5]]))  # (0 + 1), (1 x 0.5)
  with pytest.raises(ValueError, match="alpha"):
    FailureAdaptiveSampler(torch.tensor([1.0]), alpha=1.5)


@pytest.mark.slow
def test_the_clip_starts_on_the_env_origin_and_ends_as_a_time_out():
  cfg = load_env_cfg("Tracking-Flat-G1")
  cfg.scene.num_envs = 2
  cfg.motion = MotionDataCfg(files=[str(CLIP)])
  cfg.commands["motion"].random_start = False
  cfg.commands["motion"].adaptive_sampling = False
  env = StGymRlEnv(cfg, device="cpu")
  try:
    env.reset()
    motion = env.command_manager.get_term("motion")
    clip = MotionClip.load(CLIP)
    origin = env.scene.env_origins
    root = env.scene["robot"].data.root_link_pos_w
    # The start frame (0) is on the origin: x, y at the origin, z the clip's.
    torch.testing.assert_close(root[:, :2], origin[:, :2], atol=1e-5, rtol=0)
    torch.testing.assert_close(root[:, 2], origin[:, 2] + float(clip.root_pos[0, 2]), atol=1e-5, rtol=0)
    # The reference (frame 1) moved with the clip from there.
    moved = torch.tensor(
      clip.root_pos[1] - [clip.root_pos[0, 0], clip.root_pos[0, 1], 0.0], dtype=torch.float32
    )
    torch.testing.assert_close(motion.reference_root_pos_w, origin + moved, atol=1e-5, rtol=0)
    # Root errors: frame 0 against frame 1 of the clip, by hand.
    d = torch.tensor(clip.root_pos[1] - clip.root_pos[0], dtype=torch.float32)
    expected = math.exp(-float(d.pow(2).sum()) / 0.3**2)
    assert torch.allclose(mimic.track_root_pos_exp(env, "motion", 0.3), torch.full((2,), expected), atol=1e-5)
    assert not mimic.motion_ended(env, "motion").any()
    motion.time[:] = 4.0 + 0.02
    assert mimic.motion_ended(env, "motion").all()
    assert cfg.terminations["motion_ended"].time_out
  finally:
    env.close()
