import email
import re
from datetime import UTC, datetime
from email import policy

import pytest

from campaigns.emails.message import (
    HeaderInjectionError,
    InvalidAddressError,
    build_message,
    message_id_for,
)

SENT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def build(**overrides):
    arguments = {
        "subject": "Spring tea for you",
        "from_name": "Tea Co",
        "from_address": "hello@tea.example",
        "to_name": "Ada Lovelace",
        "to_address": "ada@example.org",
        "html_body": '<h1>Spring</h1><p>New <a href="https://tea.example/spring">teas</a></p>',
        "text_body": None,
        "message_id_seed": "campaign-7:recipient-42",
        "domain": "tea.example",
        "unsubscribe_url": "https://tea.example/u/tok",
        "unsubscribe_post_url": "https://tea.example/u/tok/one-click",
        "date": SENT,
    }
    arguments.update(overrides)
    return build_message(**arguments)


def plain_text(msg):
    # On the wire (and so after parsing) lines end in CRLF.
    return parsed(msg).get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def parsed(msg):
    return email.message_from_bytes(bytes(msg), policy=policy.default)


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]


def test_the_message_is_multipart_alternative_with_text_first_and_html_last():
    msg = parsed(build())

    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]


def test_the_plain_text_part_is_generated_from_the_html_when_not_given():
    text = plain_text(build())

    assert text == "Spring\n\nNew teas (https://tea.example/spring)\n"


def test_an_explicit_plain_text_part_is_used_as_given():
    text = plain_text(build(text_body="Custom text\n"))

    assert text == "Custom text\n"


def test_the_html_part_has_the_stylesheet_inlined_on_elements():
    html = parsed(build()).get_body(preferencelist=("html",)).get_content()

    assert "<style" not in html
    assert re.search(r'<a href="https://tea.example/spring" style="[^"]*color: #1a5fb4', html)
    assert re.search(r'<h1 style="[^"]*font-family', html)


def test_the_message_id_depends_only_on_the_seed_so_a_retry_reuses_it():
    first = parsed(build(date=SENT))["Message-ID"]
    retry = parsed(build(date=datetime(2025, 3, 2, tzinfo=UTC)))["Message-ID"]
    other = parsed(build(message_id_seed="campaign-7:recipient-43"))["Message-ID"]

    assert first == retry == message_id_for("campaign-7:recipient-42", "tea.example")
    assert re.fullmatch(r"<[0-9a-f]{32}@tea\.example>", first)
    assert other != first


def test_one_click_unsubscribe_headers_follow_rfc_8058():
    msg = parsed(build(unsubscribe_mailto="mailto:unsub@tea.example?subject=tok"))

    assert msg["List-Unsubscribe"] == (
        "<https://tea.example/u/tok/one-click>, <mailto:unsub@tea.example?subject=tok>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_long_unsubscribe_url_is_not_mangled_into_an_encoded_word():
    url = "https://tea.example/campaigns/unsubscribe/" + "a" * 120 + "/"

    raw = bytes(build(unsubscribe_post_url=url))

    assert f"List-Unsubscribe: <{url}>".encode() in raw


def test_without_a_post_url_the_page_is_listed_and_one_click_is_not_claimed():
    msg = parsed(build(unsubscribe_post_url=None))

    assert msg["List-Unsubscribe"] == "<https://tea.example/u/tok>"
    assert msg["List-Unsubscribe-Post"] is None


def test_a_plain_http_post_url_does_not_claim_one_click():
    msg = parsed(build(unsubscribe_post_url="http://127.0.0.1:8000/u/tok/one-click"))

    assert msg["List-Unsubscribe-Post"] is None


def test_date_from_and_to_headers_are_well_formed():
    msg = parsed(build(to_name="Zoë O'Brien"))

    assert msg["Date"].datetime == SENT
    assert msg["From"].addresses[0].display_name == "Tea Co"
    assert msg["From"].addresses[0].addr_spec == "hello@tea.example"
    assert msg["To"].addresses[0].display_name == "Zoë O'Brien"
    assert msg["To"].addresses[0].addr_spec == "ada@example.org"


def test_the_output_has_crlf_line_endings_and_no_line_over_998_octets():
    raw = bytes(build(html_body="<p>" + "word " * 2000 + "</p>"))

    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


INJECTIONS = [
    "x\r\nBcc: victim@evil.example",
    "x\nBcc: victim@evil.example",
    "x\rBcc: victim@evil.example",
]


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("field", ["subject", "from_name"])
def test_a_line_break_in_the_subject_or_sender_name_is_rejected(field, injection):
    with pytest.raises(HeaderInjectionError):
        build(**{field: injection})


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("field", ["from_address", "to_address"])
def test_a_line_break_in_an_address_is_rejected(field, injection):
    with pytest.raises(HeaderInjectionError):
        build(**{field: "ada@example.org" + injection[1:]})


@pytest.mark.parametrize(
    "injection", INJECTIONS + ["x\u2028Bcc: victim@evil.example", "x\x85Bcc: victim@evil.example"]
)
def test_a_line_break_in_the_recipient_name_is_neutralised_and_never_becomes_a_header(injection):
    raw = bytes(build(to_name=injection))

    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert "Bcc" not in header_names(raw)
    assert msg["To"].addresses[0].addr_spec == "ada@example.org"
    assert len(msg["To"].addresses) == 1


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org, eve@evil.example",
        "Ada <ada@example.org>",
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "a da@example.org",
        "ädä@example.org",
        "ada@example.org>",
        "ada@exa mple.org",
    ],
)
def test_anything_but_one_plain_address_is_rejected(address):
    with pytest.raises(InvalidAddressError):
        build(to_address=address)


@pytest.mark.parametrize(
    "overrides",
    [
        {"unsubscribe_url": "https://tea.example/u\r\nBcc: x@y.example"},
        {"unsubscribe_post_url": "https://tea.example/u>, <https://evil.example"},
        {"unsubscribe_mailto": "mailto:u@tea.example\nBcc: x@y.example"},
        {"domain": "tea.example>\r\nBcc: x@y.example"},
        {"extra_headers": {"X-Campaign": "7\r\nBcc: x@y.example"}},
        {"extra_headers": {"X-Campaign\r\nBcc": "x@y.example"}},
        {"extra_headers": {"Bcc": "x@y.example"}},
        {"extra_headers": {"From": "ceo@bank.example"}},
    ],
)
def test_urls_domain_and_extra_headers_cannot_inject_or_override_headers(overrides):
    with pytest.raises(ValueError):
        build(**overrides)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://tea.example/u", "/u/tok"])
def test_an_unsubscribe_url_must_be_http(url):
    with pytest.raises(ValueError):
        build(unsubscribe_url=url)


def test_extra_headers_are_added():
    msg = parsed(build(extra_headers={"X-Profiler-Campaign": "7"}))

    assert msg["X-Profiler-Campaign"] == "7"


def test_a_naive_date_is_refused():
    with pytest.raises(ValueError):
        build(date=datetime(2025, 3, 1, 9, 30))
