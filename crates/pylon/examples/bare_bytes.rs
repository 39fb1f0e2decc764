//! The benchmark ceiling: a bare axum server answering every GET with the same pre-serialized bytes.
//!
//! `bench/neurons_load.sh` serves a real Pylon neurons response with it, so the gap between this and
//! Pylon is what Pylon's routing, auth, caching and headers cost. Its sockets are set up like
//! Pylon's (`TCP_NODELAY`), so the socket options are not part of that gap.
//!
//! Usage: bare_bytes <file> <port> [content-encoding]: the file's bytes are sent as they are, with
//! that `Content-Encoding` when given (a body Pylon already compressed).

use axum::http::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_bytes <file> <port> [content-encoding]");
        std::process::exit(2);
    };
    let coding = args
        .next()
        .filter(|c| c != "identity")
        .map(|c| HeaderValue::from_str(&c).expect("a header value"));
    let body = Bytes::from(std::fs::read(&path)?);
    let app = Router::new().fallback(get(move || {
        let (body, coding) = (body.clone(), coding.clone());
        async move {
            let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
            if let Some(coding) = coding {
                response.headers_mut().insert(CONTENT_ENCODING, coding);
            }
            response
        }
    }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse().unwrap_or(0))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
