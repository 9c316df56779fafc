"""Per-robot task configurations; importing a robot's package registers its tasks."""
