"""Errors of the deploy runtime; each message names the problem and the fix.

Command-line tools map them to exit codes: bad input (``DeployError`` and its
subclasses other than ``NonFiniteActionError``) is 2, a policy that emits NaN/inf is 1.
"""

from __future__ import annotations


class DeployError(Exception):
  """Base class: the exported folder, the MJCF or the robot state cannot be used as given."""


class MissingFileError(DeployError):
  """A file the runtime needs (deploy.yaml, policy.onnx, the MJCF) does not exist."""


class PolicyMismatchError(DeployError):
  """The ONNX graph, the contract and the robot model disagree (sizes, names, joints)."""


class NonFiniteActionError(DeployError):
  """The policy returned NaN or inf at run time."""
