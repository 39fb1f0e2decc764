//! The runtime version the devnet reports, read from the runtime's own metadata: the `System`
//! pallet's `Version` constant (spec name, spec and transaction version) and, when the metadata
//! is V16, the runtime-API list `(blake2_64(trait name), version)` from its API descriptions.
//! A simulated runtime upgrade bumps `spec_version`.

use parity_scale_codec::Decode;
use scale_value::Value;
use serde_json::json;

use serde::{Deserialize, Serialize};

use crate::metadata::{ChainMetadata, MetadataError};

pub const SPEC_NAME: &str = "node-subtensor";

/// The finney runtimes the devnet can run (`pylon devnet --runtime 343`, a scenario's
/// `runtime = 343`, [`crate::DevnetConfig::runtime`]). Spec 424 is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum RuntimeSpec {
    /// Spec 343 (November 2025): metadata V15/V14, the fixed epoch grid, `Rank`/`Trust` stored.
    Spec343,
    /// Spec 424: metadata V16 (V15/V14 derived), the stateful epoch schedule.
    #[default]
    Spec424,
}

impl RuntimeSpec {
    pub fn spec_version(self) -> u32 {
        match self {
            RuntimeSpec::Spec343 => 343,
            RuntimeSpec::Spec424 => 424,
        }
    }

    /// The runtime's recorded metadata.
    pub fn metadata(self) -> Result<ChainMetadata, MetadataError> {
        match self {
            RuntimeSpec::Spec343 => ChainMetadata::finney_343(),
            RuntimeSpec::Spec424 => ChainMetadata::finney(),
        }
    }

    /// What `dev_runtimeUpgrade` moves this runtime to: 343 becomes 424; 424 stays itself (a
    /// bumped spec version with the same metadata).
    pub fn upgrade(self) -> Self {
        RuntimeSpec::Spec424
    }
}

impl TryFrom<u32> for RuntimeSpec {
    type Error = String;
    fn try_from(spec: u32) -> Result<Self, String> {
        match spec {
            343 => Ok(RuntimeSpec::Spec343),
            424 => Ok(RuntimeSpec::Spec424),
            other => Err(format!(
                "unknown runtime {other}: the devnet runs 343 or 424"
            )),
        }
    }
}

impl From<RuntimeSpec> for u32 {
    fn from(spec: RuntimeSpec) -> u32 {
        spec.spec_version()
    }
}

impl std::str::FromStr for RuntimeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let spec: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a spec version (343 or 424)"))?;
        spec.try_into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub spec_name: String,
    pub impl_name: String,
    pub authoring_version: u32,
    pub spec_version: u32,
    pub impl_version: u32,
    /// `(blake2_64(trait name), version)` of every runtime API.
    pub apis: Vec<([u8; 8], u32)>,
    pub transaction_version: u32,
    /// `system_version` (formerly `state_version`).
    pub system_version: u8,
}

/// `sp_version::RuntimeVersion` as SCALE lays it out (the `System.Version` constant).
#[derive(Decode)]
struct Recorded {
    spec_name: String,
    impl_name: String,
    authoring_version: u32,
    spec_version: u32,
    impl_version: u32,
    apis: Vec<([u8; 8], u32)>,
    transaction_version: u32,
    system_version: u8,
}

impl RuntimeVersion {
    /// The version the runtime described by `meta` reports: `System.Version` as recorded in
    /// the metadata, with the API list from the V16 API descriptions when there are any.
    pub fn of(meta: &ChainMetadata) -> Self {
        let recorded = meta
            .constant_bytes("System", "Version")
            .and_then(|mut bytes| Recorded::decode(&mut bytes).ok())
            .unwrap_or_else(|| Recorded {
                spec_name: SPEC_NAME.to_owned(),
                impl_name: SPEC_NAME.to_owned(),
                authoring_version: 1,
                spec_version: 0,
                impl_version: 1,
                apis: Vec::new(),
                transaction_version: 1,
                system_version: 1,
            });
        Self {
            apis: meta
                .api_versions()
                .map(<[_]>::to_vec)
                .unwrap_or(recorded.apis),
            spec_name: recorded.spec_name,
            impl_name: recorded.impl_name,
            authoring_version: recorded.authoring_version,
            spec_version: recorded.spec_version,
            impl_version: recorded.impl_version,
            transaction_version: recorded.transaction_version,
            system_version: recorded.system_version,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "specName": self.spec_name,
            "implName": self.impl_name,
            "authoringVersion": self.authoring_version,
            "specVersion": self.spec_version,
            "implVersion": self.impl_version,
            "apis": self
                .apis
                .iter()
                .map(|(id, v)| json!([format!("0x{}", hex::encode(id)), v]))
                .collect::<Vec<_>>(),
            "transactionVersion": self.transaction_version,
            "systemVersion": self.system_version,
            "stateVersion": self.system_version,
        })
    }

    /// Field values of `sp_version::RuntimeVersion` for encoding against the metadata type.
    pub fn to_fields(&self) -> Vec<(&'static str, Value)> {
        let apis = self.apis.iter().map(|(id, v)| {
            Value::unnamed_composite([Value::from_bytes(id), Value::u128((*v).into())])
        });
        vec![
            ("spec_name", Value::string(&self.spec_name)),
            ("impl_name", Value::string(&self.impl_name)),
            (
                "authoring_version",
                Value::u128(self.authoring_version.into()),
            ),
            ("spec_version", Value::u128(self.spec_version.into())),
            ("impl_version", Value::u128(self.impl_version.into())),
            ("apis", Value::unnamed_composite(apis)),
            (
                "transaction_version",
                Value::u128(self.transaction_version.into()),
            ),
            ("system_version", Value::u128(self.system_version.into())),
            ("state_version", Value::u128(self.system_version.into())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_424_version_comes_from_its_metadata() {
        let meta = ChainMetadata::finney().unwrap();
        let version = RuntimeVersion::of(&meta);
        assert_eq!(version.spec_name, "node-subtensor");
        assert_eq!(version.spec_version, 424);
        assert_eq!(version.transaction_version, 1);
        // Core's id is blake2_64("Core"), as every Substrate runtime reports it.
        let core = hex::decode("df6acb689907609b").unwrap();
        assert!(version.apis.iter().any(|(id, _)| id[..] == core[..]));
        // The list derived from the V16 API descriptions is the one `System.Version` records.
        let mut bytes = meta.constant_bytes("System", "Version").unwrap();
        let mut recorded = Recorded::decode(&mut bytes).unwrap().apis;
        let mut derived = version.apis.clone();
        recorded.sort();
        derived.sort();
        assert_eq!(derived, recorded);
    }

    #[test]
    fn spec_343_version_comes_from_its_metadata() {
        let meta = ChainMetadata::finney_343().unwrap();
        let version = RuntimeVersion::of(&meta);
        assert_eq!(version.spec_version, 343);
        assert_eq!(version.transaction_version, 1);
        assert_eq!(version.apis.len(), 22);
    }
}
