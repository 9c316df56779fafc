"""st_gym's config names that are spelled, split or placed differently here.

The feature specification (st_gym's overview, tables 3.2-3.8) names terms and parameters
as st_gym's ``rough_env_cfg.py``, ``amp_mimic_cfg.py`` and ``st_rl_ppo_cfg.py`` do. Most
exist here under the same key (``env.rewards.feet_stumble``, ``agent.algorithm.clip_param``);
the ones below do not. An override that uses one of these keys fails as any unknown key does,
and the message adds where the thing lives here (``rl.overrides``); docs/tasks.md lists them
("From st_gym's names"). Each entry names keys that exist in a registered task; a test
resolves every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Renamed:
  here: tuple[str, ...]
  """Keys of the composed config (``env.`` / ``agent.``) that hold it here; none where
  the task itself is the setting (using_21_joint: the -23DoF tasks)."""
  task: str
  """A registered task in which every key of ``here`` exists."""
  note: str
  """One line: what differs, and how to set it."""


_DEVIATION = (
  "one joint_deviation term weights every group (one batched term instead of five); this "
  "group's factor of its weight is env.rewards.joint_deviation.params.weights.{0}"
)
_SCHEDULE = "the reward-weight schedule of {0} is env.curriculum.{0}_schedule"

ST_GYM_NAMES: dict[str, Renamed] = {
  # table 3.4: rewards
  **{
    f"env.rewards.joint_deviation_{group}": Renamed(
      (f"env.rewards.joint_deviation.params.weights.{group}",), "Flat-G1", _DEVIATION.format(group)
    )
    for group in ("hip", "feet", "arms", "wrist", "torso")
  },
  "env.rewards.feet_parallel_v1": Renamed(
    ("env.rewards.feet_parallel",), "Flat-G1", "it is env.rewards.feet_parallel"
  ),
  "env.rewards.action_smooothness_2": Renamed(
    ("env.rewards.action_smoothness_2",), "Flat-G1", "spelled env.rewards.action_smoothness_2 (two o's)"
  ),
  "env.rewards.track_style_goal_exp": Renamed(
    ("agent.amp.style_reward_coef", "agent.amp.task_reward_lerp"),
    "Amp-Flat-G1",
    "the AMP style reward is mixed in by the AMP-PPO runner, not an env term: "
    "agent.amp.style_reward_coef and agent.amp.task_reward_lerp (docs/amp.md)",
  ),
  "env.rewards.track_root_quat_exp": Renamed(
    ("env.rewards.track_root_rotation_exp", "env.rewards.track_link_quat_exp"),
    "Tracking-Flat-G1",
    "st_gym weights it 0, so Tracking-Flat-G1 leaves it out (the term function is "
    "tasks.mdp.mimic.track_root_quat_exp); root and link orientation are tracked by "
    "track_root_rotation_exp and track_link_quat_exp",
  ),
  # table 3.3: curriculum (st_gym names a schedule after its reward)
  **{
    f"env.curriculum.{name}": Renamed(
      (f"env.curriculum.{ours}_schedule",), "Rough-G1", _SCHEDULE.format(ours)
    )
    for name, ours in (
      ("alive_rew", "alive"),
      ("action_rate_l2", "action_rate_l2"),
      ("action_smooothness_2", "action_smoothness_2"),
      ("dof_torques_l2", "dof_torques_l2"),
      ("dof_acc_l2", "dof_acc_l2"),
      ("contact_forces", "contact_forces"),
    )
  },
  # table 3.2: events
  "env.events.randomize_joint_parameters": Renamed(
    (
      "env.events.randomize_joint_friction",
      "env.events.randomize_joint_armature",
      "env.events.randomize_joint_limits",
    ),
    "Flat-G1",
    "one event per parameter: randomize_joint_friction, randomize_joint_armature, randomize_joint_limits",
  ),
  # table 3.6: commands
  "env.commands.expressive_goal_commands": Renamed(
    ("env.commands.motion",),
    "Mimic-Flat-G1",
    "the mimic goals come from env.commands.motion (joints in its joint_names; docs/mimic.md)",
  ),
  "env.commands.style_goal_commands": Renamed(
    ("env.observations.amp",),
    "Amp-Flat-G1",
    "AMP here has no style goal command (st_gym's style_goal_fields defaults to None); "
    "the style features are the observation group env.observations.amp",
  ),
  # table 3.7: terminations
  "env.terminations.tracking_root_pos_error": Renamed(
    ("env.terminations.root_height_error", "env.terminations.root_rotation_error"),
    "Tracking-Flat-G1",
    "optional in st_gym; Tracking-Flat-G1 ends episodes on BeyondMimic's root height and "
    "rotation errors instead (plus the adaptive tracking_{upper,lower}_dof_error)",
  ),
  # table 3.8: amp_mimic_cfg.py
  "env.num_envs": Renamed(("env.scene.num_envs",), "Flat-G1", "it is env.scene.num_envs (or --num_envs)"),
  "env.using_21_joint": Renamed(
    (),  # a choice of task, not a key
    "Flat-G1-23DoF",
    "pick the task instead: Flat-G1-23DoF / Rough-G1-23DoF (wrists locked) or the 29-DoF Flat-G1",
  ),
  "env.motion_files": Renamed(("env.motion.files",), "Amp-Flat-G1", "it is env.motion.files (a list)"),
  "env.random_start": Renamed(
    ("env.commands.motion.random_start",), "Mimic-Flat-G1", "it is env.commands.motion.random_start"
  ),
  "env.amp_obs_frame_num": Renamed(
    ("env.observations.amp.terms.style.history_length",),
    "Amp-Flat-G1",
    "it is the history length of the amp group's style term",
  ),
  "env.style_fields": Renamed(
    ("env.observations.amp.terms.style",),
    "Amp-Flat-G1",
    "the style features are the amp group's style term (amp_style_features; docs/amp.md)",
  ),
  "env.style_reward_coef": Renamed(
    ("agent.amp.style_reward_coef",), "Amp-Flat-G1", "it is agent.amp.style_reward_coef"
  ),
  "env.expressive_goal_fields": Renamed(
    ("env.commands.motion.joint_names", "env.motion.body_names"),
    "Tracking-Flat-G1",
    "the mimicked joints are env.commands.motion.joint_names, the tracked links env.motion.body_names",
  ),
  "env.specify_init_values": Renamed(
    ("env.scene.entities.robot.init_state.joint_pos",),
    "Flat-G1",
    "the initial joint positions are env.scene.entities.robot.init_state.joint_pos",
  ),
  # table 3.8: st_rl_ppo_cfg.py (rsl_rl 5's layout)
  "agent.actor_hidden_dims": Renamed(
    ("agent.actor.hidden_dims",), "Flat-G1", "it is agent.actor.hidden_dims"
  ),
  "agent.critic_hidden_dims": Renamed(
    ("agent.critic.hidden_dims",), "Flat-G1", "it is agent.critic.hidden_dims"
  ),
  "agent.activation": Renamed(
    ("agent.actor.activation", "agent.critic.activation"),
    "Flat-G1",
    "set agent.actor.activation and agent.critic.activation",
  ),
  "agent.rnn_type": Renamed(
    ("agent.actor.rnn_type",), "Flat-G1", "use the LSTM agent variant: agent=st_rl_ppo_lstm (docs/st_rl.md)"
  ),
  "agent.algorithm_name": Renamed(
    ("agent.algorithm.class_name",), "Flat-G1", "it is agent.algorithm.class_name"
  ),
  "agent.policy_name": Renamed(
    ("agent.actor.class_name",), "Flat-G1", "rsl_rl 5 builds actor and critic apart: agent.actor.class_name"
  ),
  "agent.runner_name": Renamed(
    ("agent.class_name",), "Amp-Flat-G1", "the runner follows the task (AMP tasks use the AMP-PPO runner)"
  ),
}


def st_gym_hint(key: str) -> str:
  """'' or, for one of st_gym's keys above, "; st_gym's <key>: <where it lives here>"."""
  renamed = ST_GYM_NAMES.get(key)
  return f"; st_gym's {key}: {renamed.note}" if renamed else ""
