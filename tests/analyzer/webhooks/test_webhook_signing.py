"""Standard Webhooks signing, checked against the reference `standardwebhooks` package."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.analyzer.webhooks import signing

BODY = json.dumps(
    {"type": "alert.opened", "timestamp": "2026-05-01T10:00:00Z", "data": {"alert_id": "a-1", "summary": "Ça diverge"}},
    ensure_ascii=False,
).encode()


FORGED = base64.b64encode(bytes(32)).decode()
Tamper = Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]]


def create_headers(
    secrets: list[str], *, body: bytes = BODY, msg_id: str = "msg_2Kp9", timestamp: int | None = None
) -> dict[str, str]:
    """Return the headers of one delivery signed with `secrets`."""
    return signing.build_headers(secrets, msg_id, int(time.time()) if timestamp is None else timestamp, body)


def test_generated_secret_has_whsec_form_and_enough_entropy() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.generate_secret()
    assert len(signing.secret_key(signing.generate_secret(size=24))) == 24


@pytest.mark.parametrize("size", [0, 16, 23, 65])
def test_generated_secret_size_is_bounded(size: int) -> None:
    with pytest.raises(ValueError):
        signing.generate_secret(size=size)


def test_reference_library_verifies_our_signature() -> None:
    secret = signing.generate_secret()
    headers = create_headers([secret])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_our_signature_equals_the_reference_signature() -> None:
    secret = signing.generate_secret()
    timestamp = int(time.time())
    ours = signing.sign(secret, "msg_1", timestamp, BODY)
    reference = Webhook(secret).sign("msg_1", datetime.fromtimestamp(timestamp, tz=UTC), BODY.decode())
    assert ours == reference


def test_specification_test_vector() -> None:
    # The example of the Standard Webhooks specification and its reference libraries' test suites.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_carry_id_timestamp_signature_and_content_type() -> None:
    headers = create_headers([signing.generate_secret()], msg_id="msg_x", timestamp=1_700_000_000)
    assert headers["webhook-id"] == "msg_x"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"


def test_rotation_signs_with_both_secrets_and_either_verifies() -> None:
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = create_headers([old, new])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    signing.verify(old, BODY, headers)
    signing.verify(new, BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(BODY, headers)


def test_rotation_with_the_same_secret_twice_signs_once() -> None:
    secret = signing.generate_secret()
    assert len(create_headers([secret, secret])["webhook-signature"].split(" ")) == 1


def test_signing_needs_at_least_one_secret_and_not_a_bare_string() -> None:
    with pytest.raises(ValueError):
        signing.signature_header([], "msg_1", 1, BODY)
    with pytest.raises(TypeError):
        signing.signature_header(signing.generate_secret(), "msg_1", 1, BODY)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, headers: (body.replace(b"a-1", b"a-2"), headers), id="body"),
        pytest.param(lambda body, headers: (body + b" ", headers), id="trailing-space"),
        pytest.param(lambda body, headers: (body, {**headers, "webhook-id": "msg_other"}), id="id"),
        pytest.param(
            lambda body, headers: (body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
            id="timestamp",
        ),
        pytest.param(
            lambda body, headers: (body, {**headers, "webhook-signature": "v1," + FORGED}),
            id="signature",
        ),
        pytest.param(
            lambda body, headers: (
                body,
                {**headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,")},
            ),
            id="version",
        ),
    ],
)
def test_tampering_fails_verification(tamper: Tamper) -> None:
    secret = signing.generate_secret()
    body, headers = tamper(BODY, create_headers([secret]))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
    with pytest.raises(signing.SignatureError):
        signing.verify(secret, body, headers)


def test_wrong_secret_fails_verification() -> None:
    headers = create_headers([signing.generate_secret()])
    with pytest.raises(signing.SignatureError):
        signing.verify(signing.generate_secret(), BODY, headers)


def test_stale_and_future_timestamps_fail_verification() -> None:
    secret = signing.generate_secret()
    now = int(time.time())
    for timestamp in (now - 301, now + 301):
        headers = create_headers([secret], timestamp=timestamp)
        with pytest.raises(signing.SignatureError):
            signing.verify(secret, BODY, headers, now=now)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(BODY, headers)
    signing.verify(secret, BODY, create_headers([secret], timestamp=now - 299), now=now)


def test_verify_accepts_any_header_case_and_skips_unknown_versions() -> None:
    secret = signing.generate_secret()
    headers = create_headers([secret])
    mixed = {
        "Webhook-Id": headers["webhook-id"],
        "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"],
        "Webhook-Signature": "v1a,c29tZXRoaW5n " + headers["webhook-signature"],
    }
    signing.verify(secret, BODY, mixed)
    Webhook(secret).verify(BODY, {key: value.replace("v1a,c29tZXRoaW5n ", "") for key, value in mixed.items()})


def test_missing_headers_fail_verification() -> None:
    secret = signing.generate_secret()
    headers = create_headers([secret])
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        with pytest.raises(signing.SignatureError):
            signing.verify(secret, BODY, {key: value for key, value in headers.items() if key != name})


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not*base64", ""])
def test_invalid_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        signing.sign(secret, "msg_1", 1, BODY)


def test_secret_without_prefix_or_padding_is_accepted_like_the_reference() -> None:
    secret = signing.generate_secret(size=25)  # 25 bytes: base64 with padding
    unpadded = secret.removeprefix("whsec_").rstrip("=")
    assert signing.sign(unpadded, "msg_1", 1, BODY) == signing.sign(secret, "msg_1", 1, BODY)
