"""API tokens and the audit log, kept in the store beside the data they guard.

Tables (created on first use):

- ``api_tokens``: token_id, name, role, clearance, secret_sha256, created_at, revoked_at. The
  secret is shown once, when the token is created; only its SHA-256 is stored, so a copy of the
  store does not leak working tokens.
- ``audit_log``: at, token_id, name, role, action, resource, detail (JSON), status — one row for
  every read or export of findings, events or briefings through the API, and every token change.

A token reads ``hw_<token_id>_<secret>``: the id finds the row, the secret is checked against the
hash in constant time. Roles and their clearance (the most restricted TLP 2.0 level a token may
read): viewer → amber, analyst → amber+strict, admin → red. A token may be created with a lower
clearance than its role's, never a higher one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import duckdb

from hybridwatch.errors import SelectorError
from hybridwatch.model.tlp import parse_level, readable
from hybridwatch.store.schema import ACCESS_DDL
from hybridwatch.store.store import EventStore

#: Roles, least to most privileged, and the highest TLP level each may read by default.
ROLES = ("viewer", "analyst", "admin")
ROLE_CLEARANCE = {"viewer": "amber", "analyst": "amber+strict", "admin": "red"}
TOKEN_PREFIX = "hw_"



@dataclass(frozen=True)
class TokenRecord:
    """A stored token, without its secret."""

    token_id: str
    name: str
    role: str
    clearance: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        data["revoked_at"] = _iso(self.revoked_at)
        return data


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``token`` is the only time the secret is available."""

    record: TokenRecord
    token: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.record.to_dict(), "token": self.token}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def ensure_access_tables(store: EventStore) -> None:
    store._con.execute(ACCESS_DDL)


def _has_tables(store: EventStore) -> bool:
    return store._con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'api_tokens'"
    ).fetchall()[0][0] > 0


def check_role_clearance(role: str, clearance: str | None = None) -> str:
    """The clearance a token of ``role`` gets: the role's default, or a lower ``clearance``."""
    if role not in ROLES:
        raise SelectorError(f"role: unknown role {role!r} (roles: {', '.join(ROLES)})")
    ceiling = ROLE_CLEARANCE[role]
    if clearance is None:
        return ceiling
    level = parse_level(clearance, option="clearance")
    if not readable(level, ceiling):
        raise SelectorError(f"clearance: a {role} token reads at most TLP:{ceiling.upper()}, "
                            f"not TLP:{level.upper()}")
    return level


def check_token_name(name: str | None) -> None:
    """A token name is shown in listings and the audit log: printable text only. Control
    characters (a newline forging a log line) and format characters (bidi overrides that make
    "nimda" read "admin") are refused."""
    if name is None:
        return
    bad = [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn",
                                                             "Zl", "Zp")]
    if bad:
        raise SelectorError(f"--name: control or bidi character U+{ord(bad[0]):04X} "
                            "not allowed in a token name")
    if len(name) > 100:
        raise SelectorError("--name: at most 100 characters")


def create_token(store: EventStore, *, role: str, name: str | None = None,
                 clearance: str | None = None) -> NewToken:
    """Create a token; the returned ``NewToken.token`` is the secret, shown only now."""
    level = check_role_clearance(role, clearance)
    check_token_name(name)
    ensure_access_tables(store)
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = TokenRecord(token_id, (name or f"{role}-{token_id}").strip(), role, level,
                         _now(), None)
    store._con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
                      [record.token_id, record.name, role, level, _hash(secret),
                       record.created_at])
    return NewToken(record, f"{TOKEN_PREFIX}{token_id}_{secret}")


def list_tokens(store: EventStore, *, include_revoked: bool = True) -> list[TokenRecord]:
    if not _has_tables(store):
        return []
    sql = ("SELECT token_id, name, role, clearance, created_at, revoked_at FROM api_tokens"
           + ("" if include_revoked else " WHERE revoked_at IS NULL")
           + " ORDER BY created_at, token_id")
    return [TokenRecord(*row) for row in store._con.execute(sql).fetchall()]


def revoke_token(store: EventStore, token_id: str) -> TokenRecord:
    """Revoke a token by id (idempotent); unknown ids are an error naming the id."""
    ensure_access_tables(store)
    rows = store._con.execute("SELECT revoked_at FROM api_tokens WHERE token_id = ?",
                             [token_id]).fetchall()
    if not rows:
        raise SelectorError(f"token {token_id!r}: no such token (see `hybridwatch token list`)")
    if rows[0][0] is None:
        store._con.execute("UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?",
                          [_now(), token_id])
    return next(t for t in list_tokens(store) if t.token_id == token_id)


def verify_token(store: EventStore, token: str) -> TokenRecord | None:
    """The valid (not revoked) token record for a presented token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, _, secret = token[len(TOKEN_PREFIX):].partition("_")
    if not token_id or not secret:
        return None
    try:  # no catalog lookup first: this runs on every request
        rows = store._con.execute(
            "SELECT token_id, name, role, clearance, created_at, revoked_at, secret_sha256 "
            "FROM api_tokens WHERE token_id = ?", [token_id]).fetchall()
    except duckdb.CatalogException:
        return None  # no tokens table: no token was ever created
    if not rows:
        return None
    *fields, digest = rows[0]
    # constant-time comparison, so response times do not reveal how much of a secret matched
    if not hmac.compare_digest(digest, _hash(secret)) or fields[5] is not None:
        return None
    return TokenRecord(*fields)


def active_token(store: EventStore, token_id: str) -> TokenRecord | None:
    """The token record with this id if it exists and is not revoked (a dashboard session
    holds the id of the token it was opened with, never the secret)."""
    try:
        rows = store._con.execute(
            "SELECT token_id, name, role, clearance, created_at, revoked_at FROM api_tokens "
            "WHERE token_id = ? AND revoked_at IS NULL", [token_id]).fetchall()
    except duckdb.CatalogException:
        return None
    return TokenRecord(*rows[0]) if rows else None


def audit(store: EventStore, *, action: str, resource: str, token_id: str | None = None,
          name: str | None = None, role: str | None = None,
          detail: dict[str, Any] | None = None, status: int = 200) -> None:
    """Append one row to the audit log: who (token) did what (action) to which resource."""
    row = [_now(), token_id, name, role, action, resource,
           json.dumps(detail or {}, sort_keys=True, default=str), int(status)]
    sql = "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    try:  # tables are created once, on the first failure: this runs on every API answer
        store._con.execute(sql, row)
    except duckdb.CatalogException:
        ensure_access_tables(store)
        store._con.execute(sql, row)


#: The audit log's columns, in order (``append_audit_rows`` takes rows of these).
AUDIT_COLUMNS = ("at", "token_id", "name", "role", "action", "resource", "detail", "status")


def append_audit_rows(store: EventStore, rows: list[tuple]) -> None:
    """Append many audit rows at once (a buffered writer's batch), in one statement."""
    import pyarrow as pa

    queued = pa.table({name: [row[i] for row in rows] for i, name in enumerate(AUDIT_COLUMNS)})
    store._con.register("hybridwatch_audit_queued", queued)
    try:
        store._con.execute('INSERT INTO audit_log SELECT "at", token_id, name, role, action, '
                          "resource, detail, status::INTEGER FROM hybridwatch_audit_queued")
    finally:
        store._con.unregister("hybridwatch_audit_queued")


def audit_entries(store: EventStore, *, limit: int | None = 100, token_id: str | None = None,
                  action: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, newest first."""
    if not _has_tables(store):
        return []
    clauses, params = ["TRUE"], []
    if token_id:
        clauses.append("token_id = ?")
        params.append(token_id)
    if action:
        clauses.append("action = ?")
        params.append(action)
    sql = (f'SELECT "at", token_id, name, role, action, resource, detail, status FROM audit_log '
           f'WHERE {" AND ".join(clauses)} ORDER BY "at" DESC')
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [{"at": _iso(at), "token_id": tid, "name": nm, "role": rl, "action": act,
             "resource": res, "detail": json.loads(det) if det else {}, "status": st}
            for at, tid, nm, rl, act, res, det, st in store._con.execute(sql, params).fetchall()]
