"""ETA arithmetic and the one-line progress format."""

import pytest

from legged_robots.rl.progress import eta_seconds, format_progress


def test_eta_is_mean_iteration_time_times_remaining():
  # 3 iterations took 30 s -> 10 s each; 7 remain -> 70 s.
  assert eta_seconds(30.0, 3, 7) == pytest.approx(70.0)
  assert eta_seconds(30.0, 3, 0) == 0.0
  with pytest.raises(ValueError):
    eta_seconds(1.0, 0, 5)


def test_progress_line_has_steps_per_second_and_eta():
  line = format_progress(4, 99, 12345.6, 3.21456, 120.04, 62.0, 450.0)
  assert line == ("[it 4/99] 12346 steps/s | reward 3.215 | ep_len 120.0 | 0:01:02 elapsed | ETA 0:07:30")
  assert "reward n/a" in format_progress(0, 1, 1.0, None, None, 0.0, 0.0)
