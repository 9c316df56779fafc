"""The velocity plot."""

from __future__ import annotations

import numpy as np
import pytest

from legged_robots.evaluation.plot import plot_velocity_tracking


def test_plot_writes_png_and_checks_shapes(tmp_path):
  t = np.arange(50) * 0.02
  cmd = np.tile([0.5, 0.0, 0.2], (50, 1))
  plot_velocity_tracking(t, cmd, cmd * 0.9, tmp_path / "v.png", "test")
  assert (tmp_path / "v.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(ValueError, match="expected"):
    plot_velocity_tracking(t, cmd[:, :2], cmd[:, :2], tmp_path / "bad.png", "x")
