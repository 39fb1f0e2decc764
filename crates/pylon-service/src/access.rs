//! Who may call a route: `Authorization: Bearer <token>` checked against the open-access token
//! (open routes) or the named identity's token (identity routes). Tokens never cross tiers.
//!
//! Order of checks: unknown identity → 404; missing or malformed header → 401; wrong token → 403;
//! then input (netuid → 400), then the identity's netuid must be the URL's → 308 (the reference's
//! answer, on which its clients look the netuid up again).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use pylon_weights::body::{parse_hotkey, HotkeyError};
use pylon_weights::echo::echo;

use crate::error::ApiError;
use crate::settings::Identity;
use crate::state::AppState;

/// The caller's scope on an authorised request.
#[derive(Debug, Clone)]
pub struct Scope {
    pub netuid: u16,
    pub identity: Option<Identity>,
    /// The route's other path parameters, by name (validated by the handler that reads them).
    pub params: HashMap<String, String>,
}

impl FromRequestParts<Arc<AppState>> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("path: {e}")))?;
        let params: HashMap<String, String> = raw
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let identity = match params.get("name") {
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
        let netuid = match params.get("netuid") {
            Some(text) => parse_field::<u16>("netuid", text)?,
            None => identity.as_ref().map(|i| i.netuid).unwrap_or_default(),
        };
        if let Some(identity) = &identity {
            if identity.netuid != netuid {
                return Err(ApiError::NetuidMismatch {
                    detail: format!(
                        "identity `{}` works on netuid {}, not {netuid}",
                        identity.name, identity.netuid
                    ),
                    location: with_netuid(&parts.uri, &identity.name, identity.netuid),
                });
            }
        }
        Ok(Scope {
            netuid,
            identity,
            params,
        })
    }
}

/// The identity route `uri` with `netuid` in place of its netuid segment (the query kept). Inside
/// the nested identity router the URI is the part after `/api/v1/identity/{name}/subnet/{netuid}`;
/// a full path is handled too.
fn with_netuid(uri: &axum::http::Uri, name: &str, netuid: u16) -> String {
    let path = uri.path();
    let tail = match path.strip_prefix("/api/v1/identity/") {
        // [name, "subnet", netuid, rest…]
        Some(rest) => match rest.splitn(4, '/').collect::<Vec<_>>().as_slice() {
            [_, "subnet", _, rest] => format!("/{rest}"),
            _ => String::new(),
        },
        None => path.to_owned(),
    };
    let mut location = format!("/api/v1/identity/{name}/subnet/{netuid}{tail}");
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

impl Scope {
    pub fn param(&self, field: &str) -> Result<&str, ApiError> {
        self.params
            .get(field)
            .map(String::as_str)
            .ok_or_else(|| ApiError::BadRequest(format!("{field}: missing")))
    }

    pub fn block_number(&self) -> Result<u32, ApiError> {
        parse_field("block_number", self.param("block_number")?)
    }

    /// The `mechanism_id` path parameter (a subnet's mechanism, 0 for the main one).
    pub fn mechanism_id(&self) -> Result<u8, ApiError> {
        parse_field("mechanism_id", self.param("mechanism_id")?)
    }

    pub fn extrinsic_index(&self) -> Result<u32, ApiError> {
        parse_field("extrinsic_index", self.param("extrinsic_index")?)
    }

    /// The `hotkey` path parameter as an account id (with its ss58 text): an ss58 address with
    /// this chain's prefix, else a 400 saying which.
    pub fn hotkey(&self) -> Result<(String, [u8; 32]), ApiError> {
        let text = self.param("hotkey")?;
        match parse_hotkey(text) {
            Ok(account) => Ok((text.to_string(), account.0)),
            Err(HotkeyError::Malformed(_)) => Err(ApiError::BadRequest(format!(
                "hotkey: `{}` is not an ss58 address",
                echo(text)
            ))),
            Err(error @ HotkeyError::OtherNetwork(_)) => Err(ApiError::BadRequest(format!(
                "hotkey: `{}` is {error}",
                echo(text)
            ))),
        }
    }
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
