"""``hybridwatch model-card``: the risk model's model card, from the stored assessment."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.outputs.model_card import render_markdown
from hybridwatch.store import EventStore
from hybridwatch.workflows.model_card import model_card


@cli.command("model-card")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the card as Markdown to this file.")
@click.option("--data-statements", "data_statements", metavar="FILE",
              type=click.Path(dir_okay=False, exists=True),
              help="Data statements overriding the shipped ones (same TOML format; default "
                   "$HYBRIDWATCH_DATA_STATEMENTS).")
@db_option
@json_option
def model_card_command(output: Path | None, data_statements: str | None, db: Path,
                       as_json: bool) -> None:
    """The risk model's model card: intended and out-of-scope uses, the data it was fitted on
    (with each source's data statement), features and the sign of each driver, backtest
    metrics per outcome, known failure modes and the date of the last evaluation."""
    with EventStore(db, read_only=True) as store:
        card = model_card(store, data_statements=data_statements)
    markdown = render_markdown(card)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown, encoding="utf-8")
        say(f"model card written to {output}")
        card = {**card, "path": str(output)}
    if as_json:
        emit_json(card)
    elif output is None:
        click.echo(markdown, nl=False)
