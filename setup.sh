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

# Headless video needs an OpenGL implementation: OSMesa from Debian when there is no GPU.
if ! ldconfig -p 2>/dev/null | grep -q libOSMesa; then
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    step "installing libosmesa6 (headless rendering for play/sim videos)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libosmesa6 >/dev/null \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libosmesa6 >/dev/null; }
  else
    echo "[setup] warning: libOSMesa not found and cannot install it (needs root + apt-get)." >&2
    echo "[setup]          Training works; videos without a GPU need: sudo apt-get install libosmesa6" >&2
  fi
fi

step "checking the install"
CUDA_VISIBLE_DEVICES="" .venv/bin/python - <<'PY'
import importlib.metadata as md
for pkg in ("mjlab", "mujoco", "mujoco-warp", "rsl-rl-lib", "hydra-core", "optuna", "torch", "legged_robots", "refmotion_manager", "ros-rclpy"):
    print(f"  {pkg:18s} {md.version(pkg)}")
PY
echo "[setup] done in $(( $(date +%s) - start )) s. Next: ./run.sh (train Flat-G1) or ./run.sh test"
