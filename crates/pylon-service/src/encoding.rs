//! Content codings for cached bodies: each is compressed at most once per coding and the bytes
//! are shared by every reader (compressing a 256-neuron answer per request would cost more than
//! serving it).

use std::io::Write;

use axum::http::header::ACCEPT_ENCODING;
use axum::http::HeaderMap;
use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Zstd,
    Gzip,
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    pub fn compress(self, body: &[u8]) -> Bytes {
        match self {
            Coding::Zstd => {
                Bytes::from(zstd::bulk::compress(body, 3).expect("zstd compresses in memory"))
            }
            Coding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(body).expect("gzip writes to memory");
                Bytes::from(encoder.finish().expect("gzip writes to memory"))
            }
        }
    }
}

/// The preferred coding the request accepts (zstd, then gzip), ignoring `q=0` entries.
///
/// On every cached read, so it allocates nothing: one pass over the header's bytes.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let (mut zstd, mut gzip) = (false, false);
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            if refused {
                continue;
            }
            zstd |= name.eq_ignore_ascii_case("zstd");
            gzip |= name.eq_ignore_ascii_case("gzip");
        }
    }
    if zstd {
        Some(Coding::Zstd)
    } else if gzip {
        Some(Coding::Gzip)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, value.parse().unwrap());
        h
    }

    #[test]
    fn zstd_is_preferred_and_refused_codings_are_skipped() {
        assert_eq!(
            negotiate(&accept("gzip, deflate, br, zstd")),
            Some(Coding::Zstd)
        );
        assert_eq!(negotiate(&accept("gzip")), Some(Coding::Gzip));
        assert_eq!(
            negotiate(&accept("zstd;q=0, gzip;q=0.5")),
            Some(Coding::Gzip)
        );
        assert_eq!(negotiate(&accept("identity")), None);
        assert_eq!(negotiate(&HeaderMap::new()), None);
    }

    #[test]
    fn compressed_bodies_round_trip() {
        let body = br#"{"neurons":{}}"#.repeat(50);
        let zstd_bytes = Coding::Zstd.compress(&body);
        assert_eq!(
            zstd::bulk::decompress(&zstd_bytes, body.len()).unwrap(),
            body
        );
        let gzip_bytes = Coding::Gzip.compress(&body);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip_bytes[..]), &mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
