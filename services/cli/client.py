"""A small HTTP client of one service's API that turns every failure into a ``CliError``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from services.cli.errors import CannotConnect, ServiceError

USER_AGENT = "feedback-cli"


class ApiClient:
    """Calls one service (``name`` is ``ingest`` or ``analyzer``, used in messages) with its bearer key."""

    def __init__(self, name: str, base_url: str, key: str, *, timeout_s: float) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
            timeout=timeout_s,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> httpx.Response:
        """The raw response, whatever its status; ``CannotConnect`` if there is none."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self._http.request(method, path, json=json, params=query)
        except httpx.TimeoutException as exc:
            what = type(exc).__name__
            raise CannotConnect(f"{self.name} at {self.base_url} did not answer in time ({what})") from exc
        except httpx.TransportError as exc:
            raise CannotConnect(f"cannot connect to {self.name} at {self.base_url}: {exc}") from exc

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON body of a 2xx answer (None for 204); ``ServiceError`` for any other status."""
        response = self.send(method, path, json=json, params=params)
        if response.is_success:
            return None if response.status_code == 204 or not response.content else response.json()
        raise service_error(self.name, response)


def service_error(name: str, response: httpx.Response) -> ServiceError:
    """The error a non-2xx answer means, with the service's own words (``{"error", "detail"}``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        error, detail = str(body["error"]), body.get("detail")
    else:
        error, detail = "http_error", response.text[:500] or None
    message = f"{name} answered {response.status_code} {error}"
    if detail:
        message += f": {describe_detail(detail)}"
    if response.status_code == 401:
        message += " (check the API key)"
    retry_after = response.headers.get("retry-after")
    if retry_after:
        message += f" (retry after {retry_after}s)"
    return ServiceError(message, details={"status": response.status_code, "error": error, "detail": detail})


def describe_detail(detail: Any) -> str:
    """The error body's ``detail`` on one line: field errors as ``field: message``."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "message" in item:
                where = ".".join(str(p) for p in (item.get("index"), item.get("field")) if p not in (None, ""))
                parts.append(f"{where}: {item['message']}" if where else str(item["message"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def segment(value: str) -> str:
    """``value`` as one path segment (a ``/`` or ``?`` in an id cannot reach another route)."""
    return quote(value, safe="")
