//! `/schema/openapi.json`, built from the wire types' own schemas, and `/schema/swagger` (Swagger
//! UI loaded from a CDN, so nothing is bundled at build time).

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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

/// The document's info and the shared components (bodies, error shape, the bearer scheme); the
/// paths come from the route tables ([`crate::table::api`]).
pub fn base() -> utoipa::openapi::OpenApi {
    let mut document = Components::openapi();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    document
}

/// `/schema/openapi.json` (the document rendered once) and `/schema/swagger`.
pub fn router(api: utoipa::openapi::OpenApi) -> Router<Arc<AppState>> {
    let document = Arc::new(document(api).to_string());
    Router::new()
        .route(
            "/schema/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move {
                    ([(CONTENT_TYPE, "application/json")], document.to_string()).into_response()
                }
            }),
        )
        .route("/schema/swagger", get(|| async { Html(SWAGGER) }))
}

fn error(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}})
}

/// The answers every operation of a kind can give, added where its annotation does not say
/// otherwise: auth and input failures, and chain trouble, are the same everywhere.
pub fn document(api: utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(api).expect("serializable");
    let Some(paths) = document["paths"].as_object_mut() else {
        return document;
    };
    for (path, item) in paths.iter_mut() {
        let identity = path.contains("/identity/{name}/");
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "put" | "post") {
                continue;
            }
            let public = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(|r| r.is_empty()))
                });
            if public {
                operation.as_object_mut().unwrap().remove("security");
                continue;
            }
            operation["security"] = json!([{"bearer": []}]);
            let write = method != "get";
            let mut common = vec![
                (
                    "400",
                    error(if write {
                        "Malformed path parameter or body (named in detail)"
                    } else {
                        "Malformed path parameter (named in detail)"
                    }),
                ),
                ("401", error("Missing or malformed bearer token")),
                ("403", error("Wrong token")),
                (
                    "404",
                    error("Unknown identity, block not found or in the future, or no such object"),
                ),
                (
                    "502",
                    error("The chain answered with an error (or refused the extrinsic)"),
                ),
                (
                    "503",
                    error(
                        "The chain is unreachable and nothing is cached, or the job store failed",
                    ),
                ),
                ("504", error("Not answered within X-Pylon-Timeout")),
            ];
            if identity {
                common.push((
                    "308",
                    error(
                        "The identity works on another netuid: look it up again (GET …/identities)",
                    ),
                ));
            }
            if write {
                common.push((
                    "408",
                    error("Body not received in full within PYLON_BODY_READ_TIMEOUT_SECONDS"),
                ));
                common.push(("413", error("Body larger than PYLON_MAX_BODY_BYTES")));
                common.push((
                    "422",
                    error("Valid JSON the request cannot act on (named in detail)"),
                ));
            }
            let responses = operation["responses"].as_object_mut().expect("responses");
            for (status, response) in common {
                responses.entry(status).or_insert(response);
            }
        }
    }
    document
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
    fn every_route_is_documented_with_its_schemas_and_prefix_parameters() {
        let doc = document(crate::table::api().1);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
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
        let paths = doc["paths"].as_object().unwrap();
        let neurons = &paths["/api/v1/subnet/{netuid}/block/{block_number}/neurons"];
        let names: Vec<&str> = neurons["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .chain(neurons["get"]["parameters"].as_array().unwrap())
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["netuid", "block_number"]);
        assert_eq!(
            neurons["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/NeuronsResponse"
        );
        assert!(neurons["get"]["responses"]["401"].is_object());
        // `self` and the writes are identity routes only.
        assert!(!paths.contains_key("/api/v1/subnet/{netuid}/block/latest/commitments/self"));
        assert!(!paths.contains_key("/api/v1/subnet/{netuid}/weights"));
        let weights = &paths["/api/v1/identity/{name}/subnet/{netuid}/weights"]["put"];
        assert!(weights["requestBody"].is_object() && weights["responses"]["308"].is_object());
        assert!(paths["/api/v1/identities"]["get"].get("security").is_none());
        // The same tables under `_unstable`'s prefixes, chain-level reads under both tiers.
        for path in [
            "/api/_unstable/identities",
            "/api/_unstable/openaccess/block/latest",
            "/api/_unstable/identity/{name}/block/latest",
            "/api/_unstable/openaccess/subnet/{netuid}/block/latest/neurons",
            "/api/_unstable/identity/{name}/subnet/{netuid}/mechanism/{mechanism_id}/weights",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
        let commitment =
            &paths["/api/_unstable/openaccess/subnet/{netuid}/block/latest/commitments/{hotkey}"];
        assert_eq!(
            commitment["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/unstable.CommitmentResponse"
        );
        let v1 = &paths["/api/v1/subnet/{netuid}/block/latest/commitments/{hotkey}"];
        assert_eq!(
            v1["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CommitmentResponse"
        );
        assert!(schemas["CommitmentResponse"]["properties"]["hotkey"].is_object());
        // Every $ref resolves.
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
