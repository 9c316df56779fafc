"""Batched quaternion math in torch, (w, x, y, z) on the last axis."""

from __future__ import annotations

import torch

_SMALL = 1e-6


def rotate_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
  """R(q)^T v: world vectors expressed in the frame of q."""
  w, u = q[..., :1], -q[..., 1:]
  t = 2.0 * torch.linalg.cross(u, v, dim=-1)
  return v + w * t + torch.linalg.cross(u, t, dim=-1)


def rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
  """R(q) v: vectors of the frame of q expressed in the world."""
  w, u = q[..., :1], q[..., 1:]
  t = 2.0 * torch.linalg.cross(u, v, dim=-1)
  return v + w * t + torch.linalg.cross(u, t, dim=-1)


def multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
  """Hamilton product a * b (apply b first, then a); the torch twin of ``quat.multiply``."""
  aw, ax, ay, az = a.unbind(-1)
  bw, bx, by, bz = b.unbind(-1)
  return torch.stack(
    [
      aw * bw - ax * bx - ay * by - az * bz,
      aw * bx + ax * bw + ay * bz - az * by,
      aw * by - ax * bz + ay * bw + az * bx,
      aw * bz + ax * by - ay * bx + az * bw,
    ],
    dim=-1,
  )


def slerp(q0: torch.Tensor, q1: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
  """Shortest-arc slerp; alpha has q's shape without the last axis. alpha == 0 (1) returns
  q0 (q1) bit for bit, so sampling at a frame time reproduces the stored frame exactly."""
  a = alpha.unsqueeze(-1)
  q1_given = q1
  dot = (q0 * q1).sum(-1, keepdim=True)
  q1 = torch.where(dot < 0.0, -q1, q1)
  dot = dot.abs().clamp(max=1.0)
  theta = torch.acos(dot)
  sin_theta = torch.sin(theta)
  small = sin_theta < _SMALL
  safe = torch.where(small, torch.ones_like(sin_theta), sin_theta)
  s0 = torch.where(small, 1.0 - a, torch.sin((1.0 - a) * theta) / safe)
  s1 = torch.where(small, a, torch.sin(a * theta) / safe)
  out = s0 * q0 + s1 * q1
  out = out / out.norm(dim=-1, keepdim=True)
  return torch.where(a == 0.0, q0, torch.where(a == 1.0, q1_given, out))
