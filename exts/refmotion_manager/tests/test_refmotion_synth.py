import numpy as np
import pytest

from refmotion_manager import MotionClip, body_states, validate_clip
from refmotion_manager.synth import CATALOGUE, synthesize
from refmotion_manager.synth.gait import GaitParams, foot_at
from refmotion_manager.synth.generate import ankle_height


def test_catalogue_covers_the_issue():
  assert {
    "walk_slow",
    "walk",
    "walk_fast",
    "turn_in_place",
    "walk_turn",
    "squat",
    "arm_wave",
    "dance",
  } == set(CATALOGUE)


def test_generation_is_deterministic(g1):
  a = synthesize("walk", g1, fps=50.0, duration=0.6)
  b = synthesize("walk", g1, fps=50.0, duration=0.6)
  np.testing.assert_array_equal(a.joint_pos, b.joint_pos)
  np.testing.assert_array_equal(a.root_pos, b.root_pos)
  assert a.metadata["synthetic"] is True


def test_stance_foot_stays_planted_and_swing_foot_lands_on_plan(g1):
  fps, params = 50.0, GaitParams(speed=0.8, yaw_rate=0.0, step_time=0.4)
  clip = synthesize("walk", g1, fps=fps, duration=0.8)
  feet = body_states(clip, g1, ("left_ankle_roll_link", "right_ankle_roll_link")).pos
  # Step 0 (0 .. 0.4 s): right foot in stance at its planned footprint.
  xy, _, _, _ = foot_at(0.2, -1, params)
  np.testing.assert_allclose(feet[:21, 1, :2], np.tile(xy, (21, 1)), atol=1e-4)
  np.testing.assert_allclose(feet[:21, 1, 2], ankle_height(g1), atol=1e-4)
  # The left foot lands at t = 0.4 s where the plan puts it.
  xy, _, _, _ = foot_at(0.4, 1, params)
  np.testing.assert_allclose(feet[20, 0, :2], xy, atol=1e-4)


def test_waving_hand_reaches_above_the_shoulder(g1):
  clip: MotionClip = synthesize("arm_wave", g1, fps=25.0, duration=1.2)
  hand = body_states(clip, g1, ("right_wrist_yaw_link", "right_shoulder_pitch_link")).pos
  assert hand[-1, 0, 2] > hand[-1, 1, 2] + 0.1


@pytest.mark.parametrize("name", ["walk_turn", "squat", "dance"])
def test_short_synthesized_clips_validate(g1, name):
  clip = synthesize(name, g1, fps=25.0, duration=1.2)
  report = validate_clip(clip, g1, strict=True)
  assert report.ok, report.to_text()
