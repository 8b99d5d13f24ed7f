"""The exception tree of hybridwatch. Imports nothing from the package.

    HybridwatchError            base of everything hybridwatch raises on purpose
    ├── InputError              a file or record cannot be read (names file, line/record, field, reason)
    │   ├── FormatError         the file is not in the format asked for, or no format matches
    │   ├── StrictModeError     --strict: the first rejected record fails the whole file
    │   └── VerificationError   a signature or sealed file does not verify (``code`` says why)
    ├── MappingError            a TOML mapping file is invalid
    ├── StoreError              the DuckDB store cannot be opened or is not a hybridwatch store
    │   └── StoreInUseError     another process holds the store's lock (``path`` says which)
    ├── SelectorError           a series selector or query filter is malformed
    └── MissingExtraError       an optional dependency is not installed (says which extra to install)
"""

from __future__ import annotations


class HybridwatchError(Exception):
    """Base class of all errors hybridwatch raises on purpose."""


class InputError(HybridwatchError):
    """A file or one of its records cannot be read.

    The message reads ``FILE line 17: event_date: not a date ('31/02/2024')``; every part but the
    file and reason is optional.
    """

    def __init__(self, path: object, reason: str, *, locator: str | None = None,
                 field: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.locator = locator
        self.field = field
        where = self.path + (f" {locator}" if locator else "")
        what = f"{field}: {reason}" if field else reason
        super().__init__(f"{where}: {what}")


class VerificationError(InputError):
    """A signature does not verify; ``code`` (e.g. ``wrong-key``, ``algorithm-downgrade``) heads
    the message, so scripts can tell the reasons apart."""

    def __init__(self, path: object, code: str, reason: str) -> None:
        self.code = code
        super().__init__(path, f"{code}: {reason}")


class FormatError(InputError):
    """The file is not in the requested format, or its format cannot be recognised."""


class StrictModeError(InputError):
    """A record was rejected while ``strict`` was on: the file is refused as a whole."""


class MappingError(HybridwatchError):
    """A mapping file (TOML) is invalid: unknown field, missing column, bad value."""


class StoreError(HybridwatchError):
    """The store cannot be opened, or the file is not a hybridwatch store."""


class StoreInUseError(StoreError):
    """Another process holds the store's lock (DuckDB: one writer, or several readers)."""

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        super().__init__(message)


class SelectorError(HybridwatchError):
    """A selector or query filter is malformed (unknown field, bad date, bad domain)."""


class MissingExtraError(HybridwatchError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"this needs the optional package {package!r}: "
                         f"pip install 'hybridwatch[{extra}]'")
