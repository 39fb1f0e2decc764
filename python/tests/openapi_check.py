"""Compare the client's endpoint table and models with a service's OpenAPI document.

Reports drift as readable lines; an empty list means every client path and method exists, and every field the
client reads is one the service documents, with a compatible JSON type (and the bodies the client sends are what
the service expects). Fields the service adds are fine: the client ignores them.
"""

from __future__ import annotations

import re
from typing import Any

from pylon_client._endpoints import ALL_ENDPOINTS, EVENTS, Endpoint
from pylon_client._models import (
    GenerateCertificateKeypairBody,
    PylonBody,
    SetCommitmentBody,
    SetRevealedCommitmentBody,
    SetWeightsBody,
)

Schema = dict[str, Any]

REQUEST_BODIES: dict[str, type[PylonBody]] = {
    "put_weights": SetWeightsBody,
    "set_commitment": SetCommitmentBody,
    "set_revealed_commitment": SetRevealedCommitmentBody,
    "generate_certificate_keypair": GenerateCertificateKeypairBody,
}
# Responses the client also accepts as a bare mapping (the model wraps it under this field).
BARE_MAPPING_FIELD = {"get_certificates": "certificates"}


def normalise(path: str) -> str:
    """Path parameters compared by position only: `{netuid}` and `{netuid:int}` are the same slot."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


class Resolver:
    def __init__(self, document: Schema, defs_key: str) -> None:
        self.document = document
        self.defs_key = defs_key

    def __call__(self, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema and seen < 50:
            target: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                target = target[part]
            schema = target
            seen += 1
        return schema


def _branches(schema: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return list(schema[key])
    return [schema]


def _json_types(schema: Schema, resolve: Resolver) -> set[str]:
    types: set[str] = set()
    for branch in _branches(resolve(schema)):
        branch = resolve(branch)
        kind = branch.get("type")
        if isinstance(kind, list):
            types.update(kind)
        elif isinstance(kind, str):
            types.add(kind)
        elif "properties" in branch or "additionalProperties" in branch:
            types.add("object")
        elif "enum" in branch or "const" in branch:
            values = branch.get("enum", [branch.get("const")])
            types.update("integer" if isinstance(v, int) else "string" for v in values)
    return types


def _compatible(ours: set[str], theirs: set[str]) -> bool:
    if not ours or not theirs:
        return True  # an unconstrained schema accepts anything
    widened = set(theirs)
    if "integer" in widened:
        widened.add("number")  # the client reads an integer where it expects a number
    return bool((ours - {"null"}) & widened) or ours == {"null"}


def compare(ours: Schema, theirs: Schema, where: str, our_resolve: Resolver, their_resolve: Resolver) -> list[str]:
    """What the client reads (`ours`) must be produced by the service (`theirs`)."""
    ours, theirs = our_resolve(ours), their_resolve(theirs)
    problems: list[str] = []
    our_types, their_types = _json_types(ours, our_resolve), _json_types(theirs, their_resolve)
    if not _compatible(our_types, their_types):
        return [f"{where}: client expects {sorted(our_types)}, service documents {sorted(their_types)}"]
    our_objects = [b for b in map(our_resolve, _branches(ours)) if "properties" in b or "additionalProperties" in b]
    their_objects = [
        b for b in map(their_resolve, _branches(theirs)) if "properties" in b or "additionalProperties" in b
    ]
    if not our_objects or not their_objects:
        if "items" in ours and "items" in theirs:
            problems += compare(ours["items"], theirs["items"], f"{where}[]", our_resolve, their_resolve)
        return problems
    our_obj, their_obj = our_objects[0], their_objects[0]
    their_props: Schema = their_obj.get("properties", {})
    for name in our_obj.get("required", []):
        if name not in their_props:
            problems.append(f"{where}.{name}: the client requires it, the service does not document it")
            continue
        if name not in their_obj.get("required", []) and "default" not in our_obj["properties"][name]:
            problems.append(f"{where}.{name}: the client requires it, the service marks it optional")
        problems += compare(
            our_obj["properties"][name], their_props[name], f"{where}.{name}", our_resolve, their_resolve
        )
    # A field the client reads when present (it has a default) must still have the type the service documents.
    for name, prop in our_obj.get("properties", {}).items():
        if name not in our_obj.get("required", []) and name in their_props:
            problems += compare(prop, their_props[name], f"{where}.{name}", our_resolve, their_resolve)
    our_values, their_values = our_obj.get("additionalProperties"), their_obj.get("additionalProperties")
    if isinstance(our_values, dict):
        if isinstance(their_values, dict):
            problems += compare(our_values, their_values, f"{where}{{*}}", our_resolve, their_resolve)
        elif not their_props:
            pass  # a free-form object: nothing more to compare
        else:
            problems.append(f"{where}: the client expects a mapping, the service documents fixed fields")
    return problems


def _json_schema_of(content: Schema) -> Schema | None:
    for media_type, body in content.items():
        if media_type.split(";")[0].strip() == "application/json":
            schema: Schema | None = body.get("schema")
            return schema
    return None


def _operation_response(operation: Schema, resolve: Resolver) -> Schema | None:
    for status in ("200", "201", "202"):
        response = operation.get("responses", {}).get(status)
        if response is None:
            continue
        response = resolve(response)
        if "content" in response:
            return _json_schema_of(response["content"])
    return None


def _our_schema(model: type[Any]) -> tuple[Schema, Resolver]:
    schema = model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    return schema, Resolver(schema, "$defs")


def check_endpoint(endpoint: Endpoint[Any], document: Schema) -> list[str]:
    paths = {normalise(path): item for path, item in document.get("paths", {}).items()}
    their_resolve = Resolver(document, "components")
    problems: list[str] = []
    for template in endpoint.templates().values():
        label = f"{endpoint.method} {template}"
        item = paths.get(normalise(template))
        if item is None:
            problems.append(f"{label}: path missing from the service")
            continue
        operation = item.get(endpoint.method.lower())
        if operation is None:
            problems.append(f"{label}: the service does not accept {endpoint.method} here")
            continue
        theirs = _operation_response(operation, their_resolve)
        if theirs is None:
            problems.append(f"{label}: no documented JSON success response")
        else:
            ours, our_resolve = _our_schema(endpoint.response)
            wrapped = BARE_MAPPING_FIELD.get(endpoint.name)
            theirs_resolved = their_resolve(theirs)
            if wrapped and wrapped not in theirs_resolved.get("properties", {}):
                ours = ours["properties"][wrapped]
            problems += compare(ours, theirs, f"{label} response", our_resolve, their_resolve)
        body_model = REQUEST_BODIES.get(endpoint.name)
        if body_model is not None:
            problems += _check_request_body(label, body_model, operation, their_resolve)
    return problems


def _check_request_body(label: str, body: type[PylonBody], operation: Schema, their_resolve: Resolver) -> list[str]:
    schema = _json_schema_of(their_resolve(operation.get("requestBody", {})).get("content", {}))
    if schema is None:
        return [f"{label}: the service documents no JSON request body"]
    theirs = their_resolve(schema)
    ours, our_resolve = _our_schema(body)
    problems = []
    for name in theirs.get("required", []):
        if name not in ours.get("properties", {}):
            problems.append(f"{label} body.{name}: required by the service, never sent by the client")
    for name, prop in ours.get("properties", {}).items():
        if name not in theirs.get("properties", {}):
            problems.append(f"{label} body.{name}: sent by the client, unknown to the service")
        else:
            # The body flows the other way: what the client sends must be what the service reads.
            problems += compare(theirs["properties"][name], prop, f"{label} body.{name}", their_resolve, our_resolve)
    return problems


def check_stream(endpoint: Endpoint[Any], document: Schema) -> list[str]:
    """The event stream: its paths accept GET and answer `text/event-stream` (its events are not JSON bodies:
    their fields are tested end to end)."""
    paths = {normalise(path): item for path, item in document.get("paths", {}).items()}
    resolve = Resolver(document, "components")
    problems: list[str] = []
    for template in endpoint.templates().values():
        label = f"{endpoint.method} {template}"
        operation = paths.get(normalise(template), {}).get(endpoint.method.lower())
        if operation is None:
            problems.append(f"{label}: the service has no such stream")
            continue
        content = resolve(operation.get("responses", {}).get("200", {})).get("content", {})
        if not any(media.split(";")[0].strip() == "text/event-stream" for media in content):
            problems.append(f"{label}: the service does not document a text/event-stream answer")
    return problems


def check_document(document: Schema) -> list[str]:
    problems: list[str] = []
    for endpoint in ALL_ENDPOINTS:
        problems += check_endpoint(endpoint, document)
    problems += check_stream(EVENTS, document)
    return problems
