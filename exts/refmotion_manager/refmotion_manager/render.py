"""Headless rendering of a clip on its robot: an MP4 video or a PNG strip of frames.

Needs an offscreen OpenGL: set MUJOCO_GL=osmesa (Debian package libosmesa6) or egl
before the first mujoco rendering call. PNGs are written with zlib only; MP4s need
imageio-ffmpeg (extra `refmotion_manager[video]`).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import mujoco
import numpy as np

from refmotion_manager.clip import MotionClip
from refmotion_manager.kinematics import qpos_trajectory
from refmotion_manager.model import RobotModel


def _scene_model(model: RobotModel) -> mujoco.MjModel:
  """The robot plus a checkered floor and a light, which robot MJCFs usually lack."""
  spec = mujoco.MjSpec.from_file(str(model.path))
  tex = spec.add_texture(
    name="rm_grid",
    type=mujoco.mjtTexture.mjTEXTURE_2D,
    builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
    rgb1=[0.25, 0.3, 0.35],
    rgb2=[0.15, 0.2, 0.25],
    width=256,
    height=256,
  )
  mat = spec.add_material(name="rm_grid_mat", texrepeat=[8, 8])
  mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = tex.name
  spec.worldbody.add_geom(
    name="rm_floor",
    type=mujoco.mjtGeom.mjGEOM_PLANE,
    size=[20, 20, 0.05],
    material="rm_grid_mat",
    contype=0,
    conaffinity=0,
  )
  spec.worldbody.add_light(
    name="rm_light", pos=[0, 0, 4], dir=[0, 0, -1], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
  )
  return spec.compile()


def render_frames(
  clip: MotionClip, model: RobotModel, width: int = 480, height: int = 360, frame_stride: int = 1
) -> list[np.ndarray]:
  """RGB frames (H, W, 3) uint8 of every `frame_stride`-th clip frame, camera tracking root."""
  scene = _scene_model(model)
  qpos = qpos_trajectory(clip, model)
  data = mujoco.MjData(scene)
  camera = mujoco.MjvCamera()
  camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
  camera.trackbodyid = mujoco.mj_name2id(scene, mujoco.mjtObj.mjOBJ_BODY, model.root_body)
  camera.distance, camera.elevation, camera.azimuth = 3.0, -15.0, 135.0
  frames = []
  with mujoco.Renderer(scene, height=height, width=width) as renderer:
    for t in range(0, clip.num_frames, frame_stride):
      data.qpos[:] = qpos[t]
      mujoco.mj_forward(scene, data)
      renderer.update_scene(data, camera)
      frames.append(renderer.render().copy())
  return frames


def write_png(path: str | Path, image: np.ndarray) -> Path:
  """Minimal RGB8 PNG encoder (signature, IHDR, one IDAT, IEND)."""
  path = Path(path)
  h, w, _ = image.shape
  raw = b"".join(b"\x00" + image[row].tobytes() for row in range(h))  # filter type 0

  def chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

  header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", header)
    + chunk(b"IDAT", zlib.compress(raw, 6))
    + chunk(b"IEND", b"")
  )
  return path


def write_strip(path: str | Path, frames: list[np.ndarray], columns: int = 8) -> Path:
  """Up to `columns` evenly spaced frames side by side in one PNG."""
  picks = np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int)
  return write_png(path, np.concatenate([frames[i] for i in picks], axis=1))


def write_video(path: str | Path, frames: list[np.ndarray], fps: float) -> Path:
  try:
    import imageio_ffmpeg
  except ModuleNotFoundError as err:
    raise ModuleNotFoundError(
      "writing .mp4 needs imageio-ffmpeg: pip install 'refmotion_manager[video]', or write a .png strip"
    ) from err
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  h, w, _ = frames[0].shape
  writer = imageio_ffmpeg.write_frames(str(path), (w, h), macro_block_size=1, fps=fps)  # pyright: ignore[reportArgumentType]
  writer.send(None)  # start the generator
  for frame in frames:
    writer.send(np.ascontiguousarray(frame))
  writer.close()
  return path
