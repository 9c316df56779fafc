"""play prints where it is while it steps and renders (minutes on a CPU)."""

from __future__ import annotations

from legged_robots.evaluation.play import _Progress


def test_progress_line_names_step_episodes_and_video_frames(capsys):
  progress = _Progress(episodes=8, frames=300, every_s=0.0)
  progress.update(step=120, episodes=3, frames=120)
  line = capsys.readouterr().out.strip()
  assert line.startswith("[st_rl] play: step 120, 3/8 episodes, video 120/300 frames, ")
  _Progress(episodes=8, frames=300, every_s=60.0).update(step=1, episodes=0, frames=1)
  assert capsys.readouterr().out == ""  # at most one line per interval
