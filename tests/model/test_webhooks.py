"""The webhook rules, pure: which destination addresses are refused (always, or unless private
ones are allowed), which URLs a watch may name, and the signature — whose worked example in
docs/web.md must be what the code computes (openssl computed the same value)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from hybridwatch.errors import SelectorError
from hybridwatch.model.webhooks import (
    address_problem, check_webhook_url, new_webhook_secret, redacted_url, signature, url_host,
    verify_signature,
)

ALWAYS_REFUSED = ["0.0.0.0", "::", "169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1",
                  "240.0.0.1", "::ffff:169.254.169.254"]
PRIVATE = ["127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
           "100.64.0.1", "fd00::1", "::ffff:10.0.0.1"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "web.md"


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
def test_addresses_no_receiver_should_be_at_are_always_refused(address):
    ip = ipaddress.ip_address(address)
    assert address_problem(ip, allow_private=True)
    assert address_problem(ip, allow_private=False)


@pytest.mark.parametrize("address", PRIVATE)
def test_loopback_and_private_addresses_need_the_permission(address):
    ip = ipaddress.ip_address(address)
    assert "--allow-private" in address_problem(ip, allow_private=False)
    assert address_problem(ip, allow_private=True) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address), allow_private=False) is None


def test_urls_are_checked_and_kept_as_given():
    url = "https://hooks.example.org:8443/services/T0KEN?x=1"
    assert check_webhook_url(url, allow_private=False) == url
    assert check_webhook_url("http://[::1]:9/x", allow_private=True) == "http://[::1]:9/x"
    assert url_host(url) == "hooks.example.org:8443" and url_host("http://[::1]:9/x") == "[::1]:9"
    assert redacted_url(url) == "https://hooks.example.org:8443/…"    # the token stays hidden
    for bad, reason in [("", "give an http"), ("javascript:alert(1)", "scheme"),
                        ("https://a b.example/", "spaces"), ("http://h.example:99999/", "URL"),
                        ("http://h.example:0/", "port 0"), ("https://x@h.example/", "credent"),
                        ("https://" + "a" * 2050 + ".example/", "longer"),
                        ("http://sub.localhost/", "loopback")]:
        with pytest.raises(SelectorError, match=reason):
            check_webhook_url(bad, allow_private=False)


def test_secrets_are_fresh_and_recognisable():
    made = {new_webhook_secret() for _ in range(20)}
    assert len(made) == 20 and all(re.fullmatch(r"hwwh_[A-Za-z0-9_-]{43}", s) for s in made)


def test_the_documented_example_signature_is_what_the_code_computes():
    text = DOCS.read_text(encoding="utf-8")
    secret = re.search(r"secret\s+`(hwwh_[^`]+)`", text).group(1)
    stamp = re.search(r"timestamp\s+`(\d+)`", text).group(1)
    body = re.search(r"body\s+`([^`]+)`", text).group(1).encode()
    documented = re.search(r"signature\s+`(sha256=[0-9a-f]{64})`", text).group(1)
    assert signature(secret, stamp, body) == documented
    assert verify_signature(secret, timestamp=stamp, body=body, signature_header=documented,
                            now=int(stamp) + 299)
    assert not verify_signature(secret, timestamp=stamp, body=body,
                                signature_header=documented, now=int(stamp) + 301)
    assert not verify_signature(secret + "x", timestamp=stamp, body=body,
                                signature_header=documented, now=int(stamp))
    assert not verify_signature(secret, timestamp=str(int(stamp) + 1), body=body,
                                signature_header=documented, now=int(stamp))
