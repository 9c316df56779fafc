"""MP4 writing through imageio-ffmpeg."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest

from legged_robots.rl.video import to_uint8, write_video


def test_video_has_all_frames_and_even_size(tmp_path):
  frames = [np.full((31, 40, 3), i * 20, np.uint8) for i in range(6)]
  path = tmp_path / "v.mp4"
  write_video(path, frames, fps=25)
  reader = imageio_ffmpeg.read_frames(str(path))
  meta = next(reader)
  decoded = [np.frombuffer(b, np.uint8) for b in reader]
  assert meta["size"] == (40, 30)  # odd height cropped for yuv420p
  assert len(decoded) == 6
  # Frame 5 was uniformly 100: lossy coding stays close.
  assert abs(decoded[5].mean() - 100) < 3
  with pytest.raises(ValueError, match="no frames"):
    write_video(tmp_path / "empty.mp4", [], fps=25)


def test_float_frames_are_scaled():
  assert to_uint8(np.array([[[0.0, 0.5, 1.0]]])).tolist() == [[[0, 128, 255]]]
