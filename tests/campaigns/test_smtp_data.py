import re
import smtplib

import pytest

from campaigns.services.sending import _quoted, smtp_data


def reference(payload: bytes) -> bytes:
    # RFC 5321 4.5.2 transparency as regular expressions (what smtp_data replaced)
    body = re.sub(rb"(?m)^\.", b"..", re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", payload))
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


@pytest.mark.parametrize("payload", [
    b"", b".", b"..", b"a", b"a\r\n", b"a\r\n.b\r\n", b".a\r\n..b\r\n.\r\n",
    b"a\n.b\nc", b"a\r.b\rc", b"a\r\r\n.b", b"\r\n\r\n.", b"x\n\r.y", b"a.b\r\n c.\r\n",
    "Subject: caf\u00e9\r\n\r\n.hidden\r\n".encode(),
])
def test_smtp_data_is_the_crlf_and_dot_stuffed_message_with_its_end_marker(payload):
    assert smtp_data(payload) == reference(payload)


@pytest.mark.parametrize("address", [
    "a@example.com", "first.last+tag@mail.example.org", "o'brien@example.ie",
    "x!#$%&'*+/=?^_`{|}~-y@sub.example.com", "Name <n@example.com>", "<>", "",
    "weird..dots@example.com", "no-at-sign",
])
def test_quoting_an_envelope_address_is_what_smtplib_does(address):
    assert _quoted(address) == smtplib.quoteaddr(address)
