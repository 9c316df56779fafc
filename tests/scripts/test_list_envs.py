"""./run.sh list answers from a cache without importing mjlab; sizes only with --sizes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _list(cache: Path, *args: str, no_mjlab: Path | None = None) -> subprocess.CompletedProcess:
  env = {**os.environ, "XDG_CACHE_HOME": str(cache), "CUDA_VISIBLE_DEVICES": "", "MJLAB_WARP_QUIET": "1"}
  if no_mjlab is not None:  # an mjlab that cannot be imported: the answer must come from the cache
    env["PYTHONPATH"] = os.pathsep.join([str(no_mjlab), env.get("PYTHONPATH", "")])
  cmd = [sys.executable, str(ROOT / "scripts" / "list_envs.py"), *args]
  return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_list_is_cached_and_sizes_come_on_request(tmp_path):
  broken = tmp_path / "broken"
  (broken / "mjlab").mkdir(parents=True)
  (broken / "mjlab" / "__init__.py").write_text("raise ImportError('the cached listing imported mjlab')\n")
  cache = tmp_path / "cache"

  first = _list(cache, "--keyword", "Flat-Go1")
  assert first.returncode == 0, first.stderr[-2000:]
  assert "building" not in first.stderr and "--sizes" in first.stderr  # no env was built
  row = next(line for line in first.stdout.splitlines() if "| Flat-Go1 " in line)
  assert [c.strip() for c in row.split("|")[4:7]] == ["-", "-", "-"]

  cached = _list(cache, no_mjlab=broken)
  assert cached.returncode == 0, cached.stderr[-2000:]
  assert "| Flat-G1 " in cached.stdout and "| Rough-Go1 " in cached.stdout

  sized = _list(cache, "--keyword", "Flat-Go1", "--sizes")
  assert sized.returncode == 0 and sized.stderr.count("building") == 2, sized.stderr[-2000:]
  again = _list(cache, "--keyword", "flat-go1", no_mjlab=broken)
  row = next(line for line in again.stdout.splitlines() if "| Flat-Go1 " in line)
  assert [c.strip() for c in row.split("|")[4:7]][0::2] == ["45", "12"]  # actor obs, actions

  nothing = _list(cache, "--keyword", "Hexapod", no_mjlab=broken)
  assert nothing.returncode == 2 and "No task id contains 'Hexapod'" in nothing.stderr
