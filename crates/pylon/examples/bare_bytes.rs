//! The benchmark ceiling: a bare axum server answering every GET with the same pre-serialized bytes.
//!
//! `bench/neurons_load.sh` serves a real Pylon neurons response with it, so the gap between this and
//! Pylon is what Pylon's routing, auth, caching and headers cost.
//!
//! Usage: bare_bytes <file> <port>

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_bytes <file> <port>");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(&path)?);
    let app = Router::new().fallback(get(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse().unwrap_or(0))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
