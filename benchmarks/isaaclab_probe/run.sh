#!/usr/bin/env bash
# Run the Isaac Lab 3 probe (issue 18) on the GPU machine after the offline bundle is installed
# into /tmp/site_il (bash /tmp/bundle/install.sh /tmp/site_il). Only /tmp/site_il goes on
# PYTHONPATH: the main bundle's /tmp/site pins other mujoco / mujoco-warp / warp versions (mjlab's),
# and it is read only for mjlab's G1 MJCF, by path. Logs and summary.json go to $OUT.
# usage: bash benchmarks/isaaclab_probe/run.sh [probe.py options, e.g. --stages install,g1_env]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${OUT:?set OUT to the folder for logs and summary.json}"
export PYTHONPATH="${SITE_IL:-/tmp/site_il}"
export G1_XML="${G1_XML:-/tmp/site/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml}"
export PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1
# the probe asks for no Kit app; this only keeps a Kit import, should one happen, from waiting on the EULA
export OMNI_KIT_ACCEPT_EULA=YES
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/nvidia-smi.csv" 2>&1 || true
exec python3 "$here/probe.py" --out "$OUT" "$@"
