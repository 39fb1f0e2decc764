//! The log of the command users run, `pylon serve` (the real binary, configured by environment
//! variables as in production): it logs at `info` in the default build — connected, serving —
//! says why it cannot connect, and carries no token or hotkey secret even at debug level while
//! it reads, refuses and signs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pylon_devnet::{dev_keypair, DevnetConfig, DevnetHandle, Scenario};

const OPEN_TOKEN: &str = "open-token-never-logged-61c2";
const IDENTITY_TOKEN: &str = "identity-token-never-logged-0b9d";
const WRONG_TOKEN: &str = "wrong-token-never-logged-c4e8";

/// A running `pylon serve` and everything it wrote to stderr so far.
struct Serve {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    fn start(env: &[(&str, String)], dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pylon"))
            .arg("serve")
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            // No `.env` of the developer's is picked up.
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pylon binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Serve { child, stderr }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The first log line containing every one of `parts`, waiting up to `timeout`.
    fn wait_for(&mut self, parts: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self
                .log()
                .lines()
                .find(|line| parts.iter().all(|p| line.contains(p)))
            {
                return line.to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(200));
                panic!("pylon serve exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "no line with {parts:?} in:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address from the "serving the Pylon API" line.
    fn addr(&mut self) -> SocketAddr {
        let line = self.wait_for(&["serving the Pylon API"], Duration::from_secs(30));
        let addr = line
            .split("addr=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no addr in {line}"));
        addr.parse().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; the status and body.
fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: pylon\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

async fn devnet() -> DevnetHandle {
    let mut scenario = Scenario::builtin_default();
    for subnet in &mut scenario.subnets {
        subnet.hyperparameters.weights_rate_limit = 0;
    }
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::from_millis(200),
        scenario,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    node.seal_block().await;
    node
}

fn base_env(chain: &str, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("PYLON_BITTENSOR_NETWORK", chain.to_string()),
        ("PYLON_BITTENSOR_ARCHIVE_NETWORK", "none".into()),
        ("PYLON_HOST", "127.0.0.1".into()),
        ("PYLON_PORT", "0".into()),
        ("PYLON_DATA_DIR", dir.join("data").display().to_string()),
        ("PYLON_OPEN_ACCESS_TOKEN", OPEN_TOKEN.into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_at_info_by_default() {
    let node = devnet().await;
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(&base_env(&node.ws_url(), dir.path()), dir.path());
    let connected = serve.wait_for(&["connected to the chain"], Duration::from_secs(30));
    assert!(connected.contains("INFO"), "{connected}");
    assert!(connected.contains("genesis=0x"), "{connected}");
    let addr = serve.addr();
    let (status, body) = http(
        addr,
        "GET",
        "/api/v1/subnet/1/block/latest/neurons",
        OPEN_TOKEN,
        "",
    );
    assert_eq!(status, 200, "{body}");
    // Info is the default level: no debug line.
    assert!(!serve.log().contains("DEBUG"), "{}", serve.log());
    drop(serve);
    node.stop().await;
}

#[test]
fn serve_says_why_it_cannot_connect() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(
        &base_env(&format!("ws://127.0.0.1:{port}"), dir.path()),
        dir.path(),
    );
    let line = serve.wait_for(
        &["WARN", "cannot connect to the chain", "reason="],
        Duration::from_secs(20),
    );
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    // And it keeps serving, answering 503 with the reason.
    let addr = serve.addr();
    let (status, body) = http(addr, "GET", "/api/v1/subnet/1/block/latest", OPEN_TOKEN, "");
    assert_eq!(status, 503, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_debug_log_of_reads_refusals_and_signing_carries_no_secret() {
    let node = devnet().await;
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    let signer = pylon_wallet::HotkeySigner::from_private_key(
        &dev_keypair("//Alice").unwrap().secret_key_bytes(),
    )
    .unwrap();
    let keyfile = pylon_wallet::hotkey_path(wallets.to_str().unwrap(), "w", "h");
    std::fs::create_dir_all(keyfile.parent().unwrap()).unwrap();
    pylon_wallet::write_hotkey(&keyfile, &signer).unwrap();
    let keyfile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&keyfile).unwrap()).unwrap();
    let private_key = keyfile["privateKey"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x")
        .to_string();
    assert_eq!(private_key.len(), 128);

    let mut env = base_env(&node.ws_url(), dir.path());
    env.extend([
        ("PYLON_DEBUG", "true".to_string()),
        ("PYLON_BITTENSOR_WALLET_PATH", wallets.display().to_string()),
        ("PYLON_IDENTITIES", r#"["sn1"]"#.to_string()),
        ("PYLON_ID_SN1_WALLET_NAME", "w".to_string()),
        ("PYLON_ID_SN1_HOTKEY_NAME", "h".to_string()),
        ("PYLON_ID_SN1_NETUID", "1".to_string()),
        ("PYLON_ID_SN1_TOKEN", IDENTITY_TOKEN.to_string()),
    ]);
    let mut serve = Serve::start(&env, dir.path());
    serve.wait_for(&["connected to the chain"], Duration::from_secs(30));
    let addr = serve.addr();

    let reads = [
        ("/api/v1/subnet/3/block/1/neurons", OPEN_TOKEN, 200),
        ("/api/v1/subnet/1/block/latest/neurons", OPEN_TOKEN, 200),
        ("/api/v1/subnet/1/block/latest", WRONG_TOKEN, 403),
        ("/api/v1/subnet/1/block/latest", IDENTITY_TOKEN, 403),
        (
            "/api/v1/identity/sn1/subnet/1/block/latest/validators",
            IDENTITY_TOKEN,
            200,
        ),
    ];
    for (path, token, status) in reads {
        let (got, body) = http(addr, "GET", path, token, "");
        assert_eq!(got, status, "{path}: {body}");
    }
    // The hotkey signs: weights set, and the job lands.
    let weights = format!(r#"{{"weights": {{"{}": 1.0}}}}"#, signer.ss58_address());
    let (status, body) = http(
        addr,
        "PUT",
        "/api/v1/identity/sn1/subnet/1/weights",
        IDENTITY_TOKEN,
        &weights,
    );
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(
            addr,
            "GET",
            "/api/v1/identity/sn1/subnet/1/weights/status",
            IDENTITY_TOKEN,
            "",
        );
        if status == 200 && body.contains("\"included\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the weights never landed: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = serve.log();
    // The capture is real: debug lines of chain calls are there.
    assert!(log.contains("chain call"), "{log}");
    for secret in [
        OPEN_TOKEN,
        IDENTITY_TOKEN,
        WRONG_TOKEN,
        &private_key,
        &private_key[..64],
    ] {
        assert!(!log.contains(secret), "a secret in the log: {secret}");
    }
    assert!(
        !log.to_ascii_lowercase().contains(&private_key[..64]),
        "the key in the log, in another case"
    );
    drop(serve);
    node.stop().await;
}
