"""The command registry: every command is registered where it lives, its listed help is its own,
and listing the commands imports none of them (nor the heavy libraries they use)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click

from hybridwatch.cli import COMMANDS, cli


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def test_each_registered_command_lives_in_its_module_and_its_help_starts_the_same():
    for name, (module, listed) in COMMANDS.items():
        importlib.import_module(module)
        command = cli.commands.get(name)
        assert command is not None, f"{name}: not defined by {module}"
        assert command.callback.__module__ == module
        assert _words(command.help).startswith(_words(listed).rstrip(".")), name


def test_every_command_the_modules_define_is_registered():
    for module in {m for m, _ in COMMANDS.values()}:
        importlib.import_module(module)
    assert set(cli.commands) == set(COMMANDS)


def test_export_stix_resolves_lazily():
    export = cli.get_command(click.Context(cli), "export")
    stix = export.get_command(click.Context(export), "stix")
    assert stix is not None and "STIX 2.1 bundle" in stix.help


def test_help_lists_every_command_without_importing_them():
    code = ("import sys, json\n"
            "from hybridwatch.cli import main\n"
            "sys.argv = ['hybridwatch', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = ('scipy', 'ibis', 'fastapi', 'sklearn', 'duckdb', 'hybridwatch.commands.data_commands')\n"
            "print(json.dumps([m for m in heavy if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    help_text, loaded = out.stdout.rsplit("\n", 2)[0], json.loads(out.stdout.splitlines()[-1])
    assert loaded == []
    for name in COMMANDS:
        assert f"  {name} " in help_text
