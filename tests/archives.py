"""Compressed copies of sample files for the archive tests: the sample, then ``padding`` spaces
(valid JSON/XML whitespace; for CSV one long line), as ``.gz`` or a one-member ``.zip`` at the
highest compression — a decompression bomb when the padding is large."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path


def compressed_copy(sample: Path, out: Path, archive: str, padding: int = 0) -> Path:
    payload = sample.read_bytes() + b" " * padding
    if archive == "gz":
        out.write_bytes(gzip.compress(payload, compresslevel=9))
    else:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
            zipped.writestr(sample.name, payload)
    return out
