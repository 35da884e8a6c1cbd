"""Sealing the personal data of an event record (docs/operations.md, "Personal data on the events topic").

Pure functions, no I/O. Ingest takes the personal fields out of a record and puts them, encrypted
with a data key (AES-256-GCM, the event id as associated data), under ``sealed``; the analyzer opens
them with the same key. Data keys travel on the keys topic wrapped with the key-encryption key
(``PERSONAL_DATA_KEY``). Deleting a data key (a tombstone on the compacted keys topic) makes every
record sealed with it unreadable for good: crypto-shredding.

Sealed fields: a survey response's ``stakeholder_id``, ``identities.stakeholder`` and ``comment``;
a stakeholder event's ``stakeholder_id``, ``name`` and ``aliases``; a journey moment's
``stakeholder_id``. Account events hold company data and are never sealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEAL_VERSION: Final = 1
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
# A marker no plaintext record holds outside a string value: a cheap test before parsing a record.
_SEALED_MARKER: Final = b'"sealed"'

# The personal fields per event type, as paths into the record's JSON.
PERSONAL_FIELDS: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "survey_response": (("stakeholder_id",), ("identities", "stakeholder"), ("comment",)),
    "stakeholder": (("stakeholder_id",), ("name",), ("aliases",)),
    "journey_moment": (("stakeholder_id",),),
}
# The fields that name the person (the subjects a data key is erased by).
_SUBJECT_FIELDS: Final = (("stakeholder_id",), ("identities", "stakeholder"), ("aliases",))


class SealError(ValueError):
    """A sealed record, or a wrapped data key, is malformed or does not open (tampered, wrong key)."""


@dataclass(frozen=True, slots=True)
class DataKey:
    """A data key: its id (the Kafka key on the keys topic), the AES-256 key, and whom it seals."""

    key_id: str
    secret: bytes
    subjects: tuple[str, ...]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise SealError(f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SealError(f"{what} is not valid base64") from exc


def new_data_key(subjects: Iterable[str]) -> DataKey:
    """A fresh random 256-bit data key with a random id, for ``subjects``."""
    return DataKey(key_id=os.urandom(16).hex(), secret=AESGCM.generate_key(bit_length=256), subjects=tuple(subjects))


def subject_matches(subject: str, wanted: Iterable[str]) -> bool:
    """Whether ``subject`` is one of ``wanted``: e-mail addresses compare case-insensitively, ids exactly."""
    folded = subject.casefold() if "@" in subject else subject
    return any(folded == (w.casefold() if "@" in w else w) for w in wanted)


def subjects_of(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The person ids and identities a record names (in order, without repeats)."""
    found: list[str] = []
    for path in _SUBJECT_FIELDS:
        value = _get(record, path)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item not in found:
                found.append(item)
    return tuple(found)


def personal_part(record: dict[str, Any]) -> dict[str, Any]:
    """Remove the personal fields from ``record`` (in place) and return them, nested as they were."""
    taken: dict[str, Any] = {}
    for path in PERSONAL_FIELDS.get(str(record.get("type")), ()):
        parent: Any = record
        for step in path[:-1]:
            parent = parent.get(step) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            value = parent.pop(path[-1])
            target = taken
            for step in path[:-1]:
                target = target.setdefault(step, {})
            target[path[-1]] = value
    return taken


def seal(record: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """The record with its personal fields encrypted under ``sealed`` (unchanged if it has none).

    ``record`` must carry its ``event_id``: it is the associated data, so a seal moved onto another
    record does not open.
    """
    event_id = record.get("event_id")
    if not isinstance(event_id, str):
        raise SealError("a record is sealed only once it has its event_id")
    open_part = dict(record)
    if "identities" in open_part and isinstance(open_part["identities"], dict):
        open_part["identities"] = dict(open_part["identities"])  # personal_part edits it in place
    taken = personal_part(open_part)
    if not taken:
        return record
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(taken, separators=(",", ":"), ensure_ascii=False).encode()
    data = AESGCM(key.secret).encrypt(nonce, plaintext, event_id.encode())
    open_part["sealed"] = {"v": SEAL_VERSION, "key": key.key_id, "nonce": _b64(nonce), "data": _b64(data)}
    return open_part


def is_sealed(raw: bytes) -> bool:
    """Whether a record value may be sealed (cheap; ``sealed_key_id`` decides)."""
    return _SEALED_MARKER in raw


def sealed_key_id(raw: bytes) -> str | None:
    """The data key id a sealed record names; None for a plaintext (or unparsable) record."""
    if not is_sealed(raw):
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    seal_part = record.get("sealed") if isinstance(record, dict) else None
    key_id = seal_part.get("key") if isinstance(seal_part, dict) else None
    return key_id if isinstance(key_id, str) else None


def split_sealed(raw: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(open part, seal)`` of a sealed record; None for a plaintext one. Raises ``SealError`` if malformed."""
    if not is_sealed(raw):
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None  # not JSON at all: the event decoder reports it
    if not isinstance(record, dict) or "sealed" not in record:
        return None
    seal_part = record.pop("sealed")
    if (
        not isinstance(seal_part, dict)
        or seal_part.get("v") != SEAL_VERSION
        or not isinstance(seal_part.get("key"), str)
    ):
        raise SealError(f"sealed personal data in an unknown format (this analyzer reads version {SEAL_VERSION})")
    return record, seal_part


def unseal(record: dict[str, Any], seal_part: Mapping[str, Any], secret: bytes) -> dict[str, Any]:
    """The record with its personal fields decrypted and put back; ``SealError`` if the seal does not open."""
    event_id = record.get("event_id")
    if not isinstance(event_id, str):
        raise SealError("a sealed record must carry its event_id")
    nonce = _unb64(seal_part.get("nonce"), "sealed.nonce")
    data = _unb64(seal_part.get("data"), "sealed.data")
    if len(nonce) != NONCE_BYTES:
        raise SealError("sealed.nonce has the wrong length")
    try:
        plaintext = AESGCM(secret).decrypt(nonce, data, event_id.encode())
        taken = json.loads(plaintext)
    except (InvalidTag, ValueError) as exc:
        raise SealError("the sealed personal data does not open with its key (tampered or corrupted)") from exc
    if not isinstance(taken, dict):
        raise SealError("the sealed personal data is not a JSON object")
    return _merge(record, taken)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = value
    return merged


def _get(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


# ------------------------------------------------------------------ data keys on the keys topic


def kek_fingerprint(kek: bytes) -> str:
    """A short digest naming the key-encryption key a data key was wrapped with (reveals nothing of it)."""
    return hashlib.sha256(b"feedback-kek-fingerprint\x00" + kek).hexdigest()[:16]


def wrap_key(key: DataKey, kek: bytes) -> bytes:
    """The keys-topic value of a data key: the key and its subjects, AES-GCM under the KEK, bound to the key id."""
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps({"key": _b64(key.secret), "subjects": list(key.subjects)}, separators=(",", ":")).encode()
    data = AESGCM(kek).encrypt(nonce, plaintext, key.key_id.encode())
    value = {"v": SEAL_VERSION, "kek": kek_fingerprint(kek), "nonce": _b64(nonce), "data": _b64(data)}
    return json.dumps(value, separators=(",", ":")).encode()


def unwrap_key(key_id: str, value: bytes, kek: bytes) -> DataKey:
    """The data key of a keys-topic record; ``SealError`` saying why if it cannot be read."""
    try:
        wrapped = json.loads(value)
    except ValueError as exc:
        raise SealError("the wrapped data key is not JSON") from exc
    if not isinstance(wrapped, dict) or wrapped.get("v") != SEAL_VERSION:
        raise SealError("the wrapped data key is in an unknown format")
    if not hmac.compare_digest(str(wrapped.get("kek")).encode(), kek_fingerprint(kek).encode()):
        raise SealError("the data key was wrapped with another PERSONAL_DATA_KEY than this service's")
    nonce = _unb64(wrapped.get("nonce"), "the wrapped key's nonce")
    data = _unb64(wrapped.get("data"), "the wrapped key's data")
    try:
        content = json.loads(AESGCM(kek).decrypt(nonce, data, key_id.encode()))
    except (InvalidTag, ValueError) as exc:
        raise SealError("the wrapped data key does not open with PERSONAL_DATA_KEY (tampered or moved)") from exc
    secret = _unb64(content.get("key") if isinstance(content, dict) else None, "the data key")
    subjects = content.get("subjects")
    if len(secret) != KEY_BYTES or not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
        raise SealError("the wrapped data key holds no 256-bit key and subjects")
    return DataKey(key_id, secret, tuple(subjects))


def identity_key_secret(kek: bytes) -> bytes:
    """The key of ``record_key_digest``, derived from the KEK (one secret to configure, not two)."""
    return hmac.new(kek, b"feedback-record-key", hashlib.sha256).digest()


def record_key_digest(identity: str, secret: bytes) -> str:
    """A Kafka record key for a person identity: a keyed digest, so no e-mail is in a record key.

    Keyed (HMAC-SHA-256 under a key derived from the KEK), so a Kafka reader cannot confirm a guessed
    address by hashing it. Case-folded, so every spelling of one address shares a partition.
    """
    digest = hmac.new(secret, b"record-key\x00" + identity.casefold().encode(), hashlib.sha256).hexdigest()
    return f"person:{digest[:32]}"
