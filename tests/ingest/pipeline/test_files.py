from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from ingest.pipeline.errors import UploadRejected
from ingest.pipeline.files import (
    UploadLimits,
    check_size,
    open_upload,
    safe_upload_name,
    sniff_binary,
)


@pytest.mark.parametrize(
    "name", ["orders.csv", "Orders 2024.CSV", "export.tsv", "data.txt", "o.csv.gz", "o.zip"]
)
def test_ordinary_upload_names_are_accepted(name: str) -> None:
    assert safe_upload_name(f"  {name} ") == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x.csv.php", "ends in '.php'"),
        ("x%00.csv", "encoded characters"),
        ("x\x00.csv", "NUL"),
        ("../x.csv", "path separator"),
        ("C:\\temp\\x.csv", "path separator"),
        ("x\n.csv", "control characters"),
        (".csv", "not a usable file name"),
        ("report.xlsx", "ends in '.xlsx'"),
    ],
)
def test_suspicious_upload_names_are_refused_with_a_reason(name: str, message: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        safe_upload_name(name)
    assert message in caught.value.reason


def test_size_limit_message_says_exactly_how_far_over_it_is() -> None:
    limit = 500 * 1024**2
    check_size(limit, limit)
    with pytest.raises(UploadRejected) as caught:
        check_size(limit + 1, limit)
    assert caught.value.reason == "The file is 500.0 MB plus 1 byte; the limit is 500 MB."
    with pytest.raises(UploadRejected) as caught:
        check_size(612 * 1024**2, limit)
    assert caught.value.reason == "The file is 612.0 MB; the limit is 500 MB."


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"%PDF-1.7\n", "PDF"),
        (b"PK\x03\x04\x14\x00", "zip archive"),
        (b"abc,def\n\x00\x01\x02\x03", "binary data"),
    ],
)
def test_binary_content_is_refused_naming_what_it_is(head: bytes, what: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        sniff_binary(head)
    assert what in caught.value.reason


def test_utf16_text_is_not_mistaken_for_binary() -> None:
    sniff_binary("email,date\na@b.c,2024-01-01\n".encode("utf-16-le"))


def test_a_zip_with_one_csv_opens_to_its_contents() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__MACOSX/._orders.csv", b"junk")
        archive.writestr("export/orders.csv", b"a,b\n1,2\n")
    with open_upload(io.BytesIO(buffer.getvalue()), "orders.zip") as stream:
        assert stream.read() == b"a,b\n1,2\n"


def test_gzip_output_is_capped_while_streaming() -> None:
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 500_000)
    limits = UploadLimits(max_uncompressed_bytes=1024**2)
    with (
        pytest.raises(UploadRejected) as caught,
        open_upload(io.BytesIO(data), "orders.csv.gz", limits=limits) as stream,
    ):
        while stream.read(65536):
            pass
    assert "more than 1 MB" in caught.value.reason


def test_a_gz_name_on_plain_text_is_refused() -> None:
    with (
        pytest.raises(UploadRejected) as caught,
        open_upload(io.BytesIO(b"a,b\n"), "orders.csv.gz"),
    ):
        pass
    assert "not gzip-compressed" in caught.value.reason


def test_a_gzip_bomb_is_stopped_by_the_ratio_check_long_before_the_size_cap() -> None:
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 8_000_000, compresslevel=9)  # 32 MB, ~1000x
    read = 0
    with (
        pytest.raises(UploadRejected) as caught,
        open_upload(io.BytesIO(data), "orders.csv.gz") as stream,
    ):
        while block := stream.read(65536):
            read += len(block)

    assert "decompression bomb" in caught.value.reason
    assert read < 16 * 1024**2


def test_a_big_ordinary_gzip_csv_passes_the_ratio_check() -> None:
    import random

    rng = random.Random(7)
    rows = "".join(f"{rng.randrange(10**9)},cust{rng.randrange(10**6)}@example.com,"
                   f"{rng.randrange(10**5) / 100}\n" for _ in range(350_000)).encode()
    data = gzip.compress(b"order,email,total\n" + rows)
    assert len(rows) > UploadLimits().ratio_check_min_bytes

    with open_upload(io.BytesIO(data), "orders.csv.gz") as stream:
        assert len(stream.read()) == len(rows) + len(b"order,email,total\n")
