//! What an operator relies on, against a devnet: `/metrics` auth (like the reference) and its
//! content after real requests; `/health` always up; `/ready` following the chain connection and
//! the head's freshness; a graceful shutdown that finishes the request in flight.
//!
//! The request series live in one process-wide registry, so every test here uses its own routes
//! and the counts are compared before and after.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{bearer, local_settings as settings, manual_devnet_config, request, serve, Reply};
use pylon_devnet::{DevnetConfig, DevnetHandle};
use pylon_service::{Secret, Service};

const METRICS_TOKEN: &str = "metrics-token-for-tests";
const OPEN_TOKEN: &str = "open-access-token-for-tests";

async fn devnet(port: u16) -> DevnetHandle {
    common::devnet(DevnetConfig {
        port,
        ..manual_devnet_config()
    })
    .await
}

async fn get(addr: SocketAddr, path: &str, headers: &[String]) -> Reply {
    request(addr, "GET", path, headers, b"").await
}

/// The value of the sample `name{labels}` (labels in the exposition's sorted order), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

fn requests_series(path: &str, status: u16) -> String {
    format!(
        "pylon_requests_total{{app_name=\"bittensor-pylon\",method=\"GET\",path=\"{path}\",status_code=\"{status}\"}}"
    )
}

async fn scrape(addr: SocketAddr) -> String {
    let reply = get(addr, "/metrics", &bearer(METRICS_TOKEN)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    reply.body
}

/// Poll `path` until it answers `status` (the service notices chain changes in the background).
async fn until_status(addr: SocketAddr, path: &str, status: u16) -> Reply {
    let mut reply = get(addr, path, &[]).await;
    for _ in 0..400 {
        if reply.status == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        reply = get(addr, path, &[]).await;
    }
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_without_a_token_and_need_the_right_bearer() {
    let chain = devnet(0).await;
    let off = serve(settings(&chain)).await;
    let reply = get(off, "/metrics", &bearer(METRICS_TOKEN)).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("PYLON_METRICS_TOKEN"));

    let mut guarded = settings(&chain);
    guarded.metrics_token = Secret::new(METRICS_TOKEN);
    guarded.open_access_token = Secret::new(OPEN_TOKEN);
    let addr = serve(guarded).await;
    let refused: [(&str, Vec<String>); 4] = [
        ("no header", vec![]),
        ("malformed", vec![format!("Authorization: {METRICS_TOKEN}")]),
        ("wrong token", bearer("not-the-metrics-token")),
        ("another tier's token", bearer(OPEN_TOKEN)),
    ];
    for (case, headers) in refused {
        let reply = get(addr, "/metrics", &headers).await;
        // 403 for all of them, like the reference (service 2.x).
        assert_eq!(reply.status, 403, "{case}: {}", reply.body);
        assert!(!reply.body.contains("pylon_requests_total"), "{case}");
    }
    // And the metrics token opens nothing else.
    let reply = get(
        addr,
        "/api/v1/subnet/1/block/latest",
        &bearer(METRICS_TOKEN),
    )
    .await;
    assert_eq!(reply.status, 403);
    let text = scrape(addr).await;
    assert!(!text.contains(METRICS_TOKEN) && !text.contains(OPEN_TOKEN));
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_template_and_show_the_cache_and_chain() {
    let chain = devnet(0).await;
    let mut settings = settings(&chain);
    settings.metrics_token = Secret::new(METRICS_TOKEN);
    let addr = serve(settings).await;
    let template = "/api/v1/subnet/{netuid}/block/latest/validators";
    let before = scrape(addr).await;
    let count =
        |text: &str, status| sample(text, &requests_series(template, status)).unwrap_or(0.0);
    let hits = |text: &str| sample(text, "pylon_cache_hits_total").unwrap();

    // Two subnets, one route: one series. The second read of subnet 3 is a cache hit.
    for netuid in [3, 3, 4] {
        let path = format!("/api/v1/subnet/{netuid}/block/latest/validators");
        assert_eq!(get(addr, &path, &[]).await.status, 200);
    }
    let bad = get(addr, "/api/v1/subnet/x/block/latest/validators", &[]).await;
    assert_eq!(bad.status, 400);
    let unmatched = get(addr, "/no/such/route-zq81", &[]).await;
    assert_eq!(unmatched.status, 404);
    let after = scrape(addr).await;

    assert_eq!(count(&after, 200) - count(&before, 200), 3.0, "{after}");
    assert_eq!(count(&after, 400) - count(&before, 400), 1.0, "{after}");
    // Raw paths never become labels: unknown routes share one.
    assert!(!after.contains("/api/v1/subnet/3/") && !after.contains("route-zq81"));
    assert!(sample(&after, &requests_series("<unmatched>", 404)).unwrap() >= 1.0);
    assert!(after.contains(&format!(
        "pylon_request_duration_seconds_count{{app_name=\"bittensor-pylon\",method=\"GET\",path=\"{template}\",status_code=\"200\"}}"
    )));
    // The scrape itself is in progress while it renders.
    assert!(
        sample(
            &after,
            "pylon_requests_in_progress{app_name=\"bittensor-pylon\",method=\"GET\",path=\"/metrics\"}"
        )
        .unwrap()
            >= 1.0
    );

    assert!(hits(&after) > hits(&before), "{after}");
    assert!(sample(&after, "pylon_cache_misses_total").unwrap() >= 2.0);
    assert!(sample(&after, "pylon_cache_bytes").unwrap() > 0.0);
    // The reference's labels (operation, status, uri, netuid, hotkey), plus our outcome.
    let uri = chain.ws_url();
    let neurons_calls = format!(
        "pylon_bittensor_operation_duration_seconds_count{{hotkey=\"N/A\",netuid=\"N/A\",operation=\"neurons\",outcome=\"success\",status=\"success\",uri=\"{uri}\"}}"
    );
    assert!(sample(&after, &neurons_calls).unwrap() >= 2.0, "{after}");
    assert_eq!(sample(&after, "pylon_chain_connected"), Some(1.0));
    assert_eq!(
        sample(&after, "pylon_chain_head_block"),
        Some(f64::from(chain.best_number()))
    );
    assert_eq!(sample(&after, "pylon_chain_reconnects_total"), Some(0.0));
    assert!(sample(&after, "pylon_chain_head_age_seconds").is_some());
    // Subnets read at the latest block are kept fresh: their lag shows.
    assert_eq!(
        sample(&after, "pylon_cache_neurons_lag_blocks{netuid=\"3\"}"),
        Some(0.0)
    );
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_always_up_and_ready_follows_the_chain_connection() {
    let chain = devnet(0).await;
    let port = chain.local_addr().port();
    let addr = serve(settings(&chain)).await;
    assert_eq!(get(addr, "/health", &[]).await.status, 200);
    let ready = get(addr, "/ready", &[]).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");

    chain.stop().await;
    let down = until_status(addr, "/ready", 503).await;
    assert_eq!(down.status, 503, "{}", down.body);
    let body = down.json();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["connected"], false);
    assert!(body["reason"].as_str().unwrap().contains("not connected"));
    assert_eq!(get(addr, "/health", &[]).await.status, 200);

    // Back on the same address: ready again without help.
    let chain = devnet(port).await;
    let up = until_status(addr, "/ready", 200).await;
    assert_eq!(up.status, 200, "{}", up.body);
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_turns_503_when_the_head_stops_advancing_and_back_on_a_new_block() {
    let chain = devnet(0).await;
    let mut settings = settings(&chain);
    settings.ready_max_head_age = Duration::from_millis(300);
    let addr = serve(settings).await;
    // No block is sealed: the connected node's head grows old.
    let stale = until_status(addr, "/ready", 503).await;
    assert_eq!(stale.status, 503, "{}", stale.body);
    let body = stale.json();
    assert_eq!(body["connected"], true);
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("PYLON_READY_MAX_HEAD_AGE_SECONDS"),
        "{body}"
    );
    // A new head makes it ready again (checked at once, well within the allowed age).
    let mut ready = stale;
    for _ in 0..100 {
        chain.seal_block().await;
        ready = get(addr, "/ready", &[]).await;
        if ready.status == 200 {
            break;
        }
    }
    assert_eq!(ready.status, 200, "{}", ready.body);
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_finishes_the_request_in_flight() {
    let chain = devnet(0).await;
    let mut settings = settings(&chain);
    settings.metrics_token = Secret::new(METRICS_TOKEN);
    let service = Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(async {
        let _ = stopped.await;
    }));

    // A request that needs the chain, held up by a slow node, is in flight when shutdown starts.
    stall(&chain, 1_000).await;
    let in_flight =
        tokio::spawn(async move { get(addr, "/api/v1/subnet/2/block/latest/neurons", &[]).await });
    // Shut down once the service is working on it.
    let in_progress = "pylon_requests_in_progress{app_name=\"bittensor-pylon\",method=\"GET\",path=\"/api/v1/subnet/{netuid}/block/latest/neurons\"}";
    let mut started = false;
    for _ in 0..400 {
        started = sample(&scrape(addr).await, in_progress) == Some(1.0);
        if started {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started, "the request never started");
    stop.send(()).unwrap();
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.await.unwrap().expect("a clean exit");
    // No longer accepting.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_a_request_that_outlasts_the_bound() {
    let chain = devnet(0).await;
    let mut settings = settings(&chain);
    settings.metrics_token = Secret::new(METRICS_TOKEN);
    settings.shutdown_timeout = Duration::from_millis(200);
    let service = Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(async {
        let _ = stopped.await;
    }));

    // Every chain call now takes 5 s: the read cannot finish before the 200 ms bound.
    stall(&chain, 5_000).await;
    let in_flight =
        tokio::spawn(
            async move { get(addr, "/api/v1/subnet/5/block/latest/certificates", &[]).await },
        );
    let in_progress = "pylon_requests_in_progress{app_name=\"bittensor-pylon\",method=\"GET\",path=\"/api/v1/subnet/{netuid}/block/latest/certificates\"}";
    let mut started = false;
    for _ in 0..400 {
        started = sample(&scrape(addr).await, in_progress).is_some_and(|n| n >= 1.0);
        if started {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started, "the request never started");
    stop.send(()).unwrap();
    server.await.unwrap().expect("serve returns at the bound");
    assert!(!in_flight.is_finished());
    in_flight.abort();
    chain.stop().await;
}

/// Make the devnet answer every RPC `ms` late (its `dev_stall` admin call).
async fn stall(devnet: &DevnetHandle, ms: u64) {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"dev_stall","params":[{ms}]}}"#);
    let reply = common::request(
        devnet.local_addr(),
        "POST",
        "/",
        &["Content-Type: application/json".to_string()],
        body.as_bytes(),
    )
    .await;
    assert!(reply.body.contains("\"result\""), "{}", reply.body);
}
