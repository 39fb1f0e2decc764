//! `/schema/openapi.json` (the routes this service answers) and `/schema/swagger` (Swagger UI
//! loaded from a CDN, so nothing is bundled at build time).

use std::sync::Arc;

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::state::AppState;

/// (method, path relative to the subnet prefix, summary)
const SUBNET_ROUTES: &[(&str, &str, &str)] = &[
    (
        "get",
        "/block/latest",
        "Latest block: number, hash, timestamp",
    ),
    (
        "get",
        "/block/latest/neurons",
        "Neurons at the latest block",
    ),
    ("get", "/block/recent/neurons", "Newest cached neurons"),
    ("get", "/block/{block_number}/neurons", "Neurons at a block"),
    (
        "get",
        "/block/latest/validators",
        "Validators at the latest block",
    ),
    (
        "get",
        "/block/{block_number}/validators",
        "Validators at a block",
    ),
    (
        "get",
        "/block/{block_number}/extrinsic/{extrinsic_index}",
        "One extrinsic, decoded",
    ),
    (
        "get",
        "/block/latest/certificates",
        "Every certificate on the subnet",
    ),
    (
        "get",
        "/block/latest/certificates/self",
        "The identity's certificate",
    ),
    (
        "get",
        "/block/latest/certificates/{hotkey}",
        "A hotkey's certificate",
    ),
    (
        "get",
        "/block/latest/commitments",
        "Every commitment on the subnet",
    ),
    (
        "get",
        "/block/latest/commitments/self",
        "The identity's commitment",
    ),
    (
        "get",
        "/block/latest/commitments/{hotkey}",
        "A hotkey's commitment",
    ),
    (
        "get",
        "/block/latest/commitments/revealed",
        "Every revealed commitment",
    ),
    (
        "get",
        "/block/latest/commitments/revealed/self",
        "The identity's revealed commitments",
    ),
    (
        "get",
        "/block/latest/commitments/revealed/{hotkey}",
        "A hotkey's revealed commitments",
    ),
];

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/schema/openapi.json", get(|| async { Json(document()) }))
        .route("/schema/swagger", get(|| async { Html(SWAGGER) }))
}

fn parameter(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
}

fn document() -> Value {
    let mut paths = Map::new();
    for (prefix, extra) in [
        ("/api/v1/subnet/{netuid}", None),
        ("/api/v1/identity/{name}/subnet/{netuid}", Some("name")),
    ] {
        for (method, path, summary) in SUBNET_ROUTES {
            let full = format!("{prefix}{path}");
            let mut params = vec![parameter("netuid", "integer")];
            if let Some(name) = extra {
                params.push(parameter(name, "string"));
            }
            for (field, kind) in [
                ("block_number", "integer"),
                ("extrinsic_index", "integer"),
                ("hotkey", "string"),
            ] {
                if path.contains(&format!("{{{field}}}")) {
                    params.push(parameter(field, kind));
                }
            }
            paths.insert(
                full,
                json!({ *method: {
                    "summary": summary,
                    "parameters": params,
                    "security": [{"bearer": []}],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "304": {"description": "Not modified (If-None-Match)"},
                        "400": {"description": "Malformed path parameter"},
                        "401": {"description": "Missing or malformed bearer token"},
                        "403": {"description": "Wrong token or netuid"},
                        "404": {"description": "Unknown identity, block or object"},
                        "502": {"description": "Chain error"},
                        "503": {"description": "Chain unreachable"},
                        "504": {"description": "X-Pylon-Timeout exceeded"}
                    }
                }}),
            );
        }
    }
    paths.insert(
        "/api/v1/identities".into(),
        json!({"get": {"summary": "Configured identities and their netuids",
                       "responses": {"200": {"description": "OK"}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Pylon", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
}

const SWAGGER: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>Pylon API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/schema/openapi.json", dom_id: "#ui"});</script>
</body></html>"##;
