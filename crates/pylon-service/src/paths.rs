//! Path parameters as types: each route's own segments (`{block_number}`, `{hotkey}`, …) are a
//! struct extracted with [`Params`], and documented from the same struct (utoipa `IntoParams`).
//! The prefix segments (`{netuid}`, `{name}`) are [`crate::access::Scope`]'s: auth first, then
//! input. A segment that does not parse is a 400 whose detail starts with the field's name.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::IntoParams;

use pylon_weights::body::{parse_hotkey, HotkeyError};
use pylon_weights::echo::echo;

use crate::error::ApiError;

/// `Path<T>` with its rejection as the service's 400 naming the field.
pub struct Params<T>(pub T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Params(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                Err(ApiError::BadRequest(match error.into_kind() {
                    ErrorKind::ParseErrorAtKey { key, value, .. } => {
                        format!("{key}: `{}` is not a valid {key}", echo(&value))
                    }
                    ErrorKind::DeserializeError {
                        key,
                        value,
                        message,
                    } => format!("{key}: `{}` {message}", echo(&value)),
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        format!("{key}: not valid UTF-8 once percent-decoded")
                    }
                    ErrorKind::Message(message) => message,
                    other => format!("path: {other}"),
                }))
            }
            Err(other) => Err(ApiError::BadRequest(format!("path: {other}"))),
        }
    }
}

/// `{block_number}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlockPath {
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
}

/// `{block_number}/extrinsic/{extrinsic_index}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExtrinsicPath {
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub extrinsic_index: u32,
}

/// `{mechanism_id}`: a subnet's mechanism, 0 for the main one.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MechanismPath {
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
}

/// `{mechanism_id}/block/{block_number}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MechanismBlockPath {
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
}

/// `{hotkey}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HotkeyPath {
    #[param(schema_with = ss58_schema)]
    pub hotkey: HotkeyArg,
}

/// A `{hotkey}` segment: an ss58 address with this chain's prefix, or the literal `self` (which
/// only identity routes serve: on an identity prefix the static `…/self` route takes it first).
#[derive(Debug, Clone)]
pub enum HotkeyArg {
    Own,
    Address { ss58: String, id: [u8; 32] },
}

impl<'de> Deserialize<'de> for HotkeyArg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "self" {
            return Ok(HotkeyArg::Own);
        }
        match parse_hotkey(&text) {
            Ok(account) => Ok(HotkeyArg::Address {
                ss58: text,
                id: account.0,
            }),
            // axum gives a field's own error without its key: the message names it.
            Err(HotkeyError::Malformed(_)) => Err(serde::de::Error::custom(format!(
                "hotkey: `{}` is not an ss58 address",
                echo(&text)
            ))),
            Err(error @ HotkeyError::OtherNetwork(_)) => Err(serde::de::Error::custom(format!(
                "hotkey: `{}` is {error}",
                echo(&text)
            ))),
        }
    }
}

/// Neither the base58 alphabet's use nor the checksum is a JSON-schema pattern: the format names
/// the rule, and an address breaking it is a 400 naming the field.
fn ss58_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("ss58".into())))
        .description(Some(
            "An SS58 address (checksum included), e.g. 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
        ))
        .into()
}

/// The prefix parameters, documented once per mounted prefix (see [`crate::table::mount`]).
pub fn prefix_parameter(name: &str) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::Required;
    let schema = match name {
        "netuid" => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(u16::MAX)),
        _ => ObjectBuilder::new().schema_type(Type::String),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}
