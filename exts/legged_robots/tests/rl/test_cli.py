"""The shared command-line plumbing: Warp's quiet setting and the per-library help texts."""

from __future__ import annotations

import pytest
import warp

from legged_robots.rl.cli import add_play_flags, add_train_flags, quiet_warp, script_parser


@pytest.mark.parametrize(
  ("value", "level"), [("1", warp.LOG_WARNING), ("true", warp.LOG_WARNING), ("0", warp.LOG_INFO)]
)
def test_quiet_warp_follows_mjlab_warp_quiet(monkeypatch, value, level):
  monkeypatch.setattr(warp.config, "log_level", warp.LOG_INFO)  # Warp's default, restored after
  monkeypatch.setenv("MJLAB_WARP_QUIET", value)
  quiet_warp()
  assert warp.config.log_level == level


def test_quiet_warp_keeps_the_module_load_lines_out(monkeypatch, capfd):
  """The lines themselves: a kernel module loaded under quiet_warp prints nothing."""
  monkeypatch.setattr(warp.config, "log_level", warp.LOG_INFO)
  monkeypatch.setenv("MJLAB_WARP_QUIET", "1")
  quiet_warp()

  @warp.kernel(module="unique")
  def add_one(a: warp.array(dtype=float)):  # pyright: ignore[reportInvalidTypeForm] (Warp's annotation)
    a[warp.tid()] += 1.0

  array = warp.zeros(3, dtype=float, device="cpu")
  warp.launch(add_one, dim=3, inputs=[array], device="cpu")
  assert array.numpy().tolist() == [1.0, 1.0, 1.0]
  out = capfd.readouterr().out
  assert "Module " not in out and "Warp " not in out, out


SKRL_TRAIN = ["logs/skrl/<experiment_name>/", "(default logs/skrl)", "agent=skrl_ppo_lstm"]
ST_RL_TRAIN = ["logs/st_rl/<experiment_name>/", "(default logs/st_rl)", "agent=st_rl_ppo_lstm"]


@pytest.mark.parametrize(
  ("library", "add_flags", "expected", "foreign"),
  [
    ("skrl", add_train_flags, [*SKRL_TRAIN, "agent.agent.learning_rate=1e-4,3e-4"], ["st_rl"]),
    ("skrl", add_play_flags, ["(default logs/skrl)", "agent=skrl_ppo_lstm"], ["st_rl"]),
    (
      "st_rl",
      add_train_flags,
      [*ST_RL_TRAIN, "agent.algorithm.learning_rate=3e-4"],
      ["logs/skrl", "skrl_ppo"],
    ),
  ],
)
def test_help_names_the_library_s_log_root_and_agents(library, add_flags, expected, foreign):
  text = " ".join(script_parser(None, add_flags, library).format_help().split())  # unwrapped
  assert [e for e in expected if e not in text] == [], text
  assert [f for f in foreign if f in text] == [], text
