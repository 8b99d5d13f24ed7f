"""The ``hybridwatch`` command: every command, registered by name and imported only when it runs.

Data goes to stdout (``--json``: exactly one JSON object); progress and summaries to stderr.
Exit codes: 0 ok · 1 unexpected error (a bug: rerun with --debug) · 2 usage error (bad option,
selector or filter) · 3 input error (a file could not be ingested; other files still were) ·
4 store error (cannot open, in use, not a hybridwatch store) · 5 verification failed.

To add a command: write it in a module under ``hybridwatch.commands`` with ``@cli.command()``
(``cli`` from ``hybridwatch.commands.base``) and add one line here. The one-line help shown by
``hybridwatch --help`` is the start of the command's own help (a test keeps them in step).
"""

from __future__ import annotations

from hybridwatch.commands.base import cli

_ASSESS = "hybridwatch.commands.assessment_commands"
_COORD = "hybridwatch.commands.coordination_commands"
_DATA, _ID = "hybridwatch.commands.data_commands", "hybridwatch.commands.identity_commands"
_WEB = "hybridwatch.commands.web_commands"
_SUPPLY = "hybridwatch.commands.supply_commands"

#: command name → (module that defines it, one-line help for ``hybridwatch --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("hybridwatch.commands.ingest_command", "Ingest FILES into the store, each file in "
                                                     "one transaction."),
    "events": (_DATA, "List events, oldest first, filtered by domain, actor, target, source and "
                      "time."),
    "stats": (_DATA, "Counts of events, articles and quarantined records, by domain, source and "
                     "target."),
    "coverage": ("hybridwatch.commands.coverage_command", "Where each source and outlet "
                                                          "reports densely"),
    "quarantine": (_DATA, "Show rejected records, verbatim, with file, line or record, field and "
                          "reason."),
    "export": (_DATA, "Export the store (--parquet DIR) or its findings as STIX 2.1 "
                      "(`export stix`)."),
    "import": (_DATA, "Restore a Parquet export into a new or empty store"),
    "formats": (_DATA, "List the input formats hybridwatch reads."),
    "migrate": (_DATA, "Upgrade a store written by an older hybridwatch to this version's "
                       "schema."),
    "episodes": (_COORD, "Multi-domain episodes"),
    "coincide": (_COORD, "Event coincidence analysis"),
    "theatres": (_COORD, "The named theatres an event without target or location country is "
                         "counted for"),
    "narratives": ("hybridwatch.commands.narrative_commands", "Narratives"),
    "convergence": (_ASSESS, "The actor-convergence index per month"),
    "assess": (_ASSESS, "Risk per target in the next H days, worded on the PHIA yardstick"),
    "backtest": (_ASSESS, "Rolling-origin backtest of the risk model"),
    "supply": (_SUPPLY, "Supplier concentration, dependence on actors, and diversion through "
                        "third countries."),
    "screen": (_SUPPLY, "Match names in the data against screening lists (fuzzy, with "
                        "transliteration)."),
    "findings": ("hybridwatch.commands.findings_commands", "Runs of the analyses: list, show, "
                                                          "compare, pin"),
    "review": ("hybridwatch.commands.findings_commands", "Record an analyst's verdict on a "
                                                         "finding"),
    "watch": ("hybridwatch.commands.watch_commands", "Watchlists and alerts"),
    "model-card": ("hybridwatch.commands.model_card_command", "The risk model's model card"),
    "brief": ("hybridwatch.commands.brief_command", "Write a briefing of the latest findings"),
    "pull": ("hybridwatch.commands.sharing_commands", "Ingest a partner's TAXII 2.1 collection"),
    "keys": (_ID, "Organisation identities"),
    "sign": (_ID, "Write a detached composite signature (ML-DSA-65 + Ed25519) of FILE"),
    "verify": (_ID, "Verify FILE against FILE.sig and the trust store"),
    "seal": (_ID, "Encrypt FILE to PARTNER (HPKE, ML-KEM-768 + X25519) and sign the envelope."),
    "open": (_ID, "Decrypt a sealed FILE with the local keys"),
    "timestamp": ("hybridwatch.commands.timestamp_commands", "RFC 3161 time-stamps on detached "
                                                            "signatures"),
    "provenance": ("hybridwatch.commands.provenance_commands", "Content provenance"),
    "serve": (_WEB, "Serve the REST API (/api, OpenAPI at /openapi.json) and the dashboard (/)."),
    "token": (_WEB, "API tokens"),
    "audit": (_WEB, "Who read or exported what through the API, newest first."),
    "demo": ("hybridwatch.commands.demo_command", "Generate a realistic multi-domain scenario in "
                                                  "the real formats and ingest it."),
}

cli.register_lazy(COMMANDS)


def main() -> None:
    cli(prog_name="hybridwatch")
