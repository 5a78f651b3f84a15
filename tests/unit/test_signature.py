"""Meta's X-Hub-Signature-256 (forged signatures, tampered bytes, missing headers)."""

from __future__ import annotations

import pytest

from espaluz.whatsapp.signature import SignatureMismatch, SignatureMissing, sign, verify

BODY = '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"t":"ñ"}'.encode()


def test_known_vector() -> None:
    # HMAC-SHA256("secret", "hello"), computed independently.
    assert (
        sign(b"hello", "secret") == "sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"
    )


def test_valid_signature_passes() -> None:
    verify(BODY, sign(BODY, "s3cret"), "s3cret")


def test_missing_header() -> None:
    with pytest.raises(SignatureMissing):
        verify(BODY, None, "s3cret")
    with pytest.raises(SignatureMissing):
        verify(BODY, "", "s3cret")


@pytest.mark.parametrize("index", [0, len(BODY) // 2, len(BODY) - 1])
def test_any_tampered_byte_fails(index: int) -> None:
    header = sign(BODY, "s3cret")
    tampered = bytearray(BODY)
    tampered[index] ^= 0x01
    with pytest.raises(SignatureMismatch):
        verify(bytes(tampered), header, "s3cret")


def test_other_secret_or_malformed_header_fails() -> None:
    with pytest.raises(SignatureMismatch):
        verify(BODY, sign(BODY, "other"), "s3cret")
    with pytest.raises(SignatureMismatch):
        verify(BODY, sign(BODY, "s3cret").removeprefix("sha256="), "s3cret")


def test_empty_app_secret_is_a_configuration_error_not_a_pass() -> None:
    with pytest.raises(RuntimeError):
        verify(BODY, sign(BODY, ""), "")
