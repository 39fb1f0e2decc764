//! `/schema/openapi.json`, built from the wire types' own schemas, and `/schema/swagger` (Swagger
//! UI loaded from a CDN, so nothing is bundled at build time).

use std::sync::{Arc, OnceLock};

use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::state::AppState;
use crate::wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pylon",
        description = "Cached access to the Bittensor chain, and writes signed by the identities' hotkeys (v1 API)."
    ),
    components(schemas(
        wire::Block,
        wire::BlockInfo,
        wire::AxonInfo,
        wire::Stakes,
        wire::Neuron,
        wire::NeuronsResponse,
        wire::ValidatorsResponse,
        wire::NeuronCertificate,
        wire::CertificatesResponse,
        wire::CommitmentsResponse,
        wire::CommitmentResponse,
        wire::RevealedCommitment,
        wire::RevealedCommitmentsResponse,
        wire::HotkeyRevealedCommitmentsResponse,
        wire::ExtrinsicCallArg,
        wire::ExtrinsicCall,
        wire::ExtrinsicResponse,
        wire::IdentitiesResponse,
        wire::ErrorResponse,
        wire::Epoch,
        wire::SetWeightsBody,
        wire::SetWeightsResponse,
        wire::WeightsJob,
        wire::CommitPlan,
        wire::WeightsSubmitted,
        wire::SetCommitmentBody,
        wire::SetCommitmentResponse,
        wire::SetRevealedCommitmentBody,
        wire::SetRevealedCommitmentResponse,
        wire::GenerateCertificateBody,
        wire::CertificateKeypair,
    ))
)]
struct Components;

/// (path relative to the subnet prefix, summary, response schema); all are GETs.
const SUBNET_ROUTES: &[(&str, &str, &str)] = &[
    (
        "/block/latest",
        "Latest block: number, hash, timestamp",
        "BlockInfo",
    ),
    (
        "/block/latest/neurons",
        "Neurons at the latest block",
        "NeuronsResponse",
    ),
    (
        "/block/recent/neurons",
        "Newest neurons already fetched",
        "NeuronsResponse",
    ),
    (
        "/block/{block_number}/neurons",
        "Neurons at a block",
        "NeuronsResponse",
    ),
    (
        "/block/latest/validators",
        "Validators at the latest block",
        "ValidatorsResponse",
    ),
    (
        "/block/{block_number}/validators",
        "Validators at a block",
        "ValidatorsResponse",
    ),
    (
        "/block/{block_number}/extrinsic/{extrinsic_index}",
        "One extrinsic, decoded by the chain's metadata",
        "ExtrinsicResponse",
    ),
    (
        "/block/latest/certificates",
        "Every certificate on the subnet",
        "CertificatesResponse",
    ),
    (
        "/block/latest/certificates/self",
        "The identity's certificate",
        "NeuronCertificate",
    ),
    (
        "/block/latest/certificates/{hotkey}",
        "A hotkey's certificate",
        "NeuronCertificate",
    ),
    (
        "/block/latest/commitments",
        "Every commitment on the subnet",
        "CommitmentsResponse",
    ),
    (
        "/block/latest/commitments/self",
        "The identity's commitment",
        "CommitmentResponse",
    ),
    (
        "/block/latest/commitments/{hotkey}",
        "A hotkey's commitment",
        "CommitmentResponse",
    ),
    (
        "/block/latest/commitments/revealed",
        "Every revealed commitment on the subnet",
        "RevealedCommitmentsResponse",
    ),
    (
        "/block/latest/commitments/revealed/self",
        "The identity's revealed commitments",
        "HotkeyRevealedCommitmentsResponse",
    ),
    (
        "/block/latest/commitments/revealed/{hotkey}",
        "A hotkey's revealed commitments",
        "HotkeyRevealedCommitmentsResponse",
    ),
];

/// A write route of identities (relative to the identity prefix).
struct WriteRoute {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    status: &'static str,
    response: &'static str,
}

const WRITE_ROUTES: &[WriteRoute] = &[
    WriteRoute {
        method: "put",
        path: "/weights",
        summary: "Set weights: recorded as a job and submitted in the background (CRv4 commit when the subnet has commit-reveal on)",
        body: Some("SetWeightsBody"),
        status: "200",
        response: "SetWeightsResponse",
    },
    WriteRoute {
        method: "put",
        path: "/mechanism/{mechanism_id}/weights",
        summary: "Set weights for one mechanism of the subnet",
        body: Some("SetWeightsBody"),
        status: "200",
        response: "SetWeightsResponse",
    },
    WriteRoute {
        method: "get",
        path: "/weights/status",
        summary: "The identity's newest weights job",
        body: None,
        status: "200",
        response: "WeightsJob",
    },
    WriteRoute {
        method: "get",
        path: "/mechanism/{mechanism_id}/weights/status",
        summary: "The identity's newest weights job for a mechanism",
        body: None,
        status: "200",
        response: "WeightsJob",
    },
    WriteRoute {
        method: "get",
        path: "/mechanism/{mechanism_id}/block/{block_number}/weights/status",
        summary: "Whether weights were included during the epoch containing the block",
        body: None,
        status: "200",
        response: "WeightsSubmitted",
    },
    WriteRoute {
        method: "post",
        path: "/commitments",
        summary: "Publish the identity's commitment (answered once included)",
        body: Some("SetCommitmentBody"),
        status: "201",
        response: "SetCommitmentResponse",
    },
    WriteRoute {
        method: "post",
        path: "/commitments/revealed",
        summary: "Publish a commitment timelocked until a drand round (answered once included)",
        body: Some("SetRevealedCommitmentBody"),
        status: "201",
        response: "SetRevealedCommitmentResponse",
    },
    WriteRoute {
        method: "post",
        path: "/certificates/self",
        summary: "Generate an Ed25519 keypair and publish its certificate with the identity's axon",
        body: Some("GenerateCertificateBody"),
        status: "201",
        response: "CertificateKeypair",
    },
];

/// Routes about the chain rather than a subnet (open-access token): relative to `/api/v1`.
const CHAIN_ROUTES: &[(&str, &str, &str)] = &[
    (
        "/block/latest",
        "Latest block: number, hash, timestamp",
        "BlockInfo",
    ),
    (
        "/block/{block_number}/extrinsic/{extrinsic_index}",
        "One extrinsic, decoded by the chain's metadata",
        "ExtrinsicResponse",
    ),
];

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/schema/openapi.json",
            get(|| async {
                ([(CONTENT_TYPE, "application/json")], document().to_string()).into_response()
            }),
        )
        .route("/schema/swagger", get(|| async { Html(SWAGGER) }))
}

/// A path parameter with the range or shape its parser accepts, so that every request the
/// document calls valid gets past input validation (anything else is a 400 naming the field).
fn parameter(name: &str) -> Value {
    let schema = match name {
        "netuid" => json!({"type": "integer", "minimum": 0, "maximum": u16::MAX}),
        "mechanism_id" => json!({"type": "integer", "minimum": 0, "maximum": u8::MAX}),
        "block_number" | "extrinsic_index" => {
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
        }
        // Neither the base58 alphabet's use nor the checksum is a JSON-schema pattern: the format
        // names the rule, and an address breaking it is a 400 naming the field.
        "hotkey" => json!({"type": "string", "format": "ss58",
                           "description": "An SS58 address (checksum included), e.g. 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}),
        _ => json!({"type": "string"}),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn error(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/json": {"schema": schema_ref("ErrorResponse")}}})
}

/// The whole document (built once).
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(Components::openapi()).expect("serializable");
        let mut paths = Map::new();
        for (prefix, identity) in [
            ("/api/v1/subnet/{netuid}", false),
            ("/api/v1/identity/{name}/subnet/{netuid}", true),
        ] {
            for (path, summary, response) in SUBNET_ROUTES {
                if path.ends_with("/self") && !identity {
                    continue; // `self` is the identity's own hotkey
                }
                let mut params = vec![parameter("netuid")];
                if identity {
                    params.push(parameter("name"));
                }
                for field in ["block_number", "extrinsic_index", "hotkey"] {
                    if path.contains(&format!("{{{field}}}")) {
                        params.push(parameter(field));
                    }
                }
                paths.insert(
                    format!("{prefix}{path}"),
                    json!({"get": {
                        "summary": summary,
                        "parameters": params,
                        "security": [{"bearer": []}],
                        "responses": {
                            "200": {"description": "OK",
                                    "content": {"application/json": {"schema": schema_ref(response)}}},
                            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                            "400": error("Malformed path parameter (named in detail)"),
                            "401": error("Missing or malformed bearer token"),
                            "403": error("Wrong token"),
                            "308": error("The identity works on another netuid: look it up again (GET /api/v1/identities)"),
                            "404": error("Unknown identity, block not found or in the future, or no such object"),
                            "502": error("The chain answered with an error"),
                            "503": error("The chain is unreachable and nothing is cached"),
                            "504": error("Not answered within X-Pylon-Timeout"),
                        }
                    }}),
                );
            }
        }
        for (path, summary, response) in CHAIN_ROUTES {
            let mut params = Vec::new();
            for field in ["block_number", "extrinsic_index"] {
                if path.contains(&format!("{{{field}}}")) {
                    params.push(parameter(field));
                }
            }
            paths.insert(
                format!("/api/v1{path}"),
                json!({"get": {
                    "summary": summary,
                    "parameters": params,
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {"description": "OK",
                                "content": {"application/json": {"schema": schema_ref(response)}}},
                        "400": error("Malformed path parameter (named in detail)"),
                        "401": error("Missing or malformed bearer token"),
                        "403": error("Wrong token"),
                        "404": error("Block not found or in the future, or no such extrinsic"),
                        "502": error("The chain answered with an error"),
                        "503": error("The chain is unreachable and nothing is cached"),
                        "504": error("Not answered within X-Pylon-Timeout"),
                    }
                }}),
            );
        }
        for route in WRITE_ROUTES {
            let mut params = vec![parameter("netuid"), parameter("name")];
            for field in ["mechanism_id", "block_number"] {
                if route.path.contains(&format!("{{{field}}}")) {
                    params.push(parameter(field));
                }
            }
            let mut operation = json!({
                "summary": route.summary,
                "parameters": params,
                "security": [{"bearer": []}],
                "responses": {
                    route.status: {"description": "OK",
                                   "content": {"application/json": {"schema": schema_ref(route.response)}}},
                    "400": error("Malformed path parameter or body (named in detail)"),
                    "401": error("Missing or malformed bearer token"),
                    "403": error("Wrong token"),
                    "308": error("The identity works on another netuid: look it up again (GET /api/v1/identities)"),
                    "404": error("Unknown identity, or no such job"),
                    "408": error("Body not received in full within PYLON_BODY_READ_TIMEOUT_SECONDS"),
                    "413": error("Body larger than PYLON_MAX_BODY_BYTES"),
                    "422": error("Valid JSON the request cannot act on (named in detail)"),
                    "502": error("The chain refused the extrinsic (its error, decoded)"),
                    "503": error("The chain is unreachable, or the job store failed"),
                    "504": error("Not answered within X-Pylon-Timeout"),
                }
            });
            if let Some(body) = route.body {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema_ref(body)}}
                });
            }
            let path = format!("/api/v1/identity/{{name}}/subnet/{{netuid}}{}", route.path);
            let item = paths.entry(path).or_insert_with(|| json!({}));
            item[route.method] = operation;
        }
        paths.insert(
            "/api/v1/identities".into(),
            json!({"get": {
                "summary": "Configured identities and their netuids",
                "responses": {"200": {"description": "OK",
                    "content": {"application/json": {"schema": schema_ref("IdentitiesResponse")}}}}
            }}),
        );
        document["paths"] = Value::Object(paths);
        document["components"]["securitySchemes"] =
            json!({"bearer": {"type": "http", "scheme": "bearer"}});
        document
    })
}

const SWAGGER: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>Pylon API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/schema/openapi.json", dom_id: "#ui"});</script>
</body></html>"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_response_schema_exists_and_neurons_have_their_fields() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (_, _, response) in SUBNET_ROUTES {
            assert!(schemas.contains_key(*response), "{response}");
        }
        let neuron = &schemas["Neuron"];
        for field in [
            "uid",
            "hotkey",
            "stake",
            "stakes",
            "axon_info",
            "validator_permit",
        ] {
            assert!(
                neuron["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f == field),
                "{field}"
            );
        }
        assert!(doc["paths"]["/api/v1/subnet/{netuid}/block/latest/neurons"]["get"].is_object());
        assert!(doc["paths"]
            .get("/api/v1/subnet/{netuid}/block/latest/commitments/self")
            .is_none());
    }
}
