"""SURVEY_LINK_SECRET: at least 32 characters, no placeholder in production, required there with link vendors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from services.ingest.settings import IngestSettings
from tests.factories import PERSONAL_DATA_KEY

REAL = "a-real-survey-link-secret-of-40-characters"


def settings(**values: Any) -> IngestSettings:
    # A real key-encryption key too: production also requires PERSONAL_DATA_KEY.
    return IngestSettings(
        _env_file=None,
        ingest_api_keys=[SecretStr("a-real-key")],
        personal_data_key=SecretStr(PERSONAL_DATA_KEY),
        **values,
    )


def test_a_real_secret_is_taken_and_kept_secret() -> None:
    loaded = settings(environment="production", survey_link_secret=REAL, webhook_secret_typeform="tf")
    assert loaded.link_secret() == REAL
    assert REAL not in repr(loaded)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        settings(environment="development", survey_link_secret="short")


@pytest.mark.parametrize(
    "placeholder", ["dev-survey-link-secret-not-for-production", "changeme-survey-link-secret-32-chars-min"]
)
def test_the_placeholders_are_refused_in_production_only(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="SURVEY_LINK_SECRET holds a development placeholder key"):
        settings(environment="production", survey_link_secret=placeholder)
    assert settings(environment="development", survey_link_secret=placeholder).link_secret() == placeholder


@pytest.mark.parametrize("vendor", ["typeform", "delighted"])
def test_production_with_a_link_vendor_needs_the_secret(vendor: str) -> None:
    with pytest.raises(ValidationError, match="SURVEY_LINK_SECRET is required in production"):
        settings(environment="production", **{f"webhook_secret_{vendor}": "vendor-secret"})
    settings(environment="production", webhook_secret_zendesk="zendesk-secret")  # no link vendor: optional
    settings(environment="development", **{f"webhook_secret_{vendor}": "vendor-secret"})
