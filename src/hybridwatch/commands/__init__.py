"""CLI commands, grouped by what they work on; each registers itself on ``hybridwatch.cli.cli``."""
