import numpy as np

from refmotion_manager import quat

S = np.sqrt(0.5)


def test_slerp_halfway_between_identity_and_quarter_turn_is_eighth_turn():
  q0 = np.array([1.0, 0.0, 0.0, 0.0])
  q1 = np.array([S, 0.0, 0.0, S])  # 90 deg about z
  expected = np.array([np.cos(np.pi / 8), 0.0, 0.0, np.sin(np.pi / 8)])
  np.testing.assert_allclose(quat.slerp(q0, q1, 0.5), expected, atol=1e-12)


def test_slerp_takes_the_short_arc_for_opposite_sign_quaternions():
  q0 = np.array([1.0, 0.0, 0.0, 0.0])
  q1 = -np.array([S, 0.0, 0.0, S])
  out = quat.slerp(q0, q1, 0.5)
  np.testing.assert_allclose(np.abs(out), [np.cos(np.pi / 8), 0, 0, np.sin(np.pi / 8)], atol=1e-12)


def test_rotate_quarter_turn_about_z_maps_x_to_y():
  np.testing.assert_allclose(
    quat.rotate(np.array([S, 0, 0, S]), np.array([1.0, 0, 0])), [0, 1, 0], atol=1e-12
  )
  np.testing.assert_allclose(
    quat.rotate_inverse(np.array([S, 0, 0, S]), np.array([0, 1.0, 0])), [1, 0, 0], atol=1e-12
  )


def test_axis_angle_round_trip_and_value():
  rotvec = np.array([[0.0, 0.0, np.pi / 2], [0.3, -0.2, 0.1], [0.0, 0.0, 0.0]])
  q = quat.from_axis_angle(rotvec)
  np.testing.assert_allclose(q[0], [S, 0, 0, S], atol=1e-12)
  np.testing.assert_allclose(quat.to_axis_angle(q), rotvec, atol=1e-12)


def test_euler_and_yaw():
  q = quat.from_euler_xyz(0.0, 0.0, 0.7)
  np.testing.assert_allclose(q, quat.from_yaw(0.7), atol=1e-15)
  assert np.isclose(quat.yaw_of(quat.from_euler_xyz(0.1, 0.2, 0.7)), 0.7)


def test_xyzw_wxyz_conversion():
  q = np.array([1.0, 2.0, 3.0, 4.0])
  np.testing.assert_array_equal(quat.xyzw_to_wxyz(q), [4.0, 1.0, 2.0, 3.0])
  np.testing.assert_array_equal(quat.wxyz_to_xyzw(quat.xyzw_to_wxyz(q)), q)


def test_torch_multiply_and_rotate_match_the_numpy_versions():
  import torch

  from refmotion_manager import quat, torch_quat

  rng = np.random.default_rng(0)
  a, b = (q / np.linalg.norm(q, axis=-1, keepdims=True) for q in rng.normal(size=(2, 5, 4)))
  v = rng.normal(size=(5, 3))
  ta, tb, tv = (torch.tensor(x) for x in (a, b, v))
  np.testing.assert_allclose(torch_quat.multiply(ta, tb).numpy(), quat.multiply(a, b), atol=1e-12)
  np.testing.assert_allclose(torch_quat.rotate(ta, tv).numpy(), quat.rotate(a, v), atol=1e-12)
  # A quarter turn about z maps x to y, and back through rotate_inverse.
  qz = torch.tensor([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)], dtype=torch.float64)
  x = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
  torch.testing.assert_close(torch_quat.rotate(qz, x), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
  torch.testing.assert_close(torch_quat.rotate_inverse(qz, torch_quat.rotate(qz, x)), x)
