#!/usr/bin/env bash
# Isaac-Flat-G1-StGym on the GPU machine (issue 18, step 2): train, then export + evaluate.
#
#   bash exts/legged_robots_isaaclab/gpu/train_walk.sh train   # ~9 min: 4096 envs, stops at TRAIN_SECONDS
#   bash exts/legged_robots_isaaclab/gpu/train_walk.sh eval    # export the latest run, 1000-episode evaluation
#
# Two device calls (each under the 10-minute limit) on the same warm machine: the run folder
# (logs/rsl_rl/g1_flat_stgym/<timestamp>, ignored by git) stays between them. Needs Isaac Lab's
# bundle installed in $SITE_IL and mjlab's G1 MJCF at $STGYM_G1_XML (docs/isaaclab.md, "Running
# the probe": install.sh and .bundle_il/g1). Writes under $OUT: train_summary.json
# (iterations, env-steps/s), train.log.gz, export.log, exported/ (policy.onnx, deploy.yaml, robot.xml),
# check_export.log, eval.log.gz, eval.json (fall rate, xy / yaw tracking error), summary.json and
# run.tgz (run.json, params/, the tensorboard events, the last checkpoint).
set -uo pipefail

stage="${1:?usage: train_walk.sh train|eval}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
SITE_IL="${SITE_IL:-/tmp/site_il}"
export STGYM_G1_XML="${STGYM_G1_XML:-/tmp/il_g1/xmls/g1.xml}"   # .bundle_il/g1 copied to /tmp/il_g1
# 520 s + 30 s of SIGINT grace + the summary fit one 600-s device call (warm or cold)
TRAIN_SECONDS="${TRAIN_SECONDS:-520}"
NUM_ENVS="${NUM_ENVS:-4096}"
EPISODES="${EPISODES:-1000}"
OUT="${OUT:-/tmp/stgym_il_out}"
DEVICE="${DEVICE:-cuda:0}"    # cpu for a dry run (with NUM_ENVS=4 EPISODES=4 TRAIN_SECONDS=60)
PYTHON="${PYTHON:-python3}"   # the GPU machine's Python 3.12
WORKDIR="${WORKDIR:-$repo}"   # isaaclab train writes logs/ under the working directory
mkdir -p "$OUT"
for need in "$SITE_IL/isaaclab" "$STGYM_G1_XML"; do
  [ -e "$need" ] || { echo "[train_walk] error: $need is missing: install the Isaac Lab bundle first (docs/isaaclab.md)"; exit 2; }
done

# The package's isaaclab.tasks entry point without pip (the machine is offline): a dist-info that
# names it, beside the sources on PYTHONPATH. Isaac Lab's CLI imports it before the task lookup.
ep=/tmp/stgym_il_ep/legged_robots_isaaclab-0.1.0.dist-info
mkdir -p "$ep"
printf 'Metadata-Version: 2.1\nName: legged-robots-isaaclab\nVersion: 0.1.0\n' > "$ep/METADATA"
printf '[isaaclab.tasks]\nlegged_robots_isaaclab = legged_robots_isaaclab.tasks\n' > "$ep/entry_points.txt"
# Only Isaac Lab's site: mjlab's bundle (/tmp/site) pins other mujoco / warp versions.
# exts/legged_robots: st_gym's deploy runtime for check_export (it imports numpy, yaml, onnxruntime only).
export PYTHONPATH="$repo/exts/legged_robots_isaaclab:/tmp/stgym_il_ep:$SITE_IL${SITE_IL_EXTRA:+:$SITE_IL_EXTRA}:$repo/exts/legged_robots"
cd "$WORKDIR"
logs="$WORKDIR/logs/rsl_rl/g1_flat_stgym"

case "$stage" in
  train)
    # SIGINT at TRAIN_SECONDS: rsl_rl's loop stops like Ctrl-C; the checkpoints saved every 25
    # iterations stay (isaaclab train suppresses the KeyboardInterrupt and closes the env).
    timeout --signal=INT --kill-after=30 "$TRAIN_SECONDS" "$PYTHON" -m isaaclab train --rl_library rsl_rl \
      --task Isaac-Flat-G1-StGym --num_envs "$NUM_ENVS" presets=newton_mjwarp --max_iterations 3000 \
      --device "$DEVICE" agent.device="$DEVICE" agent.save_interval=25 > "$OUT/train.log" 2>&1
    echo "[train_walk] isaaclab train exit $? (124/130 = stopped at ${TRAIN_SECONDS} s, expected)"
    "$PYTHON" -m legged_robots_isaaclab.train_log "$OUT/train.log" "$NUM_ENVS" --out "$OUT/train_summary.json"
    run="$(ls -dt "$logs"/*/ 2>/dev/null | head -1)"
    echo "[train_walk] run ${run:-none}: $(ls "$run" 2>/dev/null | grep -c '^model_') checkpoints"
    grep -v "linesearch iterations" "$OUT/train.log" | tail -n 40
    # the log of a 4096-env run is larger than a device call brings back; its events file is in the run
    gzip -f "$OUT/train.log"
    ;;
  eval)
    run="$(ls -dt "$logs"/*/ 2>/dev/null | head -1)"
    [ -n "$run" ] || { echo "[train_walk] error: no run under $logs: run the train stage first"; exit 2; }
    "$PYTHON" -m legged_robots_isaaclab.export --run "$run" > "$OUT/export.log" 2>&1
    echo "[train_walk] export exit $?"; grep -v "linesearch iterations" "$OUT/export.log" | tail -n 3
    rm -rf "$OUT/exported" && cp -r "$run/exported" "$OUT/exported"
    # the deploy runtime's observation and the ONNX output against Isaac Lab's, 40 steps on the CPU
    "$PYTHON" -m legged_robots_isaaclab.check_export --run "$run" > "$OUT/check_export.log" 2>&1
    echo "[train_walk] check_export exit $?"; tail -n 1 "$OUT/check_export.log"
    "$PYTHON" -m legged_robots_isaaclab.evaluate --run "$run" --episodes "$EPISODES" --device "$DEVICE" \
      --out "$OUT/eval.json" > "$OUT/eval.log" 2>&1
    echo "[train_walk] evaluate exit $?"; grep -v "linesearch iterations" "$OUT/eval.log" | tail -n 3
    gzip -f "$OUT/eval.log"
    # one archive: a device call brings back a limited number of files
    tar -czf "$OUT/run.tgz" -C "$run" run.json params $(cd "$run" && ls | grep -E '^events' | head -1) \
      $(cd "$run" && ls model_*.pt | sort -t_ -k2 -n | tail -1)
    "$PYTHON" - "$OUT" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
parts = {name: json.loads((out / f"{name}.json").read_text()) for name in ("train_summary", "eval") if (out / f"{name}.json").is_file()}
(out / "summary.json").write_text(json.dumps(parts, indent=1) + "\n")
print(json.dumps(parts))
PY
    ;;
  *) echo "[train_walk] error: unknown stage $stage: use train or eval"; exit 2 ;;
esac
