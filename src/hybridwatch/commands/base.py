"""What every command shares: the root group, exit codes, ``--db``/``--json`` and output helpers.

Commands are thin: they open the store and call the library.

Data goes to stdout (``--json``: exactly one JSON object); progress and summaries to stderr.
Exit codes: 0 ok · 1 unexpected error (a bug: rerun with --debug) · 2 usage error (bad option,
selector or filter) · 3 input error (a file could not be ingested; other files still were) ·
4 store error (cannot open, in use, not a hybridwatch store).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from hybridwatch import __version__
from hybridwatch.errors import (
    HybridwatchError, InputError, MappingError, SelectorError, StoreError, StoreInUseError,
    VerificationError,
)

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INPUT, EXIT_STORE, EXIT_VERIFY = 0, 1, 2, 3, 4, 5
#: `watch run`: alerts recorded, but at least one webhook delivery failed (retried next run)
EXIT_DELIVERY = 6


def _exit_code(error: HybridwatchError) -> int:
    if isinstance(error, (SelectorError, MappingError)):
        return EXIT_USAGE
    if isinstance(error, StoreError):
        return EXIT_STORE
    if isinstance(error, VerificationError):
        return EXIT_VERIFY
    if isinstance(error, InputError):
        return EXIT_INPUT
    return EXIT_BUG


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(payload: dict[str, Any]) -> None:
    """Exactly one strict JSON object on stdout: NaN and infinity become null, never ``NaN``."""
    from hybridwatch.model.json_values import json_value  # numpy: keep `--help` light

    click.echo(json.dumps(json_value(payload), default=_json_default, ensure_ascii=False,
                          allow_nan=False))


#: Set by the ``--quiet`` every command accepts (see ``accept_quiet``): ``say`` and progress
#: bars stay silent for the rest of the command.
_QUIET: ContextVar[bool] = ContextVar("hybridwatch_quiet", default=False)


def quiet_requested() -> bool:
    """Whether the running command was given ``--quiet``."""
    return _QUIET.get()


def say(message: str, *, quiet: bool = False, err: bool = True, fg: str | None = None) -> None:
    """A human line on stderr, unless ``quiet`` or the command was given ``--quiet``."""
    if not (quiet or _QUIET.get()):
        click.secho(message, err=err, fg=fg)


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        _QUIET.set(True)
    return value


def accept_quiet(command: click.Command) -> click.Command:
    """Give ``command`` (and every subcommand of a group) a ``--quiet`` flag if it has none:
    it silences ``say`` and progress (data on stdout and errors are still printed). A command
    with its own ``--quiet`` also sets the flag, so every ``say`` it calls obeys it."""
    own = next((p for p in command.params if isinstance(p, click.Option)
                and "--quiet" in p.opts), None)
    if own is None:
        taken = {o for p in command.params for o in getattr(p, "opts", ())}
        names = ["--quiet"] + (["-q"] if "-q" not in taken else [])
        command.params.append(click.Option(
            names, is_flag=True, expose_value=False, callback=_set_quiet,
            help="No progress or summary on stderr (data and errors still print)."))
    elif own.callback is None:
        own.callback = _set_quiet
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_quiet(sub)
    return command


def db_option(func: Callable) -> Callable:
    """``--db PATH`` (or $HYBRIDWATCH_DB), the store every command works on: a DuckDB file, or
    a folder holding a Parquet lake (``store.lake``)."""
    return click.option("--db", "db", type=click.Path(path_type=Path),
                        envvar="HYBRIDWATCH_DB", default=Path("hybridwatch.duckdb"),
                        show_default=True, help="DuckDB store file, or a Parquet lake folder "
                        "(the layout `export --parquet` writes) (env HYBRIDWATCH_DB).")(func)


def day_option(option: str, text: str | None) -> date | None:
    """A ``--since``/``--until`` value as a UTC day (``SelectorError`` naming the option)."""
    from hybridwatch.store.event_filter import parse_bound

    bound = parse_bound(option, text)
    return bound.date() if bound else None


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON object on stdout.")(func)


class LazyGroup(click.Group):
    """A group whose commands live in modules imported only when the command runs.

    ``lazy`` maps a command name to (module, one-line help); importing the module registers the
    command on this group (``@cli.command()``), so ``--help`` lists every command without
    importing any of them (and none of scipy, ibis or the web stack).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}

    def register_lazy(self, commands: dict[str, tuple[str, str]]) -> None:
        self.lazy.update(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            importlib.import_module(self.lazy[name][0])
        command = self.commands.get(name)
        return accept_quiet(command) if command is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.commands[name].get_short_help_str(limit=formatter.width - 20)
                 if name in self.commands else self.lazy[name][1])
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Group(LazyGroup):
    """Turns hybridwatch errors into one red line and an exit code; tracebacks with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        quiet = _QUIET.set(False)  # a --quiet of an earlier call in this process does not last
        args = (list(ctx._protected_args), list(ctx.args))
        try:
            try:
                return super().invoke(ctx)
            except StoreInUseError as exc:  # a running `serve` may lend it (web.store_lease)
                if ctx.invoked_subcommand == "serve":
                    raise  # a second server would keep it for good
                from hybridwatch.commands.store_lease_client import borrowed_from_server

                with borrowed_from_server(exc) as lent:
                    if not lent:
                        raise
                    ctx._protected_args, ctx.args = args
                    return super().invoke(ctx)
        except HybridwatchError as exc:
            if ctx.params.get("debug"):
                raise
            click.secho(f"error: {exc}", err=True, fg="red")
            ctx.exit(_exit_code(exc))
        except ValueError as exc:  # the OS refuses a path with a NUL in it: a usage error
            if "null byte" not in str(exc) or ctx.params.get("debug"):
                raise
            click.secho("error: a file name holds a NUL byte, which no file name may",
                        err=True, fg="red")
            ctx.exit(EXIT_USAGE)
        finally:
            _QUIET.reset(quiet)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hybridwatch")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), envvar="HYBRIDWATCH_ENGINE",
              default="duckdb", show_default=True,
              help="Engine for the data-heavy steps: DuckDB, or Spark (PySpark 4; master from "
                   "HYBRIDWATCH_SPARK_MASTER, default local[*]; --db must be a Parquet lake) "
                   "(env HYBRIDWATCH_ENGINE).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, engine: str) -> None:
    """hybridwatch: quantified hybrid-threat assessment from open multi-domain event data."""
    # the choice lives in model.engine; importing it (and pyarrow with the model package) is
    # skipped when nothing chose another engine, so light commands stay light
    if engine != "duckdb" or "hybridwatch.model.engine" in sys.modules:
        from hybridwatch.model.engine import reset_engine, use_engine

        token = use_engine(engine)
        ctx.call_on_close(lambda: reset_engine(token))
