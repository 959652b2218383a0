from __future__ import annotations

import io

import pytest

from ingest.pipeline.encoding import detect_encoding, open_text

TEXT = "email,name,city\nzoe@example.com,Zoë Müller,Köln\nana@example.com,Ana Núñez,Málaga €\n" * 20


@pytest.mark.parametrize(
    ("data", "name", "had_bom"),
    [
        (TEXT.encode("utf-8"), "utf-8", False),
        (TEXT.encode("utf-8-sig"), "utf-8-sig", True),
        (TEXT.encode("utf-16"), "utf-16", True),
        (TEXT.encode("utf-16-le"), "utf-16-le", False),
        (TEXT.encode("utf-16-be"), "utf-16-be", False),
        (TEXT.encode("cp1252"), "cp1252", False),
    ],
)
def test_encoding_is_detected_and_the_text_decodes_exactly(
    data: bytes, name: str, had_bom: bool
) -> None:
    detected = detect_encoding(data, complete=True)
    assert (detected.name, detected.had_bom) == (name, had_bom)
    assert open_text(io.BytesIO(data)).text.read() == TEXT


def test_gbk_chinese_text_decodes() -> None:
    text = (
        "订单号,邮箱,客户名称,日期\n1001,a@example.com,张伟,2024-01-05\n1002,b@example.com,李娜,2024-01-06\n"
        * 5
    )
    source = open_text(io.BytesIO(text.encode("gbk")))
    assert source.encoding.name == "gb18030"
    assert source.text.read() == text


def test_undecodable_bytes_after_the_sample_become_replacement_characters() -> None:
    data = b"a,b\n" + b"x,y\n" * 300_000 + b"caf\xe9,1\n"
    text = open_text(io.BytesIO(data)).text.read()
    assert text.endswith("caf\ufffd,1\n")


def test_mixed_line_endings_reach_the_reader_untranslated() -> None:
    assert open_text(io.BytesIO(b"a\r\nb\rc\n")).text.read() == "a\r\nb\rc\n"
