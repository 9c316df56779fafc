#!/usr/bin/env bash
# st_gym quick start. ./run.sh            -> train the default task (Flat-G1)
#                     ./run.sh test       -> everything CI runs
# Runs ./setup.sh first when .venv is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  cat <<'USAGE'
Usage: ./run.sh [MODE] [-n TASK] [-m MODE] [-r RUNNER] [-g GPUS] [-l LOAD_RUN] [-c CHECKPOINT] [-d DEVICE]
                [-e EXPERIMENT] [-h] [-- EXTRA ARGS FOR THE SCRIPT]

Modes (-m MODE, or as the first word):
  train  (default) train TASK with st_rl PPO        scripts/st_rl/train.py
  play   evaluate a trained run headless             scripts/st_rl/play.py
  sim    run an exported policy in native MuJoCo     scripts/st_rl/sim2mujoco.py
  ros2   the policy as a ROS 2 node (+ -- --with-sim: MuJoCo robot over DDS)  scripts/st_rl/ros2interface.py
         (-- --policy DIR instead of -n TASK)
  list   table of registered tasks                   scripts/list_envs.py
  study  Optuna hyperparameter study (task from the study file)  scripts/inves_train.py
         (-- --study NAME|FILE, default flat_g1_ttw; --budget-s 510 per 10-minute command; docs/study.md)
  test   lint, type check and the full test suite (what CI runs)

Options:
  -n TASK        task id (default Flat-G1; see ./run.sh list)
  -g GPUS        train on GPUS processes of this host under torchrun (st_rl or skrl; --num_envs is
                 per process); several hosts: torchrun --nnodes ... scripts/<runner>/train.py --distributed
                 (docs/multi_gpu.md)
  -r RUNNER      st_rl (default) or skrl: train/play with scripts/skrl/ (logs/skrl/), sim
                 picks the newest skrl run (docs/skrl.md)
  -l LOAD_RUN    run folder to load for play/sim/resume (-1: latest)
  -c CHECKPOINT  checkpoint iteration to load (-1: latest)
  -d DEVICE      cuda:0 or cpu (default: cuda:0 if an NVIDIA GPU works, else cpu)
  -e EXPERIMENT  experiment name (logs/st_rl/<EXPERIMENT>/...)
  -h, --help     this help (also ./run.sh help)
Anything after -- goes to the script, e.g. ./run.sh -- env.rewards.alive.weight=1.0
USAGE
}

MODE=train TASK=Flat-G1 LOAD_RUN="" CHECKPOINT="" DEVICE="" EXPERIMENT="" RUNNER=st_rl GPUS=""
for arg in "$@"; do   # --help and help as well as -h; a script's own --help comes after --
  [[ $arg == -- ]] && break
  [[ $arg == --help ]] && { usage; exit 0; }
  if [[ $arg == --* ]]; then   # legged_gym's habit: --task=... on the command line
    case ${arg%%=*} in
      --task) hint="-n TASK" ;; --device | --sim_device | --rl_device) hint="-d DEVICE" ;;
      --load_run) hint="-l LOAD_RUN" ;; --checkpoint) hint="-c CHECKPOINT" ;;
      --experiment_name) hint="-e EXPERIMENT" ;; --runner) hint="-r RUNNER" ;;
      *) hint="" ;;
    esac
    if [[ -n $hint ]]; then
      echo "run.sh: unknown option '$arg': run.sh spells it $hint (see ./run.sh -h)" >&2
    else
      echo "run.sh: unknown option '$arg' (see ./run.sh -h); the script's own options go" \
        "after --, e.g. ./run.sh -- $arg" >&2
    fi
    exit 2
  fi
done
[[ ${1:-} == help ]] && { usage; exit 0; }
if [[ $# -gt 0 && $1 != -* ]]; then MODE=$1; shift; fi
while getopts ":n:m:r:g:l:c:d:e:h" opt; do
  case $opt in
    n) TASK=$OPTARG ;;
    r) RUNNER=$OPTARG ;;
    g) GPUS=$OPTARG ;;
    m) MODE=$OPTARG ;;
    l) LOAD_RUN=$OPTARG ;;
    c) CHECKPOINT=$OPTARG ;;
    d) DEVICE=$OPTARG ;;
    e) EXPERIMENT=$OPTARG ;;
    h) usage; exit 0 ;;
    :) echo "run.sh: option -$OPTARG needs a value (see ./run.sh -h)" >&2; exit 2 ;;
    *) echo "run.sh: unknown option -$OPTARG (see ./run.sh -h)" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
EXTRA=("$@")
if [[ $RUNNER != st_rl && $RUNNER != skrl ]]; then
  echo "run.sh: unknown runner '$RUNNER' (-r st_rl or -r skrl)" >&2
  exit 2
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "[run.sh] .venv missing: running ./setup.sh first"
  ./setup.sh
fi
PY=.venv/bin/python

if [[ -z $DEVICE ]]; then
  if nvidia-smi -L >/dev/null 2>&1 && $PY -c 'import torch,sys; sys.exit(not torch.cuda.is_available())'; then
    DEVICE=cuda:0
  else
    DEVICE=cpu
  fi
fi
if [[ $DEVICE == cpu ]]; then
  export CUDA_VISIBLE_DEVICES=""
  # Headless rendering without a GPU goes through OSMesa (mjlab defaults to EGL).
  export MUJOCO_GL=${MUJOCO_GL:-osmesa} PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-osmesa}
fi

need_script() {
  if [[ ! -f $1 ]]; then
    echo "[run.sh] mode '$MODE' is not available yet: $1 does not exist in this checkout." >&2
    exit 3
  fi
}
load_args=()
[[ -n $LOAD_RUN ]] && load_args+=(--load_run "$LOAD_RUN")
[[ -n $CHECKPOINT ]] && load_args+=(--checkpoint "$CHECKPOINT")
[[ -n $EXPERIMENT ]] && load_args+=(--experiment_name "$EXPERIMENT")

case $MODE in
  train)
    need_script scripts/$RUNNER/train.py
    # -l/-c on train mean: continue that run.
    [[ -n $LOAD_RUN || -n $CHECKPOINT ]] && load_args+=(--resume)
    if [[ -n $GPUS ]]; then
      if ! [[ $GPUS =~ ^[1-9][0-9]*$ ]]; then
        echo "run.sh: -g needs a process count >= 1 (got -g '$GPUS')" >&2
        exit 2
      fi
      echo "[run.sh] training $TASK on $GPUS processes (torchrun) with $RUNNER"
      exec $PY -m torch.distributed.run --standalone --nproc_per_node "$GPUS" scripts/$RUNNER/train.py \
        --task "$TASK" --distributed --headless "${load_args[@]}" "${EXTRA[@]}"
    fi
    echo "[run.sh] training $TASK on $DEVICE with $RUNNER"
    exec $PY scripts/$RUNNER/train.py --task "$TASK" --device "$DEVICE" --headless "${load_args[@]}" "${EXTRA[@]}"
    ;;
  play)
    need_script scripts/$RUNNER/play.py
    exec $PY scripts/$RUNNER/play.py --task "$TASK" --device "$DEVICE" "${load_args[@]}" "${EXTRA[@]}"
    ;;
  sim)
    need_script scripts/st_rl/sim2mujoco.py
    exec $PY scripts/st_rl/sim2mujoco.py --task "$TASK" --log_root "logs/$RUNNER" "${load_args[@]}" "${EXTRA[@]}"
    ;;
  ros2)
    need_script scripts/st_rl/ros2interface.py
    task_args=(--task "$TASK")
    [[ " ${EXTRA[*]} " == *" --policy "* ]] && task_args=()
    exec $PY scripts/st_rl/ros2interface.py "${task_args[@]}" "${load_args[@]}" "${EXTRA[@]}"
    ;;
  list)
    exec $PY scripts/list_envs.py "${EXTRA[@]}"
    ;;
  study)
    need_script scripts/inves_train.py
    study_args=(--device "$DEVICE")
    [[ " ${EXTRA[*]} " == *" --study "* ]] || study_args+=(--study flat_g1_ttw)
    [[ -n $EXPERIMENT ]] && study_args+=(--experiment_name "$EXPERIMENT")
    exec $PY scripts/inves_train.py "${study_args[@]}" "${EXTRA[@]}"
    ;;
  test)
    export CUDA_VISIBLE_DEVICES="" MUJOCO_GL=osmesa PYOPENGL_PLATFORM=osmesa MJLAB_WARP_QUIET=1
    echo "[run.sh] ruff check"; $PY -m ruff check .
    echo "[run.sh] ruff format --check"; $PY -m ruff format --check .
    echo "[run.sh] pyright"; $PY -m pyright
    echo "[run.sh] pytest"; exec $PY -m pytest "${EXTRA[@]}"
    ;;
  *)
    echo "run.sh: unknown mode '$MODE'. Modes: train, play, sim, ros2, list, study, test (see ./run.sh -h)" >&2
    exit 2
    ;;
esac
