"""The shipped CAMEO codebook against GDELT's published lookup file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hybridwatch.model.cameo import cameo_codebook, describe_cameo

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_cameo_codebook.py"


def test_known_codes_read_as_words():
    assert describe_cameo("111") == "Criticize or denounce"
    assert describe_cameo("1123") == "Accuse of aggression"
    assert describe_cameo("112") == "Accuse"                  # ", not specified below" dropped
    assert describe_cameo("01") == "Make public statement"    # root code out of capitals
    assert describe_cameo("163") == "Impose embargo, boycott, or sanctions"
    assert describe_cameo("010") == "Make statement"          # leading zero kept


def test_unknown_codes_take_their_parent_or_none():
    assert describe_cameo("1129") == "Accuse"
    assert describe_cameo(" 0431 ") == "Host a visit"
    for value in (None, "", "9", "99", "abc", "11a"):
        assert describe_cameo(value) is None


def test_package_copy_is_the_script_output_of_gdelts_file(shared_data):
    """The committed CSV equals what the committed script builds from the real lookup."""
    spec = importlib.util.spec_from_file_location("build_cameo_codebook", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = shared_data / "gdelt_samples_and_lookups" / "lookups" / "CAMEO.eventcodes.txt"
    rows = module.read_codebook(source)
    assert dict(rows) == cameo_codebook()
    assert len(rows) == sum(1 for line in source.read_text().splitlines()[1:] if line.strip())
