//! The live event stream (`…/subnet/{netuid}/events`) against a devnet sealing blocks on demand:
//! `block` events follow the devnet's own heads (numbers and hashes, read from its JSON-RPC)
//! without a gap even when heads come faster than the watch, `Last-Event-ID` resumes from the
//! replay buffer, a lost id yields one `gap`, epochs fire on the chain's schedule, and an unknown
//! subnet is a 404 before any stream opens.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common;
use common::{bearer, devnet, local_settings, manual_devnet_config, request, serve};
use pylon_devnet::DevnetHandle;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const OPEN: &str = "open-token";

/// One SSE event as the stream sent it.
#[derive(Debug, Clone)]
struct Sse {
    id: Option<String>,
    kind: String,
    data: Value,
}

/// An open event stream (HTTP/1.0, so the body is the raw stream, not chunked).
struct Stream {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
    head: String,
}

impl Stream {
    async fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> Stream {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let mut head =
            format!("GET {path} HTTP/1.0\r\nHost: pylon\r\nAuthorization: Bearer {OPEN}\r\n");
        if let Some(id) = last_event_id {
            head.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        head.push_str("\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut lines = BufReader::new(tcp).lines();
        let mut response = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.is_empty() {
                break;
            }
            response.push_str(&line);
            response.push('\n');
        }
        Stream {
            lines,
            head: response.to_ascii_lowercase(),
        }
    }

    /// The next event (skipping `retry:` and comment lines), within 20 s.
    async fn next(&mut self) -> Sse {
        tokio::time::timeout(Duration::from_secs(20), async {
            let (mut id, mut kind, mut data) = (None, None, String::new());
            loop {
                let line = self.lines.next_line().await.unwrap().expect("stream open");
                if line.is_empty() {
                    if let Some(kind) = kind.take() {
                        return Sse {
                            id: id.take(),
                            kind,
                            data: serde_json::from_str(&data).unwrap(),
                        };
                    }
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((&line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => id = Some(value.to_owned()),
                    "event" => kind = Some(value.to_owned()),
                    "data" => data.push_str(value),
                    _ => {}
                }
            }
        })
        .await
        .expect("an event within 20 s")
    }

    /// Wait (at most 30 s) for the service to end the stream.
    async fn ended(&mut self) {
        tokio::time::timeout(Duration::from_secs(30), async {
            while self.lines.next_line().await.ok().flatten().is_some() {}
        })
        .await
        .expect("the stream ends");
    }

    /// The next event of `kind`, skipping others.
    async fn next_of(&mut self, kind: &str) -> Sse {
        loop {
            let event = self.next().await;
            if event.kind == kind {
                return event;
            }
        }
    }
}

/// The devnet's own hash of block `number` (`chain_getBlockHash`).
async fn devnet_hash(devnet: &DevnetHandle, number: u64) -> String {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "chain_getBlockHash", "params": [number]});
    let reply = request(
        devnet.local_addr(),
        "POST",
        "/",
        &["Content-Type: application/json".to_owned()],
        body.to_string().as_bytes(),
    )
    .await;
    reply.json()["result"].as_str().unwrap().to_owned()
}

async fn service(devnet: &DevnetHandle) -> SocketAddr {
    let mut settings = local_settings(devnet);
    settings.open_access_token = pylon_service::Secret::new(OPEN);
    serve(settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_events_follow_the_devnets_heads_and_resume_by_last_event_id() {
    let devnet = devnet(manual_devnet_config()).await;
    let addr = service(&devnet).await;
    let path = "/api/v1/subnet/1/events";
    let mut stream = Stream::open(addr, path, None).await;
    assert!(
        stream.head.starts_with("http/1.0 200") || stream.head.starts_with("http/1.1 200"),
        "{}",
        stream.head
    );
    assert!(
        stream.head.contains("content-type: text/event-stream"),
        "{}",
        stream.head
    );
    assert!(
        stream.head.contains("cache-control: no-cache"),
        "{}",
        stream.head
    );

    // One block at a time, then three at once (the head watch may skip some: none is missed).
    devnet.seal_block().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    devnet.seal_block().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    let best = u64::from(devnet.best_number());
    let mut blocks = Vec::new();
    loop {
        let event = stream.next_of("block").await;
        let number = event.data["number"].as_u64().unwrap();
        blocks.push(event);
        if number == best {
            break;
        }
    }
    assert!(blocks.len() >= 5, "{blocks:?}");
    let mut previous_id: Option<(u64, u64)> = None;
    for (i, event) in blocks.iter().enumerate() {
        let number = event.data["number"].as_u64().unwrap();
        if i > 0 {
            let before = blocks[i - 1].data["number"].as_u64().unwrap();
            assert_eq!(number, before + 1, "consecutive: {blocks:?}");
        }
        assert_eq!(
            event.data["hash"].as_str().unwrap(),
            devnet_hash(&devnet, number).await,
            "block {number}'s hash is the devnet's"
        );
        assert!(event.data["timestamp"].as_u64().unwrap() > 1_600_000_000);
        let id = event.id.as_deref().unwrap();
        let (block, n) = id.split_once('-').unwrap();
        let id = (block.parse::<u64>().unwrap(), n.parse::<u64>().unwrap());
        assert_eq!(id.0, number, "the id names the block");
        assert!(previous_id.is_none_or(|p| p < id), "ids increase");
        previous_id = Some(id);
    }

    // Reconnect after the second block event: the replay gives every later event, no gap.
    let resume_after = blocks[1].id.clone().unwrap();
    let mut resumed = Stream::open(addr, path, Some(&resume_after)).await;
    for expected in &blocks[2..] {
        let event = resumed.next().await;
        if event.kind != "block" {
            continue;
        }
        assert_eq!(event.id, expected.id, "replayed in order");
        assert_eq!(event.data, expected.data);
    }
    // …and then live ones.
    devnet.seal_block().await;
    let live = resumed.next_of("block").await;
    assert_eq!(live.data["number"].as_u64().unwrap(), best + 1);
    assert_eq!(
        live.data["hash"].as_str().unwrap(),
        devnet_hash(&devnet, best + 1).await
    );

    // An id the buffer does not hold (older, or from another process): one `gap`, then live.
    for stale in ["1-0", "not-an-id"] {
        let mut gapped = Stream::open(addr, path, Some(stale)).await;
        let first = gapped.next().await;
        assert_eq!(first.kind, "gap", "{first:?}");
        assert_eq!(first.data["last_event_id"], stale);
        devnet.seal_block().await;
        let next = gapped.next_of("block").await;
        assert_eq!(
            next.data["number"].as_u64().unwrap(),
            u64::from(devnet.best_number())
        );
    }

    // An unknown subnet is a 404 before any stream; a wrong token a 403.
    let reply = request(addr, "GET", "/api/v1/subnet/999/events", &bearer(OPEN), b"").await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = request(addr, "GET", path, &bearer("wrong"), b"").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    // The stream is in the OpenAPI document, as text/event-stream.
    let document = request(addr, "GET", "/schema/openapi.json", &[], b"").await;
    let document = document.json();
    for path in [
        "/api/v1/subnet/{netuid}/events",
        "/api/v1/identity/{name}/subnet/{netuid}/events",
        "/api/_unstable/openaccess/subnet/{netuid}/events",
        "/api/_unstable/identity/{name}/subnet/{netuid}/events",
    ] {
        let operation = &document["paths"][path]["get"];
        assert!(
            operation["responses"]["200"]["content"]["text/event-stream"].is_object(),
            "{path}: {operation}"
        );
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_events_come_when_the_chain_runs_the_subnets_epoch() {
    let mut config = manual_devnet_config();
    // netuid 3 with tempo 4: an epoch every 4 blocks (the stateful scheduler of spec 424).
    for subnet in &mut config.scenario.subnets {
        if subnet.netuid == 3 {
            subnet.hyperparameters.tempo = 4;
        }
    }
    let devnet = devnet(config).await;
    let mut settings = local_settings(&devnet);
    settings.open_access_token = pylon_service::Secret::new(OPEN);
    settings.events_max_subscribers = 2;
    let addr = serve(settings).await;
    let mut stream = Stream::open(addr, "/api/v1/subnet/3/events", None).await;
    let mut fires = Vec::new();
    for _ in 0..14 {
        devnet.seal_block().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let best = u64::from(devnet.best_number());
    loop {
        let event = stream.next().await;
        match event.kind.as_str() {
            "epoch" => fires.push(event.data),
            "block" if event.data["number"].as_u64().unwrap() == best => break,
            _ => {}
        }
    }
    assert!(fires.len() >= 2, "{fires:?}");
    for pair in fires.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(
            b["block"].as_u64().unwrap() - a["block"].as_u64().unwrap(),
            4
        );
        assert_eq!(
            b["index"].as_u64().unwrap(),
            a["index"].as_u64().unwrap() + 1
        );
        assert_eq!(
            a["next_start"], b["block"],
            "next_start foretold the next fire"
        );
        assert_eq!(a["netuid"], 3);
    }

    // The subscriber cap: 2 streams, a third is a 503 naming the setting.
    let _second = Stream::open(addr, "/api/v1/subnet/3/events", None).await;
    let reply = request(addr, "GET", "/api/v1/subnet/3/events", &bearer(OPEN), b"").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply.body.contains("PYLON_EVENTS_MAX_SUBSCRIBERS"),
        "{}",
        reply.body
    );
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_reset_ends_the_streams_and_a_reconnect_gets_a_gap_then_the_new_chain() {
    let old = pylon_devnet::spawn(manual_devnet_config()).await.unwrap();
    let port = old.local_addr().port();
    for _ in 0..20 {
        old.seal_block().await;
    }
    let addr = service(&old).await;
    let path = "/api/v1/subnet/1/events";
    let mut stream = Stream::open(addr, path, None).await;
    old.seal_block().await;
    let seen = stream.next_of("block").await;
    assert_eq!(seen.data["number"], 21);
    old.stop().await;

    // Another chain (another genesis) on the same address, lower than the old one.
    let mut scenario = pylon_devnet::Scenario::builtin_default();
    scenario.subnets[0].generated_neurons = 5;
    let new = pylon_devnet::spawn(pylon_devnet::DevnetConfig {
        port,
        scenario,
        ..manual_devnet_config()
    })
    .await
    .unwrap();
    for _ in 0..3 {
        new.seal_block().await;
    }
    // The old chain's stream ends once the service sees the new chain…
    stream.ended().await;
    // …and a reconnect with its last id is told events were missed, then follows the new chain.
    let mut again = Stream::open(addr, path, seen.id.as_deref()).await;
    assert!(again.head.contains(" 200"), "{}", again.head);
    let gap = again.next().await;
    assert_eq!(gap.kind, "gap", "{gap:?}");
    new.seal_block().await;
    loop {
        let block = again.next_of("block").await;
        let number = block.data["number"].as_u64().unwrap();
        assert_eq!(
            block.data["hash"].as_str().unwrap(),
            devnet_hash(&new, number).await,
            "only the new chain's blocks"
        );
        if number == 4 {
            break;
        }
    }
    new.stop().await;
}
