//! The v1 read path against a devnet: values equal the scenario, the auth matrix, the cache
//! serving latest neurons without chain calls, ETags, and 400/404 for bad input.

use std::net::SocketAddr;
use std::time::Duration;

mod common;

use common::{
    bearer, dev_wallets, devnet, identity, local_settings, manual_devnet_config, request, serve,
    ss58, Reply,
};
use pylon_devnet::DevnetHandle;
use pylon_service::Secret;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OPEN: &str = "open-token";
const IDENTITY: &str = "identity-token";
const OTHER_IDENTITY: &str = "other-token";

async fn get(addr: SocketAddr, path: &str, headers: &[String]) -> Reply {
    request(addr, "GET", path, headers, b"").await
}

/// The response head (lower-cased) and raw body bytes (for bodies that are not text).
async fn get_raw(addr: SocketAddr, path: &str, headers: &[String]) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: pylon\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase(),
        raw[end + 4..].to_vec(),
    )
}

/// Whether some read of `path` (of a few tries) made no devnet call at all. Background prefetches
/// for earlier heads may still be finishing and add calls of their own, so one quiet try suffices;
/// a read that always reaches the chain never has one.
async fn a_read_costs_no_chain_call(devnet: &DevnetHandle, addr: SocketAddr, path: &str) -> bool {
    for _ in 0..20 {
        let before = devnet.rpc_call_count();
        let reply = get(addr, path, &bearer(OPEN)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        if devnet.rpc_call_count() == before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn start() -> (DevnetHandle, SocketAddr, tempfile::TempDir) {
    let devnet = devnet(manual_devnet_config()).await;
    let mut settings = local_settings(&devnet);
    settings.open_access_token = Secret::new(OPEN);
    let wallets = dev_wallets();
    settings.wallet_path = wallets.path().to_owned();
    settings.data_dir = wallets.path().join("data");
    settings.recent_objects_netuids = vec![1];
    settings.identities = vec![
        identity("validator", "h", 1, IDENTITY),
        identity("other", "h2", 2, OTHER_IDENTITY),
    ];
    (devnet, serve(settings).await, wallets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_match_the_scenario_and_cached_latest_neurons_cost_no_chain_calls() {
    let (devnet, addr, _wallets) = start().await;
    let open = bearer(OPEN);
    let head = devnet.best_number();

    let latest = get(addr, "/api/v1/subnet/1/block/latest/neurons", &open).await;
    assert_eq!(latest.status, 200, "{}", latest.body);
    let body = latest.json();
    assert_eq!(body["block"]["number"], head);
    let neurons = body["neurons"].as_object().unwrap();
    assert_eq!(neurons.len(), 256);
    let alice = &neurons[&ss58("//Alice")];
    assert_eq!(alice["uid"], 0);
    assert_eq!(alice["coldkey"], ss58("//Alice//coldkey"));
    assert_eq!(alice["axon_info"]["ip"], "10.0.1.1");
    assert_eq!(alice["axon_info"]["port"], 8091);
    assert_eq!(alice["stake"], 1_000_000.0);
    assert_eq!(alice["stakes"]["alpha"], 1_000_000.0);
    assert_eq!(alice["emission"], 1.0);
    let trust = alice["validator_trust"].as_f64().unwrap();
    assert!((trust - 60_000.0 / 65_535.0).abs() < 1e-12, "{trust}");
    assert_eq!(alice["validator_permit"], true);

    // The second read of the latest block's neurons is served from the cache: no chain call.
    let again = get(addr, "/api/v1/subnet/1/block/latest/neurons", &open).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, latest.body);
    assert!(
        a_read_costs_no_chain_call(&devnet, addr, "/api/v1/subnet/1/block/latest/neurons").await
    );

    // Every answer has a request id; cached ones say which block they are from.
    assert!(again.header("x-request-id").is_some());
    assert_eq!(again.header("x-pylon-block"), Some(head.to_string()));

    // ETag revalidation.
    let etag = again.header("etag").expect("an ETag");
    let mut revalidate = open.clone();
    revalidate.push(format!("If-None-Match: {etag}"));
    let not_modified = get(addr, "/api/v1/subnet/1/block/latest/neurons", &revalidate).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    // A new head is prefetched for the hot subnet: reading it costs no chain call either.
    let sealed = devnet.seal_block().await;
    let mut seen = 0;
    for _ in 0..500 {
        let r = get(addr, "/api/v1/subnet/1/block/recent/neurons", &open).await;
        seen = r.json()["block"]["number"].as_u64().unwrap();
        if seen == u64::from(sealed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, u64::from(sealed));
    let fresh = get(addr, "/api/v1/subnet/1/block/latest/neurons", &open).await;
    assert_eq!(fresh.json()["block"]["number"], sealed);
    assert!(
        a_read_costs_no_chain_call(&devnet, addr, "/api/v1/subnet/1/block/latest/neurons").await
    );

    // Recent neurons exist for subnets kept fresh: configured ones and identities'.
    let identity_subnet = get(addr, "/api/v1/subnet/2/block/recent/neurons", &open).await;
    assert_eq!(identity_subnet.status, 200);
    let not_kept = get(addr, "/api/v1/subnet/3/block/recent/neurons", &open).await;
    assert_eq!(not_kept.status, 404);
    assert!(not_kept.body.contains("PYLON_RECENT_OBJECTS_NETUIDS"));

    // By number, validators, block info.
    let at_genesis = get(addr, "/api/v1/subnet/3/block/0/neurons", &open).await;
    assert_eq!(at_genesis.status, 200);
    assert_eq!(at_genesis.json()["neurons"].as_object().unwrap().len(), 8);
    let validators = get(addr, "/api/v1/subnet/1/block/latest/validators", &open)
        .await
        .json();
    let list = validators["validators"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["hotkey"], ss58("//Alice"));
    assert_eq!(list[1]["hotkey"], ss58("//Bob"));
    let block = get(addr, "/api/v1/subnet/1/block/latest", &open)
        .await
        .json();
    assert_eq!(block["number"], sealed);
    assert!(block["hash"].as_str().unwrap().starts_with("0x"));
    assert!(block["timestamp"].as_u64().unwrap() > 0);

    // Certificates and commitments.
    let certificates = get(addr, "/api/v1/subnet/1/block/latest/certificates", &open)
        .await
        .json();
    assert_eq!(
        certificates[&ss58("//Alice")],
        serde_json::json!({"algorithm": 1, "public_key": "ab".repeat(32)})
    );
    let one = get(
        addr,
        &format!(
            "/api/v1/subnet/1/block/latest/certificates/{}",
            ss58("//Alice")
        ),
        &open,
    )
    .await;
    assert_eq!(one.json()["algorithm"], 1);
    let none = get(
        addr,
        &format!(
            "/api/v1/subnet/1/block/latest/certificates/{}",
            ss58("//Bob")
        ),
        &open,
    )
    .await;
    assert_eq!(none.status, 404);
    let expected = format!("0x{}", hex_of("pylon-devnet commitment for netuid 1"));
    let commitments = get(addr, "/api/v1/subnet/1/block/latest/commitments", &open)
        .await
        .json();
    assert_eq!(commitments["commitments"][&ss58("//Alice")], expected);
    let one = get(
        addr,
        &format!(
            "/api/v1/subnet/1/block/latest/commitments/{}",
            ss58("//Alice")
        ),
        &open,
    )
    .await
    .json();
    assert_eq!(one["commitment"], expected);
    assert_eq!(one["hotkey"], ss58("//Alice"));
    assert_eq!(one["commitment_block_number"], 0);
    let revealed = get(
        addr,
        "/api/v1/subnet/1/block/latest/commitments/revealed",
        &open,
    )
    .await;
    assert_eq!(revealed.status, 200);

    // Extrinsic 0 of block 1 is the timestamp inherent.
    let xt = get(addr, "/api/v1/subnet/1/block/1/extrinsic/0", &open)
        .await
        .json();
    assert_eq!(xt["call"]["call_module"], "Timestamp");
    assert_eq!(xt["call"]["call_function"], "set");
    assert_eq!(xt["call"]["call_args"][0]["name"], "now");
    assert_eq!(xt["address"], Value::Null);
    assert_eq!(
        get(addr, "/api/v1/subnet/1/block/1/extrinsic/9", &open)
            .await
            .status,
        404
    );

    // Bad input names the field; missing and future blocks are 404.
    for (path, field) in [
        ("/api/v1/subnet/x/block/latest/neurons", "netuid"),
        ("/api/v1/subnet/70000/block/latest/neurons", "netuid"),
        ("/api/v1/subnet/1/block/-1/neurons", "block_number"),
        ("/api/v1/subnet/1/block/1/extrinsic/z", "extrinsic_index"),
        (
            "/api/v1/subnet/1/block/latest/certificates/not-an-address",
            "hotkey",
        ),
    ] {
        let r = get(addr, path, &open).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.json()["detail"].as_str().unwrap().starts_with(field),
            "{path}: {}",
            r.body
        );
    }
    let future = get(addr, "/api/v1/subnet/1/block/999999/neurons", &open).await;
    assert_eq!(future.status, 404, "{}", future.body);
    assert_eq!(future.json()["status_code"], 404);

    // A settled past block's answer, once read, costs no chain call at all.
    for _ in 0..pylon_chain::blocks::SETTLED_DEPTH {
        devnet.seal_block().await;
    }
    let settled_head = devnet.best_number();
    for _ in 0..500 {
        let r = get(addr, "/api/v1/block/latest", &open).await;
        if r.json()["number"] == settled_head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = get(addr, "/api/v1/subnet/2/block/2/neurons", &open).await;
    assert_eq!(first.status, 200);
    let second = get(addr, "/api/v1/subnet/2/block/2/neurons", &open).await;
    assert_eq!(second.body, first.body);
    assert!(a_read_costs_no_chain_call(&devnet, addr, "/api/v1/subnet/2/block/2/neurons").await);

    // `self` is the identity's own hotkey, read from its wallet.
    let me = bearer(IDENTITY);
    let own = get(
        addr,
        "/api/v1/identity/validator/subnet/1/block/latest/certificates/self",
        &me,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["algorithm"], 1);
    let own = get(
        addr,
        "/api/v1/identity/validator/subnet/1/block/latest/commitments/self",
        &me,
    )
    .await;
    assert_eq!(own.json()["hotkey"], ss58("//Alice"));
    let own = get(
        addr,
        "/api/v1/identity/validator/subnet/1/block/latest/commitments/revealed/self",
        &me,
    )
    .await;
    assert_eq!(own.json()["commitments"], serde_json::json!([]));
    let other = bearer(OTHER_IDENTITY);
    let bobs = get(
        addr,
        "/api/v1/identity/other/subnet/2/block/latest/certificates/self",
        &other,
    )
    .await;
    assert_eq!(bobs.status, 404, "{}", bobs.body);
    let open_self = get(
        addr,
        "/api/v1/subnet/1/block/latest/certificates/self",
        &open,
    )
    .await;
    assert_eq!(open_self.status, 404);

    // X-Pylon-Timeout: a zero budget cannot be met by an uncached read; a malformed one is a 400.
    let mut hurried = open.clone();
    hurried.push("X-Pylon-Timeout: 0".into());
    let late = get(addr, "/api/v1/subnet/3/block/1/validators", &hurried).await;
    assert_eq!(late.status, 504, "{}", late.body);
    let mut garbled = open.clone();
    garbled.push("X-Pylon-Timeout: soon".into());
    let bad = get(addr, "/api/v1/subnet/1/block/latest/neurons", &garbled).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["detail"]
        .as_str()
        .unwrap()
        .starts_with("X-Pylon-Timeout"));
    // A budget beyond any duration is just more than the max: capped, not refused.
    let mut patient = open.clone();
    patient.push("X-Pylon-Timeout: 1e308".into());
    let capped = get(addr, "/api/v1/subnet/1/block/latest/neurons", &patient).await;
    assert_eq!(capped.status, 200, "{}", capped.body);
    let mut negative = open.clone();
    negative.push("X-Pylon-Timeout: -1".into());
    assert_eq!(
        get(addr, "/api/v1/subnet/1/block/latest/neurons", &negative)
            .await
            .status,
        400
    );

    // Compression when the client accepts it.
    let mut gzip = open.clone();
    gzip.push("Accept-Encoding: gzip".into());
    let plain = get(addr, "/api/v1/subnet/1/block/latest/neurons", &open).await;
    let (head, body) = get_raw(addr, "/api/v1/subnet/1/block/latest/neurons", &gzip).await;
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    let mut zstd = open.clone();
    zstd.push("Accept-Encoding: gzip, zstd".into());
    let (head, body) = get_raw(addr, "/api/v1/subnet/1/block/latest/neurons", &zstd).await;
    assert!(head.contains("content-encoding: zstd"), "{head}");
    let unzstd = zstd::bulk::decompress(&body, 10 * plain.body.len()).unwrap();
    assert_eq!(String::from_utf8(unzstd).unwrap(), plain.body);

    // A body over the limit is refused before anything reads it.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "PUT /api/v1/identity/validator/subnet/1/weights HTTP/1.1\r\nHost: pylon\r\n\
         Authorization: Bearer {IDENTITY}\r\nContent-Type: application/json\r\n\
         Content-Length: 5000000\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    // Within the limit, the body reaches the weights validation, which names what is wrong.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "PUT /api/v1/identity/validator/subnet/1/weights HTTP/1.1\r\nHost: pylon\r\n\
         Authorization: Bearer {IDENTITY}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 422");

    // Unknown routes answer in the same JSON shape.
    let nowhere = get(addr, "/api/v1/nowhere", &open).await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.json()["status_code"], 404);

    // The identities list, and an unrouted write.
    let identities = get(addr, "/api/v1/identities", &[]).await.json();
    assert_eq!(
        identities,
        serde_json::json!({"identities": {"validator": 1, "other": 2}})
    );
    let schema = get(addr, "/schema/openapi.json", &[]).await.json();
    assert!(schema["paths"]["/api/v1/subnet/{netuid}/block/latest/neurons"].is_object());

    devnet.stop().await;
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_the_auth_matrix_with_the_exact_status() {
    let (devnet, addr, _wallets) = start().await;
    let alice = ss58("//Alice");
    let routes = [
        "/block/latest".to_string(),
        "/block/latest/neurons".into(),
        "/block/recent/neurons".into(),
        "/block/0/neurons".into(),
        "/block/latest/validators".into(),
        "/block/0/validators".into(),
        "/block/1/extrinsic/0".into(),
        "/block/latest/certificates".into(),
        format!("/block/latest/certificates/{alice}"),
        "/block/latest/commitments".into(),
        format!("/block/latest/commitments/{alice}"),
        "/block/latest/commitments/revealed".into(),
        format!("/block/latest/commitments/revealed/{alice}"),
    ];
    let malformed = vec![format!("Authorization: Basic {OPEN}")];
    for route in &routes {
        let open = format!("/api/v1/subnet/1{route}");
        let identity = format!("/api/v1/identity/validator/subnet/1{route}");
        let cases: [(&str, &String, Vec<String>, u16); 10] = [
            ("open, no token", &open, vec![], 401),
            ("open, malformed", &open, malformed.clone(), 401),
            ("open, wrong", &open, bearer("nope"), 403),
            ("open, identity token", &open, bearer(IDENTITY), 403),
            ("open, right", &open, bearer(OPEN), 200),
            ("identity, no token", &identity, vec![], 401),
            ("identity, malformed", &identity, malformed.clone(), 401),
            ("identity, wrong", &identity, bearer("nope"), 403),
            ("identity, open token", &identity, bearer(OPEN), 403),
            ("identity, right", &identity, bearer(IDENTITY), 200),
        ];
        for (case, path, headers, status) in cases {
            let reply = get(addr, path, &headers).await;
            assert_eq!(reply.status, status, "{case} {path}: {}", reply.body);
        }
        // Another identity's token, an unknown identity, and an identity on the wrong subnet.
        let other = get(addr, &identity, &bearer(OTHER_IDENTITY)).await;
        assert_eq!(other.status, 403, "{identity}");
        let unknown = format!("/api/v1/identity/nobody/subnet/1{route}");
        assert_eq!(
            get(addr, &unknown, &bearer(IDENTITY)).await.status,
            404,
            "{unknown}"
        );
        let wrong_subnet = format!("/api/v1/identity/validator/subnet/2{route}");
        let reply = get(addr, &wrong_subnet, &bearer(IDENTITY)).await;
        assert_eq!(reply.status, 308, "{wrong_subnet}");
        assert!(reply.body.contains("netuid"), "{}", reply.body);
    }
    // Chain-level routes take the open-access token only.
    for path in ["/api/v1/block/latest", "/api/v1/block/1/extrinsic/0"] {
        let cases: [(Vec<String>, u16); 5] = [
            (vec![], 401),
            (malformed.clone(), 401),
            (bearer("nope"), 403),
            (bearer(IDENTITY), 403),
            (bearer(OPEN), 200),
        ];
        for (headers, status) in cases {
            let reply = get(addr, path, &headers).await;
            assert_eq!(reply.status, status, "{path} {headers:?}: {}", reply.body);
        }
    }
    devnet.stop().await;
}
