"""MP4 writing without a display.

Rendering uses mjlab's offscreen renderer; on a machine without EGL set
``MUJOCO_GL=osmesa PYOPENGL_PLATFORM=osmesa`` before mjlab is imported (the scripts do
this when no GPU is visible). Frames are encoded with the ffmpeg binary bundled in
imageio-ffmpeg, called directly: mediapy passes ``-vsync``, which that ffmpeg rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import imageio_ffmpeg
import mujoco
import numpy as np
from mjlab.envs import ManagerBasedRlEnv
from mjlab.utils.wrappers import VideoRecorder


def to_uint8(frame: np.ndarray) -> np.ndarray:
  """RGB frame as uint8 (float frames are taken to be in [0, 1])."""
  if frame.dtype == np.uint8:
    return frame
  return (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float) -> None:
  """Encode RGB frames (H, W, 3) to an H.264 MP4 at fps."""
  if not frames:
    raise ValueError(f"no frames to write to {path}")
  path.parent.mkdir(parents=True, exist_ok=True)
  height, width = frames[0].shape[:2]
  # H.264 with yuv420p needs even sizes; crop the odd last row/column if any.
  height, width = height - height % 2, width - width % 2
  writer = imageio_ffmpeg.write_frames(
    str(path),
    (width, height),
    fps=fps,  # pyright: ignore[reportArgumentType]  (ffmpeg takes fractional rates)
    codec="libx264",
    pix_fmt_out="yuv420p",
    macro_block_size=1,
    output_params=["-loglevel", "error"],
  )
  writer.send(None)  # start the generator
  for frame in frames:
    writer.send(np.ascontiguousarray(to_uint8(frame)[:height, :width, :3]))
  writer.close()


def render_frame(
  env: ManagerBasedRlEnv, extra: Callable[[mujoco.MjvScene, mujoco.MjvOption], None] | None = None
) -> np.ndarray:
  """``env.render()``, with ``extra`` adding geoms (a reference robot) to the scene before
  it is drawn. mjlab updates and draws the scene in one call, so this repeats its two
  steps on its offscreen renderer with ``extra`` between them."""
  renderer = env._offline_renderer
  if extra is None or renderer is None:
    frame = env.render()
    if frame is None:
      raise ValueError("the env renders no frames: build it with render_mode='rgb_array'")
    return frame
  renderer.update(env.sim.data, debug_vis_callback=env.update_visualizers)
  extra(renderer.renderer.scene, renderer._opt)
  return renderer.render()


class PeriodicVideoRecorder(VideoRecorder):
  """mjlab's recorder (env 0, every ``interval`` steps) with our MP4 writer."""

  def __init__(self, env: ManagerBasedRlEnv, folder: Path, interval: int, length: int):
    super().__init__(
      env,
      video_folder=folder,
      step_trigger=lambda step: step % interval == 0,
      video_length=length,
      disable_logger=True,
    )

  def _finish_recording(self) -> None:
    if self.current_video_frames and self.current_video_path is not None:
      fps = self._wrapped_env.metadata.get("render_fps", 30)
      write_video(self.current_video_path, self.current_video_frames, fps)
    self.is_recording = False
    self.current_video_frames = []
