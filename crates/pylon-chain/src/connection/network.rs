//! Which node to talk to: the reference's network names or a URL.

use std::fmt;

/// A node address given as `finney`, `test`, `archive`, `local` or a `ws://` / `wss://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Network {
    url: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a network: use finney, test, archive, local or a ws:// / wss:// URL")]
pub struct NetworkError(pub String);

impl Network {
    pub fn parse(text: &str) -> Result<Self, NetworkError> {
        let text = text.trim();
        let url = match text {
            "finney" => "wss://entrypoint-finney.opentensor.ai:443",
            "test" => "wss://test.finney.opentensor.ai:443",
            "archive" => "wss://archive.chain.opentensor.ai:443",
            "local" => "ws://127.0.0.1:9944",
            url if (url.starts_with("ws://") || url.starts_with("wss://")) && url.len() > 6 => url,
            other => return Err(NetworkError(other.to_string())),
        };
        Ok(Network {
            url: url.to_string(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL without what may be a credential (user info, query string, fragment): node
    /// providers put API keys there. This is what logs and error messages show.
    pub fn redacted(&self) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", &self.url));
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        let host = authority.rsplit('@').next().unwrap_or_default();
        let hidden = if authority.contains('@') { "***@" } else { "" };
        let elided = if self.url.len() > scheme.len() + 3 + rest.len() {
            "?***"
        } else {
            ""
        };
        format!("{scheme}://{hidden}{host}{path}{elided}")
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Network({})", self.url)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_the_reference_endpoints_and_urls_pass_through() {
        assert_eq!(
            Network::parse("finney").unwrap().url(),
            "wss://entrypoint-finney.opentensor.ai:443"
        );
        assert_eq!(
            Network::parse("local").unwrap().url(),
            "ws://127.0.0.1:9944"
        );
        assert_eq!(
            Network::parse("ws://10.0.0.1:9944").unwrap().url(),
            "ws://10.0.0.1:9944"
        );
        assert!(Network::parse("mainnet").is_err());
        assert_eq!(
            Network::parse("wss://user:pw@node.example:443/ws?apikey=s3cret")
                .unwrap()
                .redacted(),
            "wss://***@node.example:443/ws?***"
        );
        assert_eq!(
            Network::parse("ws://127.0.0.1:9944").unwrap().redacted(),
            "ws://127.0.0.1:9944"
        );
        assert!(Network::parse("http://x").is_err());
    }
}
