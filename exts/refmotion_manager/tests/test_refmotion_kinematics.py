import mujoco
import numpy as np

from refmotion_manager import MotionClip, body_states, derivatives, quat, with_body_poses


def toy_clip(fps: float = 100.0, frames: int = 30) -> MotionClip:
  t = np.arange(frames) / fps
  root = np.stack([0.2 * t, np.zeros_like(t), np.full_like(t, 1.0)], axis=1)
  yaw = 0.5 * t
  hinge, slide = 0.8 * t, 0.05 * np.sin(t)
  return MotionClip(fps, ("hinge_y", "slide_x"), root, quat.from_yaw(yaw), np.stack([hinge, slide], axis=1))


def test_fk_matches_hand_computed_toy_positions(toy):
  clip = toy_clip()
  states = body_states(clip, toy, ("arm", "tip"))
  t = np.arange(clip.num_frames) / clip.fps
  yaw, theta, s = 0.5 * t, 0.8 * t, 0.05 * np.sin(t)
  # tip = root + Rz(yaw) [ (0.3, 0, 0) + Ry(theta) (0.5 + s, 0, 0) ],
  # Ry(theta) (x, 0, 0) = (x cos theta, 0, -x sin theta).
  local = np.stack([0.3 + (0.5 + s) * np.cos(theta), np.zeros_like(t), -(0.5 + s) * np.sin(theta)], axis=1)
  expected_tip = clip.root_pos + np.stack(
    [np.cos(yaw) * local[:, 0], np.sin(yaw) * local[:, 0], local[:, 2]], axis=1
  )
  np.testing.assert_allclose(states.pos[:, 1], expected_tip, atol=1e-12)
  expected_arm = clip.root_pos + np.stack([0.3 * np.cos(yaw), 0.3 * np.sin(yaw), np.zeros_like(t)], axis=1)
  np.testing.assert_allclose(states.pos[:, 0], expected_arm, atol=1e-12)
  # arm orientation = Rz(yaw) Ry(theta)
  expected_q = quat.multiply(
    quat.from_yaw(yaw), np.stack([np.cos(theta / 2), 0 * t, np.sin(theta / 2), 0 * t], 1)
  )
  dots = np.abs(np.sum(states.quat[:, 0] * expected_q, axis=1))
  np.testing.assert_allclose(dots, 1.0, atol=1e-12)


def test_fk_equals_mujoco_body_poses_on_g1(g1, clip):
  with_poses = with_body_poses(clip, g1)
  m, d = g1.mj_model, mujoco.MjData(g1.mj_model)
  for t in (0, 17, clip.num_frames - 1):
    d.qpos[:3], d.qpos[3:7] = clip.root_pos[t], clip.root_quat_wxyz[t]
    d.qpos[7:] = clip.joint_pos[t]  # clip columns are in MJCF order
    mujoco.mj_forward(m, d)
    np.testing.assert_allclose(with_poses.body_pos[t], d.xpos[1:], atol=1e-12)
    np.testing.assert_allclose(with_poses.body_quat[t], d.xquat[1:], atol=1e-12)


def test_body_velocities_agree_with_finite_differences(g1, make_g1_clip):
  clip = make_g1_clip(num_frames=400, fps=400.0)  # fine sampling: differences ~ derivatives
  states = body_states(clip, g1, ("pelvis", "left_ankle_roll_link", "right_wrist_yaw_link"))
  fd = derivatives.linear_velocity(states.pos, clip.dt)
  np.testing.assert_allclose(states.lin_vel[5:-5], fd[5:-5], atol=2e-3)
  fd_ang = derivatives.angular_velocity_world(states.quat, clip.dt)
  np.testing.assert_allclose(states.ang_vel[5:-5], fd_ang[5:-5], atol=2e-3)
  # The root body moves exactly like the clip's root.
  np.testing.assert_allclose(states.lin_vel[:, 0], derivatives.root_lin_vel_w(clip), atol=1e-12)
  np.testing.assert_allclose(states.ang_vel[:, 0], derivatives.root_ang_vel_w(clip), atol=1e-12)


def test_missing_joints_stay_at_reference_pose(g1, clip):
  from refmotion_manager import G1_23DOF_JOINT_NAMES, remap_joints

  small = remap_joints(clip, G1_23DOF_JOINT_NAMES)
  full = remap_joints(clip.replace(joint_pos=clip.joint_pos * 1.0), clip.joint_names)
  full.joint_pos[:, [19, 20, 21, 26, 27, 28]] = 0.0  # wrists at qpos0 = 0
  a = with_body_poses(small, g1).body_pos
  b = with_body_poses(full, g1).body_pos
  np.testing.assert_allclose(a, b, atol=1e-12)
