"""The shipped data statements, their override, and errors naming file, table and field."""

from __future__ import annotations

import pytest

from hybridwatch.errors import InputError
from hybridwatch.model.data_statements import ENV_VAR, load_data_statements, statement_for


def test_shipped_statements_cover_every_adapter_source_and_name_known_biases():
    statements = load_data_statements()
    from hybridwatch.adapters import acled, baci, comtrade, eurepoc, euvsdisinfo, misp, stix
    for module in (acled, baci, comtrade, eurepoc, euvsdisinfo, misp, stix):
        assert module.SOURCE in statements, module.SOURCE
    for name in ("gdelt", "articles", "pla_sorties", "cyber_ops_reports"):
        assert name in statements
    for statement in statements.values():
        assert statement.collector and statement.licence and statement.coverage
        assert statement.biases
    assert "only pro-Kremlin" in " ".join(statements["euvsdisinfo"].biases)
    assert "media attention" in " ".join(statements["gdelt"].biases)
    assert statement_for(statements, "GDELT") is statements["gdelt"]


def test_a_user_file_replaces_and_adds(tmp_path, monkeypatch):
    own = tmp_path / "own.toml"
    own.write_text('[[statement]]\nsource = "gdelt"\ncollector = "Our GDELT mirror"\n'
                   'licence = "as GDELT"\ncoverage = "2019 only"\nbiases = ["Sampled."]\n'
                   '[[statement]]\nsource = "partner_feed"\ncollector = "Bravo MoD"\n'
                   'licence = "TLP:AMBER"\ncoverage = "2024"\nbiases = ["One partner."]\n'
                   'url = "https://example.org"\n', encoding="utf-8")
    merged = load_data_statements(own)
    assert merged["gdelt"].collector == "Our GDELT mirror"
    assert merged["partner_feed"].url == "https://example.org"
    assert "euvsdisinfo" in merged
    monkeypatch.setenv(ENV_VAR, str(own))
    assert load_data_statements()["gdelt"].coverage == "2019 only"
    only = tmp_path / "only.toml"
    only.write_text("replace_shipped = true\n" + own.read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert set(load_data_statements(only)) == {"gdelt", "partner_feed"}


@pytest.mark.parametrize("text, where, field", [
    ('[[statement]]\nsource = "x"\ncollector = "c"\nlicence = "l"\ncoverage = "v"\n',
     "[[statement]] #1", "biases"),
    ('[[statement]]\nsource = "x"\ncollector = ""\nlicence = "l"\ncoverage = "v"\n'
     'biases = ["b"]\n', "[[statement]] #1", "collector"),
    ('[[statement]]\nsource = "x"\ncollector = "c"\nlicence = "l"\ncoverage = "v"\n'
     'biases = ["b"]\n[[statement]]\nsource = "x"\ncollector = "c"\nlicence = "l"\n'
     'coverage = "v"\nbiases = ["b"]\n', "[[statement]] #2", "source"),
])
def test_bad_files_name_file_table_and_field(tmp_path, text, where, field):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_data_statements(bad)
    assert str(bad) in str(caught.value) and where in str(caught.value)
    assert caught.value.field == field


def test_unreadable_and_unknown_keys(tmp_path):
    with pytest.raises(InputError, match="no such data-statement file"):
        load_data_statements(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("statements = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown top-level"):
        load_data_statements(bad)
