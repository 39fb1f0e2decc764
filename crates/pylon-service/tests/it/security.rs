//! Security properties of the HTTP surface, against a real service on a devnet:
//!
//! - tokens are compared in constant time: every comparison goes through `Secret` (`subtle`'s
//!   `ct_eq`), checked on the source; no timing is measured;
//! - no token and no hotkey secret appears in any response (status line, headers, body) or in
//!   the metrics, whatever token a request presents (the log scan runs against the real binary in
//!   tests/hardening/test_secrets.py);
//! - request bodies are limited to `PYLON_MAX_BODY_BYTES` (413 above it, announced or chunked);
//! - identity names in the URL never become paths: traversal attempts are plain unknown identities
//!   (404), and names that could be paths are refused at start-up;
//! - unknown query parameters are ignored (as the reference's FastAPI does); unknown JSON fields in
//!   write bodies are ignored like the reference's pydantic models (here over HTTP; the parser's
//!   side in `pylon-weights`' `tests/unknown_fields.rs`);
//! - CORS is off: no `Access-Control-Allow-*` header on a cross-origin request or a preflight.

use crate::common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use common::{dev_wallets, devnet, identity, local_settings, manual_devnet_config, serve};
use pylon_devnet::{dev_keypair, DevnetHandle};
use pylon_service::{Secret, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OPEN: &str = "open-2f8c1e7a9b3d4c5e";
const IDENTITY: &str = "identity-7d1a4b9c2e8f3a6b";
const OTHER_IDENTITY: &str = "other-5b3e9c1d7a2f8e4c";
const METRICS: &str = "metrics-9e4d2a7c1b8f5e3a";
const MAX_BODY: usize = 1000;

struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// One request on a fresh connection; `extra` are whole header lines, `body` is sent as is.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &[String],
    body: &str,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: pylon\r\nConnection: close\r\n");
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // The server may answer (413) and close before the whole body is written: read what came.
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_string(),
        body: body.to_string(),
    }
}

async fn get(addr: SocketAddr, path: &str, extra: &[String]) -> Reply {
    request(addr, "GET", path, extra, "").await
}

fn bearer(token: &str) -> Vec<String> {
    vec![format!("Authorization: Bearer {token}")]
}

fn ss58(uri: &str) -> String {
    subxt::utils::AccountId32(dev_keypair(uri).unwrap().public).to_string()
}

async fn start() -> (DevnetHandle, SocketAddr, tempfile::TempDir) {
    let devnet = devnet(manual_devnet_config()).await;
    let mut settings = local_settings(&devnet);
    settings.open_access_token = Secret::new(OPEN);
    settings.metrics_token = Secret::new(METRICS);
    settings.max_body_bytes = MAX_BODY;
    let wallets = dev_wallets();
    settings.wallet_path = wallets.path().to_owned();
    settings.data_dir = wallets.path().join("data");
    settings.identities = vec![
        identity("validator", "h", 1, IDENTITY),
        identity("other", "h2", 2, OTHER_IDENTITY),
    ];
    (devnet, serve(settings).await, wallets)
}

/// The Rust sources of this crate (every module, nested ones too), by path below `src/`, without
/// `#[cfg(test)]` modules.
fn service_sources() -> HashMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut HashMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap().to_string();
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, code);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = HashMap::new();
    walk(&root, &root, &mut out);
    out
}

#[test]
fn tokens_are_compared_only_in_constant_time_through_secret() {
    let sources = service_sources();
    let secret = &sources["secret.rs"];
    // The comparisons themselves: `matches` and `==` both go through subtle's `ct_eq`.
    assert!(secret.contains("ConstantTimeEq"), "secret.rs uses subtle");
    assert_eq!(
        secret.matches(".ct_eq(").count(),
        2,
        "matches and eq use ct_eq"
    );
    assert!(
        !secret.contains("PartialEq,") && !secret.contains("PartialEq)"),
        "a derived PartialEq would compare tokens byte by byte with an early exit"
    );
    // Nowhere else can a token's text be compared: nothing outside secret.rs takes it out, but for
    // the place that hands an identity's hotkey password to the keyfile's key derivation and the
    // one that hands the database URL to PostgreSQL (where neither is compared).
    for (file, code) in &sources {
        if file == "secret.rs" {
            continue;
        }
        for line in code.lines().filter(|line| line.contains(".expose()")) {
            // The other: the shared job store's URL handed to the PostgreSQL driver.
            assert!(
                file == "writes/mod.rs"
                    && (line.contains("identity.hotkey_password.as_ref().map(|p| p.expose())")
                        || line.contains(".then(|| settings.database_url.expose().to_owned())")),
                "{file} exposes a secret: {line}"
            );
        }
    }
    // And the checks of both tiers and of the metrics endpoint use `matches`.
    let access = &sources["access.rs"];
    assert!(access.contains("identity.token.matches(token)"));
    assert!(access.contains("open.matches("));
    assert!(sources["metrics.rs"].contains("token.matches(presented)"));

    // What constant time compares: exact bytes, nothing for an empty secret.
    let token = Secret::new(IDENTITY);
    assert!(token.matches(IDENTITY));
    for near in [
        &IDENTITY[..IDENTITY.len() - 1],
        &format!("{IDENTITY}0"),
        &IDENTITY.to_uppercase(),
        "",
    ] {
        assert!(!token.matches(near), "{near}");
    }
    assert!(!Secret::default().matches(""));
    assert!(Secret::new(IDENTITY) == token && Secret::new(OPEN) != token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_hotkey_secret_is_in_any_response() {
    let (devnet, addr, _wallets) = start().await;
    let alice = dev_keypair("//Alice").unwrap();
    let secrets = [
        OPEN.to_string(),
        IDENTITY.to_string(),
        OTHER_IDENTITY.to_string(),
        METRICS.to_string(),
        hex::encode(alice.secret_key_bytes()),
        hex::encode(&alice.secret_key_bytes()[..32]),
    ];
    let hotkey = ss58("//Alice");
    let routes = [
        "/block/latest".to_string(),
        "/block/latest/neurons".into(),
        "/block/1/validators".into(),
        "/block/1/extrinsic/0".into(),
        "/block/latest/certificates/self".into(),
        "/block/latest/commitments/self".into(),
        "/block/latest/commitments/revealed/self".into(),
        format!("/block/latest/commitments/{hotkey}"),
        "/block/latest/certificates/not-a-hotkey".into(),
        "/block/99999999/neurons".into(),
    ];
    let mut replies = Vec::new();
    for route in &routes {
        for prefix in [
            "/api/v1/subnet/1",
            "/api/v1/identity/validator/subnet/1",
            "/api/v1/identity/other/subnet/1",
        ] {
            // Every token at every tier: right, crossed, and malformed around a real token.
            for token in [OPEN, IDENTITY, OTHER_IDENTITY, METRICS] {
                let path = format!("{prefix}{route}");
                replies.push(get(addr, &path, &bearer(token)).await);
                let malformed = vec![format!("Authorization: Basic {token}")];
                replies.push(get(addr, &path, &malformed).await);
                let timeout = [bearer(token), vec![format!("X-Pylon-Timeout: {token}")]].concat();
                replies.push(get(addr, &path, &timeout).await);
            }
        }
    }
    for path in ["/api/v1/identities", "/schema/openapi.json", "/metrics"] {
        for token in [OPEN, IDENTITY, METRICS] {
            replies.push(get(addr, path, &bearer(token)).await);
        }
    }
    // The metrics themselves, scraped after all of the above.
    let scrape = get(addr, "/metrics", &bearer(METRICS)).await;
    assert_eq!(scrape.status, 200, "{}", scrape.body);
    assert!(scrape.body.contains("pylon_"), "{}", scrape.body);
    replies.push(scrape);
    // Writes too, whatever they answer (a weights job is recorded; the rest are refused).
    for path in [
        "/api/v1/identity/validator/subnet/1/weights",
        "/api/v1/identity/validator/subnet/1/commitments",
    ] {
        let body = format!("{{\"weights\": {{\"{hotkey}\": 1.0}}}}");
        let headers = [
            bearer(IDENTITY),
            vec![format!("Content-Length: {}", body.len())],
        ]
        .concat();
        for method in ["PUT", "POST"] {
            replies.push(request(addr, method, path, &headers, &body).await);
        }
    }
    assert!(replies.iter().any(|r| r.status == 200));
    assert!(replies.iter().any(|r| r.status == 401 || r.status == 403));
    for reply in &replies {
        for secret in &secrets {
            assert!(
                !reply.head.contains(secret.as_str()) && !reply.body.contains(secret.as_str()),
                "a response carries a secret: {} {}",
                reply.head,
                reply.body
            );
        }
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused_with_413() {
    let (devnet, addr, _wallets) = start().await;
    let path = "/api/v1/identity/validator/subnet/1/weights";
    let send = |length: usize| {
        let headers = [
            bearer(IDENTITY),
            vec![
                "Content-Type: application/json".to_string(),
                format!("Content-Length: {length}"),
            ],
        ]
        .concat();
        async move { request(addr, "PUT", path, &headers, &" ".repeat(length)).await }
    };
    let over = send(MAX_BODY + 1).await;
    assert_eq!(over.status, 413, "{}", over.body);
    // At the limit the body reaches the route (which then judges it).
    let at = send(MAX_BODY).await;
    assert_ne!(at.status, 413, "{}", at.body);
    // A chunked body (no size announced) is cut off once it passes the limit.
    let chunk = format!("{:x}\r\n{}\r\n", MAX_BODY, " ".repeat(MAX_BODY));
    let chunked = request(
        addr,
        "PUT",
        path,
        &[
            bearer(IDENTITY),
            vec![
                "Content-Type: application/json".to_string(),
                "Transfer-Encoding: chunked".to_string(),
            ],
        ]
        .concat(),
        &format!("{chunk}{chunk}0\r\n\r\n"),
    )
    .await;
    assert_eq!(chunked.status, 413, "{}", chunked.body);
    // Announced sizes far over the limit are refused without waiting for the bytes.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/identity/validator/subnet/1/commitments HTTP/1.1\r\nHost: pylon\r\n\
         Authorization: Bearer {IDENTITY}\r\nContent-Length: 1000000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut status = [0u8; 12];
    stream.read_exact(&mut status).await.unwrap();
    assert_eq!(&status, b"HTTP/1.1 413");
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_names_are_never_paths() {
    let (devnet, addr, wallets) = start().await;
    // A file a traversal would reach from the wallet directory.
    std::fs::write(wallets.path().join("w").join("loot"), "LOOT-CONTENT").unwrap();
    for name in [
        "..",
        "..%2F..",
        "..%2Fw%2Fhotkeys%2Fh",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "w%2Floot",
        "..%5C..%5Cw",
        "validator%2F..%2F..",
        "validator%00",
        "%2Fetc%2Fpasswd",
    ] {
        for route in [
            "/block/latest/neurons",
            "/block/latest/certificates/self",
            "/block/latest/commitments/self",
        ] {
            let path = format!("/api/v1/identity/{name}/subnet/1{route}");
            for token in [IDENTITY, OPEN] {
                let reply = get(addr, &path, &bearer(token)).await;
                assert_eq!(reply.status, 404, "{path}: {}", reply.body);
                assert!(
                    reply.body.contains("not configured"),
                    "{path}: {}",
                    reply.body
                );
                assert!(!reply.body.contains("LOOT") && !reply.body.contains("root:"));
            }
        }
    }
    // Literal dot segments are not resolved into another identity or route either.
    let reply = get(
        addr,
        "/api/v1/identity/../identity/validator/subnet/1/block/latest/neurons",
        &bearer(IDENTITY),
    )
    .await;
    assert!(
        (400..500).contains(&reply.status),
        "{}: {}",
        reply.status,
        reply.body
    );
    // Hotkey path parameters are ss58 or a 400 naming the field.
    for hotkey in ["..%2F..%2Fw%2Floot", "..", "%2Fetc%2Fpasswd"] {
        let path = format!("/api/v1/subnet/1/block/latest/commitments/{hotkey}");
        let reply = get(addr, &path, &bearer(OPEN)).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert!(reply.body.contains("hotkey"), "{}", reply.body);
    }
    // The configured identity still reads its own wallet.
    let own = get(
        addr,
        "/api/v1/identity/validator/subnet/1/block/latest/commitments/self",
        &bearer(IDENTITY),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);

    // Names that could be paths never get as far as a service.
    for name in ["../w", "w/loot", ".", "a\\b", "validator\u{0}"] {
        let vars: HashMap<String, String> = [
            (
                "PYLON_IDENTITIES".to_string(),
                serde_json::json!([name]).to_string(),
            ),
            (format!("PYLON_ID_{name}_NETUID"), "1".into()),
        ]
        .into_iter()
        .collect();
        let error = Settings::from_vars(&vars).unwrap_err().to_string();
        assert!(error.starts_with("PYLON_IDENTITIES:"), "{name:?}: {error}");
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_and_body_fields_are_ignored() {
    let (devnet, addr, _wallets) = start().await;
    let plain = get(addr, "/api/v1/subnet/1/block/latest/neurons", &bearer(OPEN)).await;
    assert_eq!(plain.status, 200);
    let extra = get(
        addr,
        "/api/v1/subnet/1/block/latest/neurons?netuid=2&unknown=1&block_number=0",
        &bearer(OPEN),
    )
    .await;
    assert_eq!(extra.status, 200, "{}", extra.body);
    assert_eq!(extra.body, plain.body, "the path decides, not the query");

    // A write body with fields the reference's models do not have is taken like the plain one.
    let path = "/api/v1/identity/validator/subnet/1/weights";
    let alice = ss58("//Alice");
    for body in [
        format!(r#"{{"weights": {{"{alice}": 1.0}}}}"#),
        format!(r#"{{"weights": {{"{alice}": 1.0}}, "version_key": 9, "extra": {{"a": [1]}}}}"#),
    ] {
        let headers = [
            bearer(IDENTITY),
            vec![
                "Content-Type: application/json".to_string(),
                format!("Content-Length: {}", body.len()),
            ],
        ]
        .concat();
        let reply = request(addr, "PUT", path, &headers, &body).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.body);
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_off_by_default() {
    let (devnet, addr, _wallets) = start().await;
    let origin = "Origin: https://evil.example".to_string();
    let path = "/api/v1/subnet/1/block/latest/neurons";
    let simple = get(addr, path, &[bearer(OPEN), vec![origin.clone()]].concat()).await;
    assert_eq!(simple.status, 200);
    let preflight = request(
        addr,
        "OPTIONS",
        path,
        &[
            origin.clone(),
            "Access-Control-Request-Method: GET".into(),
            "Access-Control-Request-Headers: authorization".into(),
        ],
        "",
    )
    .await;
    assert!(
        !(200..300).contains(&preflight.status),
        "a preflight is not approved: {}",
        preflight.head
    );
    for reply in [&simple, &preflight] {
        assert!(
            !reply
                .head
                .to_ascii_lowercase()
                .contains("access-control-allow"),
            "{}",
            reply.head
        );
    }
    devnet.stop().await;
}
