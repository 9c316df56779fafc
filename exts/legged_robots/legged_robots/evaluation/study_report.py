"""What a study leaves beside its database: ``<study_root>/<name>/``.

- ``trials.csv`` and ``report.md``: one row per trial (state, value, for time_to_walk
  whether it walked, evaluations, params, run folder); report.md adds the best trial and
  the parameter importances.
- ``best.yaml``: the best complete trial's overrides, a YAML list that
  ``train.py --params best.yaml`` applies (command-line overrides still win).
- ``history.png`` and ``importances.png``: Optuna's matplotlib plots. Importances
  (Optuna's default evaluator) need at least two complete trials; with fewer, report.md
  says so and no importances.png is written.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState

from legged_robots.evaluation.study_space import StudySpec, override_text

MIN_IMPORTANCE_TRIALS = 2
VALUE_NAMES = {"time_to_walk": "time to walk [s]", "score": "score (xy err + w x fall rate)"}


def trial_state(t: FrozenTrial) -> str:
  return "paused" if t.user_attrs.get("paused") else t.state.name.lower()


def walked(t: FrozenTrial) -> str:
  """For time_to_walk: "yes" when a complete trial walked, "no" when its value is the
  not-walking score (max_wall_s x its last distance). A session stops at the first walking
  checkpoint, and a checkpoint walks exactly when its distance is <= 1, so the last report
  tells (also for trials recorded before this column existed)."""
  if t.state != TrialState.COMPLETE or not t.intermediate_values:
    return ""
  return "yes" if t.intermediate_values[max(t.intermediate_values)] <= 1.0 else "no"


def trial_rows(study: optuna.Study, spec: StudySpec) -> list[dict[str, Any]]:
  rows = []
  for t in study.get_trials(deepcopy=False):
    steps = sorted(t.intermediate_values)
    row = {
      "trial": t.number,
      "state": trial_state(t),
      # A pruned trial's value is its last report (not the objective): shown as that.
      "value": t.value if t.state == TrialState.COMPLETE else "",
      **({"walked": walked(t)} if spec.objective == "time_to_walk" else {}),
      "evaluations": len(steps),
      "last_iteration": steps[-1] if steps else "",
      "last_report": t.intermediate_values[steps[-1]] if steps else "",
      **{p.key: t.params.get(p.key, "") for p in spec.params},
      "continues": t.user_attrs.get("continues", ""),
      "run": Path(t.user_attrs["run_dir"]).name if t.user_attrs.get("run_dir") else "",
    }
    rows.append(row)
  return rows


def _cell(value: Any) -> str:
  return f"{value:.4g}" if isinstance(value, float) else str(value)


def markdown_table(rows: list[dict[str, Any]]) -> str:
  if not rows:
    return "(no trials yet)"
  cols = list(rows[0])
  lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
  lines += ["| " + " | ".join(_cell(r[c]) for c in cols) + " |" for r in rows]
  return "\n".join(lines)


def best_overrides_yaml(study: optuna.Study, best: FrozenTrial, spec: StudySpec, path: Path) -> str:
  """best.yaml: comment lines naming the origin, then the trial's overrides (the study's
  fixed ones first), as the list that train.py --params reads."""
  header = (
    f"# Best trial {best.number} of study '{study.study_name}' ({spec.task}, {spec.objective} = "
    f"{best.value:.4g}).\n# Train with it: ./run.sh -n {spec.task} -- --params {path}\n"
  )
  searched = [override_text(k, v) for k, v in best.params.items()]
  return header + yaml.safe_dump([*spec.overrides, *searched], sort_keys=False)


def _save(ax: Any, path: Path) -> None:
  import matplotlib.pyplot as plt

  ax.figure.tight_layout()
  ax.figure.savefig(path, dpi=100)
  plt.close(ax.figure)


def write_report(study: optuna.Study, spec: StudySpec, out_dir: Path) -> Path:
  """Write the files of the module docstring into out_dir, print the table; return report.md."""
  import matplotlib

  matplotlib.use("Agg")  # headless
  from optuna.visualization import matplotlib as plots

  out_dir.mkdir(parents=True, exist_ok=True)
  rows = trial_rows(study, spec)
  if rows:
    with (out_dir / "trials.csv").open("w", newline="") as f:
      writer = csv.DictWriter(f, fieldnames=list(rows[0]))
      writer.writeheader()
      writer.writerows(rows)
  complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
  value_name = VALUE_NAMES[spec.objective]
  lines = [f"# Study {study.study_name}: {spec.task}, minimize {value_name}", "", markdown_table(rows), ""]
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    if complete:
      best = study.best_trial
      path = out_dir / "best.yaml"
      path.write_text(best_overrides_yaml(study, best, spec, path))
      lines += [f"Best: trial {best.number}, {value_name} = {best.value:.4g}; overrides in best.yaml.", ""]
      _save(plots.plot_optimization_history(study, target_name=value_name), out_dir / "history.png")
    else:
      lines += ["No complete trial yet: no best.yaml and no history.png.", ""]
    if len(complete) >= MIN_IMPORTANCE_TRIALS:
      importances = optuna.importance.get_param_importances(study)
      lines += ["## Parameter importances", "", "| parameter | importance |", "|---|---|"]
      lines += [f"| {k} | {v:.3f} |" for k, v in importances.items()]
      _save(plots.plot_param_importances(study, target_name=value_name), out_dir / "importances.png")
    else:
      lines += [
        f"Parameter importances need at least {MIN_IMPORTANCE_TRIALS} complete trials "
        f"({len(complete)} so far): no importances.png yet."
      ]
  report = out_dir / "report.md"
  report.write_text("\n".join(lines) + "\n")
  print("\n".join(lines), flush=True)
  print(f"[study] wrote {out_dir}: {', '.join(sorted(p.name for p in out_dir.iterdir()))}", flush=True)
  return report


def trial_summary_json(study: optuna.Study) -> str:
  """Counts by state, one line (the command's last line)."""
  counts: dict[str, int] = {}
  for t in study.get_trials(deepcopy=False):
    counts[trial_state(t)] = counts.get(trial_state(t), 0) + 1
  return json.dumps(counts, sort_keys=True)
