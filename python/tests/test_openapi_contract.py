"""No drift: every path, method and model of the client against the running service's own OpenAPI document."""

from __future__ import annotations

import httpx

from .openapi_check import check_document
from .service import Service


def test_every_client_endpoint_and_model_matches_the_services_openapi(pylon_service: Service) -> None:
    response = httpx.get(f"{pylon_service.url}/schema/openapi.json", timeout=30)
    assert response.status_code == 200
    document = response.json()
    assert document.get("paths"), "the service's OpenAPI document lists no paths"
    problems = check_document(document)
    assert problems == [], "client/service drift:\n" + "\n".join(problems)
