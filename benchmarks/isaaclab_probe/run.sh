#!/usr/bin/env bash
# Run the Isaac Lab 3 probe (issue 18) on the GPU machine once the offline bundle is installed
# into /tmp/site_il (bash /tmp/bundle/install.sh /tmp/site_il). Only /tmp/site_il goes on
# PYTHONPATH: the main bundle's /tmp/site pins mjlab's mujoco / mujoco-warp / warp, other
# versions than Isaac Lab's. The G1 MJCF is read by path: the copy carried with the bundle
# (/tmp/il_g1), else the main bundle's mjlab. Logs, <stage>.json and summary.json go to $OUT.
# usage: bash benchmarks/isaaclab_probe/run.sh [probe.py options, e.g. --stages g1_env,g1_newton]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ -n "${OUT:-}" ] || { echo "error: set OUT to the folder for logs and summary.json" >&2; exit 2; }
export PYTHONPATH="${SITE_IL:-/tmp/site_il}"
if [ -z "${G1_XML:-}" ]; then
  G1_XML=/tmp/il_g1/xmls/g1.xml
  [ -f "$G1_XML" ] || G1_XML=/tmp/site/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml
fi
export G1_XML PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1
# the probe starts no Kit app; this only keeps a Kit import, should one happen, from waiting on the EULA
export OMNI_KIT_ACCEPT_EULA=YES
exec python3 "$here/probe.py" --out "$OUT" "$@"
