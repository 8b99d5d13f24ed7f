"""No log line ever holds a token. The dashboard never puts one in a URL (it signs in through
a form and a session cookie, ``web/sessions.py``), but a user may still open ``/?token=…`` or a
client send one in a query string, and uvicorn's access log writes the full path with its query.

A ``logging.Filter`` on the server's loggers rewrites every token-looking value before the line
is written: ``token=…`` in a query string and any ``hw_…`` secret anywhere in the message.
"""

from __future__ import annotations

import logging
import re

from hybridwatch.store.access_store import TOKEN_PREFIX

_QUERY_TOKEN = re.compile(r"((?:^|[?&;])(?:token|access_token)=)[^&;\s\"']*", re.IGNORECASE)
_SECRET = re.compile(re.escape(TOKEN_PREFIX) + r"[0-9a-f]{12}_[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every token value replaced by ``[redacted]``."""
    return _SECRET.sub(REDACTED, _QUERY_TOKEN.sub(lambda m: m.group(1) + REDACTED, text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments so no token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def redact_tokens_in(*logger_names: str) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
