"""Sealing personal data (shared/personal.py): what is sealed, and that it opens only with its key, on its record."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import SecretStr

from shared.events import EVENT_ADAPTER, decode_event, encode_event, event_key
from shared.personal import (
    SealError,
    new_data_key,
    record_key_digest,
    seal,
    sealed_key_id,
    split_sealed,
    subject_matches,
    subjects_of,
    unseal,
    unwrap_key,
    wrap_key,
)
from shared.settings import DEVELOPMENT_PERSONAL_DATA_KEY, ServiceSettings
from tests.factories import create_account, create_moment, create_stakeholder, create_survey

EMAIL = "jane.doe@acme.example"
NAME = "Jane Doe"
COMMENT = "Jane thinks the onboarding was slow"
KEK = b"k" * 32

PERSONAL_BODIES = [
    create_survey(stakeholder_id=EMAIL, comment=COMMENT),
    {
        k: v
        for k, v in create_survey(
            identities={"stakeholder": [EMAIL, "zendesk:user:1"], "account": ["zendesk:org:9"]}, comment=COMMENT
        ).items()
        if k not in {"account_id", "stakeholder_id"}
    },
    create_stakeholder(stakeholder_id=EMAIL, name=NAME, aliases=[EMAIL, "zendesk:user:1"], role="it"),
    create_moment(stakeholder_id=EMAIL, attributes={"ticket": 4}),
]


def record_of(body: dict[str, Any]) -> tuple[Any, bytes, dict[str, Any]]:
    event = EVENT_ADAPTER.validate_python(body)
    raw = encode_event(event)
    return event, raw, json.loads(raw)


def sealed_bytes(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


@pytest.mark.parametrize("body", PERSONAL_BODIES, ids=["survey", "vendor-survey", "stakeholder", "moment"])
def test_a_sealed_record_holds_no_personal_data_and_opens_to_the_same_event(body: dict[str, Any]) -> None:
    event, _, record = record_of(body)
    key = new_data_key(subjects_of(record))
    sealed = seal(record, key)
    raw = sealed_bytes(sealed)
    for secret in (EMAIL, NAME, COMMENT, "zendesk:user:1"):
        assert secret.encode() not in raw
    assert sealed["event_id"] == event.event_id
    assert sealed_key_id(raw) == key.key_id
    split = split_sealed(raw)
    assert split is not None
    opened = unseal(*split, key.secret)
    assert decode_event(sealed_bytes(opened)) == event


def test_what_is_not_personal_stays_readable() -> None:
    _, _, record = record_of(PERSONAL_BODIES[1])
    sealed = seal(record, new_data_key(subjects_of(record)))
    assert sealed["identities"] == {"account": ["zendesk:org:9"]}
    assert (sealed["metric"], sealed["score"], sealed["type"]) == ("nps", 9.0, "survey_response")
    _, _, moment = record_of(PERSONAL_BODIES[3])
    assert seal(moment, new_data_key([EMAIL]))["attributes"] == {"ticket": 4}


@pytest.mark.parametrize("body", [create_account(name="Acme"), create_moment()], ids=["account", "moment"])
def test_a_record_without_personal_fields_is_not_sealed(body: dict[str, Any]) -> None:
    _, raw, record = record_of(body)
    assert subjects_of(record) == ()
    assert seal(record, new_data_key([])) == record
    assert split_sealed(raw) is None
    assert sealed_key_id(raw) is None


def test_a_plaintext_record_passes_through_even_when_it_mentions_sealed() -> None:
    _, raw, _ = record_of(create_survey(comment='the word "sealed" and sealed', moment="sealed"))
    assert split_sealed(raw) is None
    assert sealed_key_id(raw) is None


def test_the_wrong_key_does_not_open_a_seal() -> None:
    _, _, record = record_of(PERSONAL_BODIES[0])
    split = split_sealed(sealed_bytes(seal(record, new_data_key([EMAIL]))))
    assert split is not None
    with pytest.raises(SealError, match="does not open"):
        unseal(*split, new_data_key([EMAIL]).secret)


def test_tampered_data_does_not_open() -> None:
    _, _, record = record_of(PERSONAL_BODIES[0])
    key = new_data_key([EMAIL])
    sealed = seal(record, key)
    data = bytearray(base64.b64decode(sealed["sealed"]["data"]))
    data[0] ^= 1
    sealed["sealed"]["data"] = base64.b64encode(bytes(data)).decode()
    split = split_sealed(sealed_bytes(sealed))
    assert split is not None
    with pytest.raises(SealError, match="tampered"):
        unseal(*split, key.secret)


def test_a_seal_moved_onto_another_event_does_not_open() -> None:
    _, _, record = record_of(PERSONAL_BODIES[0])
    key = new_data_key([EMAIL])
    sealed = seal(record, key)
    sealed["event_id"] = "someone-else"
    split = split_sealed(sealed_bytes(sealed))
    assert split is not None
    with pytest.raises(SealError):
        unseal(*split, key.secret)


@pytest.mark.parametrize(
    "seal_part",
    [{"v": 2, "key": "k", "nonce": "", "data": ""}, {"v": 1}, "text", {"v": 1, "key": "k", "nonce": "!", "data": ""}],
)
def test_a_malformed_seal_is_a_clear_error(seal_part: object) -> None:
    raw = sealed_bytes({"event_id": "e1", "type": "survey_response", "sealed": seal_part})
    with pytest.raises(SealError):
        _split_and_open(raw)


def _split_and_open(raw: bytes) -> None:
    split = split_sealed(raw)
    assert split is not None
    unseal(*split, KEK)


def test_a_data_key_unwraps_only_with_its_kek_and_its_id() -> None:
    key = new_data_key([EMAIL, "jane"])
    wrapped = wrap_key(key, KEK)
    assert key.secret not in wrapped
    assert EMAIL.encode() not in wrapped
    assert unwrap_key(key.key_id, wrapped, KEK) == key
    with pytest.raises(SealError, match="another PERSONAL_DATA_KEY"):
        unwrap_key(key.key_id, wrapped, b"x" * 32)
    with pytest.raises(SealError, match="does not open"):
        unwrap_key("another-id", wrapped, KEK)


def test_subjects_compare_emails_case_insensitively_and_ids_exactly() -> None:
    assert subject_matches("Jane.Doe@Acme.example", [EMAIL])
    assert not subject_matches("Jane", ["jane"])
    assert subject_matches("jane", ["jane"])
    _, _, record = record_of(PERSONAL_BODIES[2])
    assert subjects_of(record) == (EMAIL, "zendesk:user:1")


def test_a_record_key_never_holds_an_email() -> None:
    event = EVENT_ADAPTER.validate_python(PERSONAL_BODIES[1] | {"identities": {"stakeholder": [EMAIL]}})
    key = event_key(event, secret=b"s" * 32)
    assert EMAIL not in key
    assert key == record_key_digest(EMAIL.upper(), b"s" * 32)  # every spelling shares a partition
    assert key != event_key(event, secret=b"t" * 32)  # keyed: a guess cannot be confirmed without the KEK


def test_the_kek_is_required_in_production_and_must_be_32_bytes() -> None:
    assert ServiceSettings(_env_file=None, environment="test").personal_data_kek == base64.b64decode(
        DEVELOPMENT_PERSONAL_DATA_KEY
    )
    with pytest.raises(ValueError, match="required in production"):
        ServiceSettings(_env_file=None, environment="production").refuse_missing_kek()
    with pytest.raises(ValueError, match="development key"):
        ServiceSettings(
            _env_file=None, environment="production", personal_data_key=SecretStr(DEVELOPMENT_PERSONAL_DATA_KEY)
        ).refuse_missing_kek()
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        ServiceSettings(_env_file=None, personal_data_key=SecretStr("changeme"))
    real = base64.b64encode(b"r" * 32).decode()
    production = ServiceSettings(_env_file=None, environment="production", personal_data_key=SecretStr(real))
    production.refuse_missing_kek()
    assert production.personal_data_kek == b"r" * 32
