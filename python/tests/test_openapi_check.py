"""The OpenAPI drift checker itself: silent on a document that matches the client, loud on each kind of drift."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pylon_client._endpoints import ALL_ENDPOINTS, EVENTS

from .openapi_check import REQUEST_BODIES, check_document

REF = "#/components/schemas/{model}"


def _add(components: dict[str, Any], model: type[Any], mode: str) -> dict[str, str]:
    schema = model.model_json_schema(mode=mode, ref_template=REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def matching_document() -> dict[str, Any]:
    """An OpenAPI document describing exactly what the client expects, in the service's style."""
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for endpoint in ALL_ENDPOINTS:
        for template in endpoint.templates().values():
            operation: dict[str, Any] = {
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": _add(components, endpoint.response, "validation")}}
                    }
                }
            }
            body = REQUEST_BODIES.get(endpoint.name)
            if body is not None:
                operation["requestBody"] = {
                    "content": {"application/json": {"schema": _add(components, body, "serialization")}}
                }
            # The service may name path parameters differently; only their positions matter.
            path = template.replace("{identity_name}", "{identity}").replace("{netuid}", "{netuid:int}")
            paths.setdefault(path, {})[endpoint.method.lower()] = operation
    for template in EVENTS.templates().values():
        stream = {"responses": {"200": {"content": {"text/event-stream": {"schema": {"type": "string"}}}}}}
        paths.setdefault(template, {})["get"] = stream
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": components}}


def test_a_matching_document_has_no_drift() -> None:
    assert check_document(matching_document()) == []


def test_a_missing_path_is_reported() -> None:
    document = matching_document()
    del document["paths"]["/api/v1/subnet/{netuid:int}/block/recent/neurons"]
    assert check_document(document) == [
        "GET /api/v1/subnet/{netuid}/block/recent/neurons: path missing from the service"
    ]


def test_a_missing_or_json_event_stream_is_reported() -> None:
    document = matching_document()
    del document["paths"]["/api/v1/subnet/{netuid}/events"]
    stream = document["paths"]["/api/v1/identity/{identity_name}/subnet/{netuid}/events"]["get"]
    stream["responses"]["200"]["content"] = {"application/json": {"schema": {"type": "object"}}}
    assert check_document(document) == [
        "GET /api/v1/subnet/{netuid}/events: the service has no such stream",
        "GET /api/v1/identity/{identity_name}/subnet/{netuid}/events: the service does not document a "
        "text/event-stream answer",
    ]


def test_a_missing_method_is_reported() -> None:
    document = matching_document()
    document["paths"]["/api/v1/identity/{identity}/subnet/{netuid:int}/weights"]["post"] = document["paths"][
        "/api/v1/identity/{identity}/subnet/{netuid:int}/weights"
    ].pop("put")
    [problem] = check_document(document)
    assert "does not accept PUT" in problem


def test_a_field_the_client_needs_is_reported_when_missing_or_optional() -> None:
    document = matching_document()
    neuron = document["components"]["schemas"]["Neuron"]
    del neuron["properties"]["validator_permit"]
    problems = check_document(document)
    assert problems
    assert all("validator_permit: the client requires it, the service does not document it" in p for p in problems)
    document = matching_document()
    document["components"]["schemas"]["Block"]["required"].remove("hash")
    assert any("hash: the client requires it, the service marks it optional" in p for p in check_document(document))


def test_an_incompatible_type_is_reported() -> None:
    document = matching_document()
    document["components"]["schemas"]["Block"]["properties"]["number"] = {"type": "string"}
    problems = check_document(document)
    assert problems
    assert any("number: client expects ['integer'], service documents ['string']" in p for p in problems)


def test_an_optional_field_of_an_incompatible_type_is_reported() -> None:
    document = matching_document()
    document["components"]["schemas"]["SetWeightsResponse"]["properties"]["job_id"] = {"type": "string"}
    problems = check_document(document)
    assert any("job_id: client expects ['integer', 'null'], service documents ['string']" in p for p in problems)


def test_an_optional_field_the_service_does_not_document_is_fine() -> None:
    document = matching_document()
    del document["components"]["schemas"]["SetWeightsResponse"]["properties"]["superseded_job_id"]
    assert check_document(document) == []


def test_an_integer_where_the_client_reads_a_float_is_fine() -> None:
    document = matching_document()
    document["components"]["schemas"]["Neuron"]["properties"]["stake"] = {"type": "integer"}
    assert check_document(document) == []


@pytest.mark.parametrize("field", ["weights"])
def test_a_request_body_field_the_service_does_not_know_is_reported(field: str) -> None:
    document = matching_document()
    body = document["components"]["schemas"]["SetWeightsBody"]
    body["properties"] = {"scores": copy.deepcopy(body["properties"][field])}
    body["required"] = ["scores"]
    problems = check_document(document)
    assert any("body.scores: required by the service, never sent by the client" in p for p in problems)
    assert any("body.weights: sent by the client, unknown to the service" in p for p in problems)


def test_certificates_may_be_a_bare_mapping() -> None:
    document = matching_document()
    wrapped = document["components"]["schemas"]["GetCertificatesResponse"]
    document["components"]["schemas"]["GetCertificatesResponse"] = wrapped["properties"]["certificates"]
    assert check_document(document) == []


def test_response_refs_and_media_type_parameters_are_understood() -> None:
    document = matching_document()
    responses: dict[str, Any] = {}
    for item in document["paths"].values():
        for operation in item.values():
            ok = operation["responses"]["200"]
            if "application/json" in ok["content"]:
                ok["content"] = {"application/json; charset=utf-8": ok["content"]["application/json"]}
            name = f"Response{len(responses)}"
            responses[name] = ok
            operation["responses"]["200"] = {"$ref": f"#/components/responses/{name}"}
    document["components"]["responses"] = responses
    assert check_document(document) == []
