//! Who may call a route: `Authorization: Bearer <token>` checked against the open-access token
//! (open routes) or the named identity's token (identity routes). Tokens never cross tiers.
//!
//! Order of checks: unknown identity → 404; missing or malformed header → 401; wrong token → 403;
//! then input (netuid → 400), then the identity's netuid must be the URL's → 308 (the reference's
//! answer, on which its clients look the netuid up again).

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::Deserialize;

use pylon_weights::echo::echo;

use crate::error::ApiError;
use crate::settings::Identity;
use crate::state::AppState;

/// The caller's scope on an authorised request: who (the identity, on identity prefixes) and on
/// which subnet. The route's own path segments are typed extractors ([`crate::paths`]).
#[derive(Debug, Clone)]
pub struct Scope {
    pub netuid: u16,
    pub identity: Option<Identity>,
}

/// The prefix segments Scope authorises; kept as text so that auth is checked before input.
#[derive(Deserialize)]
struct PrefixSegments {
    name: Option<String>,
    netuid: Option<String>,
}

impl FromRequestParts<Arc<AppState>> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Path(prefix) = Path::<PrefixSegments>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("path: {e}")))?;
        let identity = match &prefix.name {
            Some(name) => {
                let identity = state.identity(name).ok_or_else(|| {
                    ApiError::NotFound(format!("identity `{}` is not configured", echo(name)))
                })?;
                let token = bearer(&parts.headers)?;
                if !identity.token.matches(token) {
                    return Err(ApiError::Forbidden(format!(
                        "the token is not valid for identity `{name}`"
                    )));
                }
                Some(identity.clone())
            }
            None => {
                let open = &state.settings.open_access_token;
                if !open.is_empty() && !open.matches(bearer(&parts.headers)?) {
                    return Err(ApiError::Forbidden(
                        "the token is not valid for open access".into(),
                    ));
                }
                None
            }
        };
        let netuid = match &prefix.netuid {
            Some(text) => parse_field::<u16>("netuid", text)?,
            None => identity.as_ref().map(|i| i.netuid).unwrap_or_default(),
        };
        if let Some(identity) = &identity {
            if identity.netuid != netuid {
                let uri = match parts.extensions.get::<OriginalUri>() {
                    Some(OriginalUri(uri)) => uri,
                    None => &parts.uri,
                };
                return Err(ApiError::NetuidMismatch {
                    detail: format!(
                        "identity `{}` works on netuid {}, not {netuid}",
                        identity.name, identity.netuid
                    ),
                    location: with_netuid(uri, &identity.name, identity.netuid),
                });
            }
        }
        Ok(Scope { netuid, identity })
    }
}

/// The identity route `uri` with `netuid` in place of its netuid segment (the rest of the path
/// and the query kept), under whichever API prefix (`/api/v1`, `/api/_unstable`) it came.
fn with_netuid(uri: &axum::http::Uri, name: &str, netuid: u16) -> String {
    let path = uri.path();
    let (api, tail) = match path.split_once("/identity/") {
        // [name, "subnet", netuid, rest…]
        Some((api, rest)) => match rest.splitn(4, '/').collect::<Vec<_>>().as_slice() {
            [_, "subnet", _, rest] => (api, format!("/{rest}")),
            _ => (api, String::new()),
        },
        None => ("/api/v1", path.to_owned()),
    };
    let mut location = format!("{api}/identity/{name}/subnet/{netuid}{tail}");
    if let Some(query) = uri.query() {
        location.push('?');
        location.push_str(query);
    }
    location
}

/// The bearer token; a missing or malformed header is a 401.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer <token>".into()))?;
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
        })
        .ok_or_else(|| {
            ApiError::Unauthorized("malformed Authorization header: expected Bearer <token>".into())
        })
}

/// A path parameter parsed as `T`, or a 400 naming it.
pub fn parse_field<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!("{field}: `{}` is not a valid {field}", echo(text)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn the_redirect_keeps_the_path_and_query_with_the_identitys_netuid() {
        let at = |uri: &str| with_netuid(&uri.parse().unwrap(), "v", 1);
        assert_eq!(
            at("/block/latest/neurons?x=1"),
            "/api/v1/identity/v/subnet/1/block/latest/neurons?x=1"
        );
        assert_eq!(
            at("/api/v1/identity/v/subnet/7/weights"),
            "/api/v1/identity/v/subnet/1/weights"
        );
        assert_eq!(
            at("/api/_unstable/identity/v/subnet/7/block/latest/neurons"),
            "/api/_unstable/identity/v/subnet/1/block/latest/neurons"
        );
    }

    #[test]
    fn only_well_formed_bearer_headers_yield_a_token() {
        assert_eq!(bearer(&headers("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(&headers("bearer  abc ")).unwrap(), "abc");
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc"] {
            assert!(
                matches!(bearer(&headers(bad)), Err(ApiError::Unauthorized(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            bearer(&HeaderMap::new()),
            Err(ApiError::Unauthorized(_))
        ));
    }
}
