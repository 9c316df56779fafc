"""train_log parses rsl_rl's console log (the format of rsl-rl-lib 5.5.1, colour codes included)."""

import pytest
from legged_robots_isaaclab import train_log

_ITER = """\x1b[1m                 Learning iteration {i}/100                 \x1b[0m
                        Collection time: {c}s
                          Learning time: {lt}s
                            Mean reward: {r}
                    Mean episode length: 43.00
"""


def test_throughput_is_batch_over_collection_time_median_after_warmup():
  times = [(30.0, 1.0), (2.0, 0.5), (1.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.0, 1.0)]
  text = "".join(_ITER.format(i=i, c=c, lt=lt, r=-1.5 + i) for i, (c, lt) in enumerate(times))
  s = train_log.summary(text, num_envs=4096, skip=1)
  # 4096 * 24 = 98304 steps; collection times after the first: 2, 1, 0.5, 1, 2 -> median 1 s
  assert s["env_steps_per_s_collection"] == 98304
  # loop times 2.5, 1.5, 1.0, 2.0, 3.0 -> median 2.0 s
  assert s["env_steps_per_s_total"] == 49152
  assert (s["iterations"], s["last_iteration"], s["last_mean_reward"]) == (6, 5, 3.5)


def test_a_log_without_iterations_is_an_error():
  with pytest.raises(ValueError, match="no complete rsl_rl iteration"):
    train_log.summary("Training time: 1 s\n", num_envs=4)
