#!/usr/bin/env bash
# st_gym setup: creates .venv and installs st_gym with its pinned dependencies.
# Idempotent: a second run only checks what is there. Usage: ./setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
start=$(date +%s)
step() { printf '\n[setup] %s\n' "$*"; }

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "[setup] error: st_gym needs Python >= 3.11; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  echo "[setup] fix: install Python 3.11+ and run PYTHON=/path/to/python3.11 ./setup.sh" >&2
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  step "creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
else
  step ".venv exists ($(.venv/bin/python --version)); reusing it"
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip setuptools wheel

# Torch first, so that nothing later pulls a different (multi-GB CUDA) build.
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if nvidia-smi -L >/dev/null 2>&1; then
  step "NVIDIA GPU found: installing torch==$TORCH_VERSION (default CUDA build)"
else
  step "no NVIDIA GPU: installing torch==$TORCH_VERSION (the CPU build where a local wheel exists)"
fi
if ! .venv/bin/python -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
  "${PIP[@]}" install -q "torch==$TORCH_VERSION"
fi
installed_torch=$(.venv/bin/python -c 'import torch; print(torch.__version__)')
echo "[setup] torch $installed_torch (CUDA: $(.venv/bin/python -c 'import torch; print(torch.version.cuda)'))"

# Every later install is constrained to this exact torch.
mkdir -p .venv/st_gym
echo "torch==$installed_torch" > .venv/st_gym/constraints.txt
step "installing st_gym packages (editable) and pinned dependencies, ROS 2 (rclpy, Kilted wheels) included"
"${PIP[@]}" install -q -c .venv/st_gym/constraints.txt \
  -e "exts/refmotion_manager[stgym,video]" -e "exts/legged_robots[ros2]" -e ".[dev]"

# Debian packages, installed when root and apt-get are here (else a warning naming the command).
debian_package() {  # debian_package PACKAGE "what it is for"
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    step "installing $1 ($2)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null; }
  else
    echo "[setup] warning: $1 is missing and needs root + apt-get: sudo apt-get install $1 ($2)" >&2
  fi
}
# Headless video needs an OpenGL implementation: OSMesa when there is no GPU (training works without).
ldconfig -p 2>/dev/null | grep -q libOSMesa || debian_package libosmesa6 "headless rendering for play/sim videos"
# The study tests start a throwaway PostgreSQL server (studies shared across machines).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || debian_package postgresql "the tests of studies on PostgreSQL"

step "checking the install"
CUDA_VISIBLE_DEVICES="" .venv/bin/python - <<'PY'
import importlib.metadata as md
for pkg in ("mjlab", "mujoco", "mujoco-warp", "rsl-rl-lib", "hydra-core", "optuna", "torch", "legged_robots", "refmotion_manager", "ros-rclpy"):
    print(f"  {pkg:18s} {md.version(pkg)}")
PY
echo "[setup] done in $(( $(date +%s) - start )) s. Next: ./run.sh (train Flat-G1) or ./run.sh test"
