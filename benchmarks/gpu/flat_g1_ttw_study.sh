#!/usr/bin/env bash
# Issue 17 on a leased GPU machine: the Flat-G1 time-to-walk study, then its 3-seed confirmation.
#
#   bash benchmarks/gpu/flat_g1_ttw_study.sh study     # the study for the rest of the call; exit 3 = call again
#   bash benchmarks/gpu/flat_g1_ttw_study.sh confirm   # defaults vs $BEST x seeds 1-3; exit 3 = call again
#
# Each stage fits one 10-minute device call (END s from the script's start) and picks up where
# the last call stopped. On the same warm machine everything it needs stays under $WORK; a fresh
# machine starts from $CARRY (a folder of this checkout that travels with the call):
#   $CARRY/flat_g1_ttw.db     the study database (the last call's $OUT/study/flat_g1_ttw.db)
#   $CARRY/paused/<run>/      the paused trial's newest checkpoint, state.json and params/
#                             (the last call's $OUT/paused/<run>; without it the trial trains again)
#   $CARRY/confirm/<cfg>_s<seed>.json  the confirmation's finished runs (the last session's
#                             $OUT/confirm/*.json); used only for the same seed, env count and overrides
# Needs the bundle installed in $SITE, or its parts in /tmp/bundle: the Python 3.12 wheels of the
# third-party dependencies in exts/legged_robots/pyproject.toml (the offline bundle's make.sh).
# One worker: trials are timed without contention. --max-wall-min 4.5: the defaults walk in
# 3.5-5.4 min (docs/benchmarks.md); a trial slower than that cannot beat them.
set -uo pipefail
T0=$(date +%s)
stage="${1:?usage: flat_g1_ttw_study.sh study|confirm}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
SITE="${SITE:-/tmp/site}"
WORK="${WORK:-/tmp/study}"
CARRY="${CARRY:-$repo/.gpu/study_carry}"
BEST="${BEST:-$CARRY/best.yaml}"   # confirm: the study's best.yaml (a YAML list of key=value)
END="${END:-585}"
OUT="${OUT:-/tmp/flat_g1_ttw_out}"
DEVICE="${DEVICE:-cuda:0}"
SPACE="${SPACE:-flat_g1_ttw}"         # a dry run on CPU passes a tiny search-space file
STUDY_ARGS="${STUDY_ARGS:---seed 1 --max-wall-min 4.5}"
CONFIRM_ARGS="${CONFIRM_ARGS:---max-wall-min 6}"
DEFAULT_ENVS="${DEFAULT_ENVS:-8192}"        # the defaults' env count in the confirmation
CONFIRM_NEEDS_S="${CONFIRM_NEEDS_S:-400}"   # a run starts only with this much left: the defaults took 383 s (H200)
PYTHON="${PYTHON:-python3}"
case "$stage" in study|confirm) ;; *) echo "[ttw_study] error: unknown stage '$stage': use study or confirm"; exit 2;; esac
mkdir -p "$OUT" "$WORK"

if [ ! -f "$SITE/.installed" ]; then
  [ -f /tmp/bundle/install.sh ] || { echo "[ttw_study] error: no bundle in $SITE or /tmp/bundle: copy the parts first (docs/study.md)"; exit 2; }
  bash /tmp/bundle/install.sh "$SITE" > "$WORK/install.log" 2>&1 || { tail -20 "$WORK/install.log"; exit 1; }
  touch "$SITE/.installed"
fi
# Our two packages from this checkout, into their own folder: a new checkout replaces them.
# Built from a copy, so that setuptools leaves no build/ in the checkout.
rm -rf "$WORK/site_ours" "$WORK/src" && mkdir -p "$WORK/src"
cp -r "$repo/exts/refmotion_manager" "$repo/exts/legged_robots" "$WORK/src/"
"$PYTHON" -m pip install -q --no-deps --no-index --no-build-isolation --target "$WORK/site_ours" \
  "$WORK/src/refmotion_manager" "$WORK/src/legged_robots" > "$WORK/pip_ours.log" 2>&1 \
  || { tail -20 "$WORK/pip_ours.log"; exit 1; }
export PYTHONPATH="$WORK/site_ours:$SITE" PYTHONUNBUFFERED=1 MJLAB_WARP_QUIET=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
cd "$repo"
echo "[ttw_study] $stage, code $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo "$DEVICE"), ready at $(date +%T)"
left() { echo $(( END - ($(date +%s) - T0) )); }

if [ "$stage" = study ]; then
  name="$(basename "$SPACE" .yaml)"
  runs="$WORK/runs"
  if [ ! -e "$WORK/$name.db" ] && [ -f "$CARRY/$name.db" ]; then   # a fresh machine
    cp "$CARRY/$name.db" "$WORK/" && echo "[ttw_study] study database restored from $CARRY"
    for d in "$CARRY"/paused/*/; do
      [ -d "$d" ] || continue
      mkdir -p "$runs/g1_flat" && cp -r "${d%/}" "$runs/g1_flat/" && echo "[ttw_study] paused run restored: $(basename "$d")"
    done
  fi
  # shellcheck disable=SC2086
  "$PYTHON" scripts/inves_train.py --study "$SPACE" --study_root "$WORK" --log_root "$runs" \
    --device "$DEVICE" $STUDY_ARGS --budget-s "$(( $(left) - 15 ))" >> "$OUT/study.log" 2>&1
  rc=$?
  echo "[ttw_study] inves_train exit $rc at $(date +%T) (0 done, 3 call again)"
  grep -E "^\[study\]" "$OUT/study.log" | tail -25
  mkdir -p "$OUT/study"
  cp "$WORK/$name"/* "$WORK/$name.db" "$OUT/study/" 2>/dev/null
  d="$(ls -td "$runs"/g1_flat/*_study-"$name"-trial* 2>/dev/null | head -1)"
  if [ "$rc" = 3 ] && [ -n "$d" ]; then   # the paused trial, for a fresh machine
    mkdir -p "$OUT/paused/$(basename "$d")"
    cp -r "$d/state.json" "$d/params" "$(ls -v "$d"/model_*.pt | tail -1)" "$OUT/paused/$(basename "$d")/" \
      && echo "[ttw_study] paused run saved under \$OUT/paused: $(basename "$d")"
  fi
  exit $rc
fi

# confirm: the benchmark's time to walk, defaults ($DEFAULT_ENVS envs) against $BEST, seeds 1-3, each run in
# one call (no second setup counted); a run with a verdict in its results.json is not run again.
[ -f "$BEST" ] || { echo "[ttw_study] error: $BEST is missing: put the study's best.yaml there"; exit 2; }
if [ ! -f "$WORK/ttw/warm" ]; then   # compile Warp's kernels outside every timed run
  mkdir -p "$WORK/ttw"
  "$PYTHON" benchmarks/throughput.py --tasks Flat-G1 --num_envs 64 --device "$DEVICE" --iters 1 > "$WORK/ttw/warm.log" 2>&1 \
    || { tail -20 "$WORK/ttw/warm.log"; exit 1; }
  touch "$WORK/ttw/warm" && echo "[ttw_study] kernels warmed at $(date +%T)"
fi
# best.yaml's env count goes to --num_envs (the benchmark records it there); the rest as overrides
mapfile -t best < <(sed -n 's/^- //p' "$BEST" | grep -v '^env\.scene\.num_envs=')
best_envs="$(sed -n 's/^- env\.scene\.num_envs=//p' "$BEST")"
mkdir -p "$OUT/confirm"
todo=0
for seed in 1 2 3; do
  for cfg in default best; do
    d="$WORK/ttw/${cfg}_s$seed"
    if [ "$cfg" = default ]; then extra=(--num_envs "$DEFAULT_ENVS"); else extra=(--num_envs "${best_envs:-$DEFAULT_ENVS}" "${best[@]}"); fi
    carried="$CARRY/confirm/${cfg}_s$seed.json"
    if [ ! -f "$d/results.json" ] && [ -f "$carried" ]; then   # a fresh machine: an earlier session's verdict
      # Only what this script varies is compared (seed, env count, overrides): device and
      # limits are the script's own. A file that is no results.json: one message, exit 2.
      "$PYTHON" - "$carried" "$d" "$seed" "${extra[@]}" <<'PY' || exit $?
import json, sys
from pathlib import Path

carried, run_dir, seed, _, envs, *overrides = sys.argv[1:]
try:
  results = json.loads(Path(carried).read_text())
  s = results["settings"]
  carried_settings = (s["seed"], s["num_envs"], list(s["overrides"]))
  results["status"]
except (OSError, ValueError, KeyError, TypeError) as e:
  print(f"[ttw_study] error: {carried} is not a time_to_walk results.json ({type(e).__name__}: {e}); "
        "remove it, or copy it again from docs/study_runs/flat_g1_ttw/confirm/")
  sys.exit(2)
if carried_settings != (int(seed), int(envs), overrides):
  print(f"[ttw_study] {carried} is for other settings (seed, envs or overrides): run again")
elif results["status"] in ("walked", "not_walking"):
  Path(run_dir).mkdir(parents=True, exist_ok=True)
  (Path(run_dir) / "results.json").write_text(json.dumps(results, indent=2) + "\n")
  print(f"[ttw_study] {Path(run_dir).name}: {results['status']} restored from {carried}")
PY
    fi
    if [ -f "$d/results.json" ] && grep -q '"status": "\(walked\|not_walking\)"' "$d/results.json"; then
      cp "$d/results.json" "$OUT/confirm/${cfg}_s$seed.json"; continue
    fi
    if [ "$(left)" -lt "$CONFIRM_NEEDS_S" ]; then todo=1; continue; fi
    # shellcheck disable=SC2086
    "$PYTHON" benchmarks/time_to_walk.py --task Flat-G1 --run-dir "$d" --seed "$seed" --device "$DEVICE" \
      $CONFIRM_ARGS --budget-s "$(( $(left) - 15 ))" "${extra[@]}" > "$OUT/confirm/${cfg}_s$seed.log" 2>&1
    echo "[ttw_study] ${cfg}_s$seed exit $? at $(date +%T)"; grep "^\[" "$OUT/confirm/${cfg}_s$seed.log" | tail -3
    cp "$d/results.json" "$OUT/confirm/${cfg}_s$seed.json" 2>/dev/null
    grep -q '"status": "\(walked\|not_walking\)"' "$d/results.json" 2>/dev/null || todo=1
  done
done
echo "[ttw_study] confirm: $(ls "$OUT"/confirm/*.json 2>/dev/null | wc -l) of 6 runs have results$([ $todo = 1 ] && echo '; call again')"
[ $todo = 0 ] || exit 3
