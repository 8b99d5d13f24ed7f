"""CLI commands, grouped by what they work on. Each module registers its commands on
``hybridwatch.commands.base.cli``; ``hybridwatch.cli.COMMANDS`` names which module holds which."""
