//! What the service's integration tests share: one HTTP/1.1 request on a fresh connection (so
//! the test sees exactly the bytes the service sends) and a service in front of a devnet; the
//! devnet, dev keys and wallets come from `pylon-test-support`.
#![allow(dead_code)] // each test binary uses its own part

use std::net::SocketAddr;

use serde_json::Value;

// The set-up shared with the other crates' tests, under the names these tests use.
pub use pylon_test_support::{dev_wallets, devnet, manual_devnet_config, ss58, write_dev_hotkey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

/// `method path` with extra `Name: value` header lines and a body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[String],
    body: &[u8],
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: pylon\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_string(),
        body: body.to_string(),
    }
}

pub fn bearer(token: &str) -> Vec<String> {
    vec![format!("Authorization: Bearer {token}")]
}

/// Settings for a service on a free loopback port in front of `devnet`, the rest at defaults.
pub fn local_settings(devnet: &pylon_devnet::DevnetHandle) -> pylon_service::Settings {
    let network = pylon_chain::Network::parse(&devnet.ws_url()).unwrap();
    let mut settings = pylon_service::Settings::new(network);
    settings.host = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    settings.port = 0;
    settings
}

/// Bind, wait for the chain, and serve in the background; the service's address.
pub async fn serve(settings: pylon_service::Settings) -> SocketAddr {
    let service = pylon_service::Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(
        service
            .wait_chain_ready(std::time::Duration::from_secs(20))
            .await
    );
    tokio::spawn(service.serve(std::future::pending()));
    addr
}

/// An identity whose hotkey is `<wallets>/w/hotkeys/<hotkey>` (unencrypted).
pub fn identity(name: &str, hotkey: &str, netuid: u16, token: &str) -> pylon_service::Identity {
    pylon_service::Identity {
        name: name.into(),
        wallet_name: "w".into(),
        hotkey_name: hotkey.into(),
        netuid,
        token: pylon_service::Secret::new(token),
        hotkey_password: None,
    }
}

/// A GET with an optional `X-Pylon-Timeout`: the status and the JSON body (null if not JSON).
pub async fn get_json(
    addr: SocketAddr,
    path: &str,
    timeout: Option<&str>,
) -> (u16, serde_json::Value) {
    let headers: Vec<String> = timeout
        .map(|t| format!("X-Pylon-Timeout: {t}"))
        .into_iter()
        .collect();
    let reply = request(addr, "GET", path, &headers, b"").await;
    (
        reply.status,
        serde_json::from_str(&reply.body).unwrap_or(serde_json::Value::Null),
    )
}
