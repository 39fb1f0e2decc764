//! Hostile clients and a stalling chain, against the service `pylon serve` runs, in front of a
//! devnet: what a client can make the service sign, hold, wait for, or answer. Raw HTTP over a
//! TcpStream wherever a well-behaved client cannot say it (slowloris, stalled bodies, broken
//! chunking, idle connections).
//!
//! | Hostile input | Expected | Test |
//! |---|---|---|
//! | A write body that is not the documented object, or over the chain's limits | 422 naming the limit; the hotkey's nonce does not move | [`write_bodies_are_checked_against_the_chains_limits_before_anything_is_signed`] |
//! | A stalled chain several blocks behind the heads | latest reads answer at once from the cache, then catch up | [`latest_reads_never_wait_on_a_stalled_chain`] |
//! | Idle, slowloris and keep-alive-idle connections; too many connections; huge heads | closed within the header read timeout; 503 JSON past the cap; 431 | [`idle_and_slow_connections_are_closed_and_extra_ones_refused`] |
//! | A body that stops coming | 408 within the body read timeout | [`a_stalled_body_is_a_408_within_the_body_read_timeout`] |
//! | Methods a path does not take, broken chunking, oversized bodies, unknown paths | the usual JSON error shape, `Allow` on 405 | [`every_error_the_router_gives_is_json`] |
//! | Thousands of bad or unregistered keys; a long hotkey | a bounded answer: the first few named, the rest counted, echoes cut | [`error_answers_stay_small_whatever_the_request`] |
//! | ss58 addresses of other networks | 400 / 422 naming the expected prefix (42) | [`addresses_of_other_networks_are_refused_naming_the_prefix`] |
//! | An identity route with another netuid | 308 with `Location` | [`another_netuid_is_redirected_with_a_location`] |

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{bearer, dev_wallets, identity, local_settings, request, serve, ss58, Reply};
use pylon_devnet::{dev_keypair, DevnetHandle};
use pylon_service::Settings;
use serde_json::{json, Value};
use subxt::{OnlineClient, SubstrateConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "identity-token-hostile";

/// //Alice's key written with the Polkadot prefix (0) rather than Bittensor's (42).
const ALICE_POLKADOT: &str = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";

/// A devnet producing a block every `block_time` (zero: only when the test seals one).
async fn devnet(block_time: Duration) -> DevnetHandle {
    common::devnet(pylon_devnet::DevnetConfig {
        block_time,
        ..common::manual_devnet_config()
    })
    .await
}

/// Settings with identity `validator` (//Alice) on netuid 1; wallets kept alive by the caller.
fn settings(
    devnet: &DevnetHandle,
    wallets: &tempfile::TempDir,
    data: &tempfile::TempDir,
) -> Settings {
    let mut settings = local_settings(devnet);
    settings.wallet_path = wallets.path().to_path_buf();
    settings.data_dir = data.path().to_path_buf();
    settings.identities = vec![identity("validator", "h", 1, TOKEN)];
    settings
}

fn identity_path(tail: &str) -> String {
    format!("/api/v1/identity/validator/subnet/1{tail}")
}

/// //Alice's account nonce at the devnet's best block, read with subxt.
async fn alice_nonce(devnet: &DevnetHandle) -> u64 {
    let account = subxt::utils::AccountId32(dev_keypair("//Alice").unwrap().public);
    OnlineClient::<SubstrateConfig>::from_insecure_url(devnet.ws_url())
        .await
        .unwrap()
        .at_current_block()
        .await
        .unwrap()
        .transactions()
        .account_nonce(&account)
        .await
        .unwrap()
}

/// One JSON-RPC call to the devnet (its fault injection).
async fn rpc(devnet: &DevnetHandle, method: &str, params: Value) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let reply = raw(
        devnet.local_addr(),
        format!(
            "POST / HTTP/1.1\r\nHost: devnet\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    assert!(reply.contains("\"result\""), "{method}: {reply}");
}

/// Write `bytes` on a fresh connection and read until the server closes it (or `patience`).
async fn raw(addr: SocketAddr, bytes: &[u8], patience: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(patience, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The status and JSON body of a raw HTTP answer.
fn parse(answer: &str) -> (u16, String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_ascii_lowercase(), json)
}

/// Wait until the server closes `stream` (EOF or reset); how long that took, or `None` if it
/// is still open after `patience`.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut sink)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

fn is_error_shape(body: &Value, status: u16) -> bool {
    body["status_code"] == status && body["detail"].as_str().is_some_and(|d| !d.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_bodies_are_checked_against_the_chains_limits_before_anything_is_signed() {
    let devnet = devnet(Duration::from_millis(200)).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let addr = serve(settings(&devnet, &wallets, &data)).await;
    let nonce_before = alice_nonce(&devnet).await;

    let long_plain = json!({"commitment": format!("0x{}", "ab".repeat(385))}).to_string();
    let huge_timelocked =
        json!({"commitment": "x".repeat(100_000), "blocks_until_reveal": 5}).to_string();
    // Fits as text, not once encrypted (the ciphertext carries its own overhead).
    let near_limit = json!({"commitment": "x".repeat(1_020), "blocks_until_reveal": 5}).to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("/commitments", br#"["0x01"]"#.to_vec(), "JSON object"),
        ("/commitments", br#""0x01""#.to_vec(), "JSON object"),
        (
            "/commitments/revealed",
            br#"["x", 5]"#.to_vec(),
            "JSON object",
        ),
        ("/certificates/self", b"[1]".to_vec(), "JSON object"),
        (
            "/commitments",
            long_plain.into_bytes(),
            "Commitments.MaxFields = 3",
        ),
        (
            "/commitments/revealed",
            huge_timelocked.into_bytes(),
            "1024",
        ),
        (
            "/commitments/revealed",
            near_limit.into_bytes(),
            "MAX_TIMELOCK_COMMITMENT_SIZE_BYTES",
        ),
    ];
    for (tail, body, named) in cases {
        let reply = request(addr, "POST", &identity_path(tail), &bearer(TOKEN), &body).await;
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        assert_eq!(reply.status, 422, "{tail} {shown}: {}", reply.body);
        assert!(reply.body.contains(named), "{tail} {shown}: {}", reply.body);
        assert!(is_error_shape(&reply.json(), 422), "{}", reply.body);
    }
    // The plain commitment's limit comes from the chain's metadata: 3 fields of Raw128.
    let reply = request(
        addr,
        "POST",
        &identity_path("/commitments"),
        &bearer(TOKEN),
        json!({"commitment": "ab".repeat(385)})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert!(reply.body.contains("at most 384"), "{}", reply.body);

    // Nothing was signed: blocks go by and //Alice's nonce stays where it was.
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    assert_eq!(alice_nonce(&devnet).await, nonce_before);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_reads_never_wait_on_a_stalled_chain() {
    let devnet = devnet(Duration::ZERO).await;
    let addr = serve(local_settings(&devnet)).await;
    let path = "/api/v1/subnet/3/block/latest/neurons";
    let first = request(addr, "GET", path, &[], b"").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let cached_block = first.json()["block"]["number"].as_u64().unwrap();

    // The node turns slow (3 s per answer, as in the issue), and the chain moves on by several
    // blocks: the cached answer is more than one block behind the head.
    rpc(&devnet, "dev_stall", json!([3_000])).await;
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    // The service has seen the new heads once their block info cannot be read in time.
    let mut seen = false;
    for _ in 0..100 {
        let reply = request(
            addr,
            "GET",
            "/api/v1/block/latest",
            &["X-Pylon-Timeout: 0.2".to_string()],
            b"",
        )
        .await;
        if reply.status == 504 {
            seen = true;
            break;
        }
    }
    assert!(seen, "the new heads never arrived");
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..10 {
        let started = Instant::now();
        let reply = request(addr, "GET", path, &["X-Pylon-Timeout: 5".to_string()], b"").await;
        let took = started.elapsed();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(took < Duration::from_secs(1), "a reader waited {took:?}");
        let block = reply.json()["block"]["number"].as_u64().unwrap();
        assert_eq!(block, cached_block, "served from the cache");
        assert_eq!(
            reply.header("x-pylon-block"),
            Some(cached_block.to_string())
        );
    }

    // Once the node answers again, the background refresh brings the new head's answer.
    rpc(&devnet, "dev_stall", json!([0])).await;
    let head = u64::from(devnet.best_number());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = request(addr, "GET", path, &[], b"").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.json()["block"]["number"].as_u64() == Some(head) {
            break;
        }
        assert!(Instant::now() < deadline, "never refreshed: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed_and_extra_ones_refused() {
    let devnet = devnet(Duration::ZERO).await;
    let mut settings = local_settings(&devnet);
    settings.header_read_timeout = Duration::from_secs(1);
    settings.max_connections = 6;
    let addr = serve(settings).await;
    let within = Duration::from_secs(4);

    // A connection that never sends a byte.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // A slowloris: a request head trickling in, a header line every 200 ms, never finished.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/v1/identities HTTP/1.1\r\nHost: pylon\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for i in 0..40 {
            if slow
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return (slow, true);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (slow, false)
    });
    // A keep-alive connection idle after one answer.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /api/v1/identities HTTP/1.1\r\nHost: pylon\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    kept.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    let idle_closed = closed_within(&mut idle, within).await;
    assert!(idle_closed.is_some(), "an idle connection stayed open");
    let kept_closed = closed_within(&mut kept, within).await;
    assert!(
        kept_closed.is_some(),
        "an idle keep-alive connection stayed open"
    );
    let (mut slow, cut) = trickle.await.unwrap();
    let slow_closed = if cut {
        Some(Duration::ZERO)
    } else {
        closed_within(&mut slow, Duration::from_millis(100)).await
    };
    assert!(
        slow_closed.is_some(),
        "a slowloris connection stayed open for 8 s"
    );

    // Past the cap: the extra connection is told why, in the usual JSON shape, and closed.
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = raw(
        addr,
        b"GET /api/v1/identities HTTP/1.1\r\nHost: pylon\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    let (status, head, body) = parse(&refused);
    assert_eq!(status, 503, "{refused}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(is_error_shape(&body, 503), "{refused}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("PYLON_MAX_CONNECTIONS"));
    // Once they go, connections are served again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = raw(
            addr,
            b"GET /api/v1/identities HTTP/1.1\r\nHost: pylon\r\nConnection: close\r\n\r\n",
            Duration::from_secs(3),
        )
        .await;
        if parse(&answer).0 == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request head over PYLON_MAX_HEADER_BYTES is refused without being buffered further.
    let huge = format!(
        "GET /api/v1/identities HTTP/1.1\r\nHost: pylon\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let answer = raw(addr, huge.as_bytes(), Duration::from_secs(3)).await;
    assert_eq!(parse(&answer).0, 431, "{answer}");
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_a_408_within_the_body_read_timeout() {
    let devnet = devnet(Duration::ZERO).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let mut settings = settings(&devnet, &wallets, &data);
    settings.body_read_timeout = Duration::from_secs(1);
    let addr = serve(settings).await;
    let head = |framing: &str| {
        format!(
            "PUT {} HTTP/1.1\r\nHost: pylon\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\n{framing}\r\n\r\n",
            identity_path("/weights")
        )
    };
    let stalls = [
        // Content-Length: 100, 10 bytes sent.
        format!("{}{{\"weights\"", head("Content-Length: 100")),
        // A chunked body that stops after its first chunk.
        format!("{}5\r\n{{\"wei\r\n", head("Transfer-Encoding: chunked")),
    ];
    for stalled in stalls {
        let started = Instant::now();
        let answer = raw(addr, stalled.as_bytes(), Duration::from_secs(10)).await;
        let took = started.elapsed();
        let (status, _, body) = parse(&answer);
        assert_eq!(status, 408, "{answer}");
        assert!(is_error_shape(&body, 408), "{answer}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("PYLON_BODY_READ_TIMEOUT_SECONDS"),
            "{answer}"
        );
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_the_router_gives_is_json() {
    let devnet = devnet(Duration::ZERO).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let mut settings = settings(&devnet, &wallets, &data);
    settings.max_body_bytes = 1000;
    let addr = serve(settings).await;
    let neurons = "/api/v1/subnet/1/block/latest/neurons";

    for (method, extra) in [
        ("OPTIONS", vec![]),
        ("TRACE", vec![]),
        ("DELETE", vec![]),
        ("FROB", vec![]),
        (
            "OPTIONS",
            vec![
                "Origin: https://evil.example".to_string(),
                "Access-Control-Request-Method: GET".to_string(),
            ],
        ),
    ] {
        let reply = request(addr, method, neurons, &extra, b"").await;
        assert_eq!(reply.status, 405, "{method}: {}", reply.body);
        assert!(
            is_error_shape(&reply.json(), 405),
            "{method}: {}",
            reply.body
        );
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(method), "{detail}");
        let allow = reply.header("allow").unwrap_or_default();
        assert!(allow.contains("GET"), "{method}: Allow = {allow:?}");
        // The detail names what the Allow header does (axum adds it outside the route's layers).
        assert!(detail.contains("allowed: GET"), "{method}: {detail}");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/json")
        );
    }

    let unknown = request(addr, "GET", "/api/v1/nowhere", &[], b"").await;
    assert_eq!(unknown.status, 404);
    assert!(is_error_shape(&unknown.json(), 404), "{}", unknown.body);

    let weights = identity_path("/weights");
    let auth = format!("Authorization: Bearer {TOKEN}");
    // Over the body limit, announced and chunked.
    let announced = raw(
        addr,
        format!("PUT {weights} HTTP/1.1\r\nHost: p\r\n{auth}\r\nContent-Length: 5000\r\n\r\n")
            .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    let (status, _, body) = parse(&announced);
    assert_eq!(status, 413, "{announced}");
    assert!(is_error_shape(&body, 413), "{announced}");
    let chunk = format!("3e8\r\n{}\r\n", " ".repeat(1000));
    let chunked = raw(
        addr,
        format!(
            "PUT {weights} HTTP/1.1\r\nHost: p\r\n{auth}\r\nTransfer-Encoding: chunked\r\n\r\n\
             {chunk}{chunk}0\r\n\r\n"
        )
        .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    let (status, _, body) = parse(&chunked);
    assert_eq!(status, 413, "{chunked}");
    assert!(is_error_shape(&body, 413), "{chunked}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("PYLON_MAX_BODY_BYTES"));
    // A chunk size that is not hex.
    let broken = raw(
        addr,
        format!(
            "PUT {weights} HTTP/1.1\r\nHost: p\r\n{auth}\r\nTransfer-Encoding: chunked\r\n\r\n\
             zz\r\nhello\r\n0\r\n\r\n"
        )
        .as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    let (status, _, body) = parse(&broken);
    assert_eq!(status, 400, "{broken}");
    assert!(is_error_shape(&body, 400), "{broken}");
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers_stay_small_whatever_the_request() {
    let devnet = devnet(Duration::ZERO).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let mut settings = settings(&devnet, &wallets, &data);
    settings.max_body_bytes = 4 * 1024 * 1024;
    let addr = serve(settings).await;
    let weights = identity_path("/weights");

    // 100,000 short bad keys (about 1 MB): a 422 of a few hundred bytes naming the first ten.
    let entries: Vec<String> = (0..100_000).map(|i| format!("\"k{i}\":1")).collect();
    let body = format!("{{\"weights\":{{{}}}}}", entries.join(","));
    let reply = request(addr, "PUT", &weights, &bearer(TOKEN), body.as_bytes()).await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        &reply.body[..reply.body.len().min(300)]
    );
    assert!(reply.body.len() < 4_000, "{} bytes", reply.body.len());
    assert!(reply.body.contains("100000 in all"), "{}", reply.body);

    // 5,000 well-formed hotkeys none of which is registered: the same bound.
    let strangers: Vec<String> = (0..5_000u32)
        .map(|i| {
            let mut key = [7u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            format!("\"{}\":1", subxt::utils::AccountId32(key))
        })
        .collect();
    let body = format!("{{\"weights\":{{{}}}}}", strangers.join(","));
    let reply = request(addr, "PUT", &weights, &bearer(TOKEN), body.as_bytes()).await;
    assert_eq!(
        reply.status,
        422,
        "{}",
        &reply.body[..reply.body.len().min(300)]
    );
    assert!(reply.body.len() < 2_000, "{} bytes", reply.body.len());
    assert!(reply.body.contains("5000 in all"), "{}", reply.body);

    // A long hotkey (in the body and in the path) is echoed cut short.
    let long = "5".repeat(10_000);
    let body = format!("{{\"weights\":{{\"{long}\":1}}}}");
    let reply = request(addr, "PUT", &weights, &bearer(TOKEN), body.as_bytes()).await;
    assert_eq!(reply.status, 422);
    assert!(reply.body.len() < 500, "{}", reply.body);
    assert!(reply.body.contains("(10000 chars)"), "{}", reply.body);
    let reply = request(
        addr,
        "GET",
        &format!("/api/v1/subnet/1/block/latest/commitments/{long}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.len() < 500, "{}", reply.body);
    assert!(reply.body.contains("(10000 chars)"), "{}", reply.body);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_of_other_networks_are_refused_naming_the_prefix() {
    let devnet = devnet(Duration::ZERO).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let addr = serve(settings(&devnet, &wallets, &data)).await;
    for route in ["commitments", "certificates", "commitments/revealed"] {
        let reply = request(
            addr,
            "GET",
            &format!("/api/v1/subnet/1/block/latest/{route}/{ALICE_POLKADOT}"),
            &[],
            b"",
        )
        .await;
        assert_eq!(reply.status, 400, "{route}: {}", reply.body);
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.starts_with("hotkey:"), "{detail}");
        assert!(
            detail.contains("prefix 0") && detail.contains("prefix is 42"),
            "{detail}"
        );
    }
    // The same address under the chain's prefix is //Alice and is read.
    let reply = request(
        addr,
        "GET",
        &format!(
            "/api/v1/subnet/1/block/latest/commitments/revealed/{}",
            ss58("//Alice")
        ),
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let body = json!({"weights": {ALICE_POLKADOT: 1.0}}).to_string();
    let reply: Reply = request(
        addr,
        "PUT",
        &identity_path("/weights"),
        &bearer(TOKEN),
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("prefix is 42"), "{}", reply.body);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_netuid_is_redirected_with_a_location() {
    let devnet = devnet(Duration::ZERO).await;
    let (wallets, data) = (dev_wallets(), tempfile::tempdir().unwrap());
    let addr = serve(settings(&devnet, &wallets, &data)).await;
    let reply = request(
        addr,
        "GET",
        "/api/v1/identity/validator/subnet/7/block/latest/neurons?x=1",
        &bearer(TOKEN),
        b"",
    )
    .await;
    assert_eq!(reply.status, 308, "{}", reply.body);
    assert_eq!(
        reply.header("location").as_deref(),
        Some("/api/v1/identity/validator/subnet/1/block/latest/neurons?x=1")
    );
    assert!(is_error_shape(&reply.json(), 308), "{}", reply.body);
    // Following it works.
    let reply = request(
        addr,
        "GET",
        "/api/v1/identity/validator/subnet/1/block/latest/neurons?x=1",
        &bearer(TOKEN),
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    devnet.stop().await;
}
