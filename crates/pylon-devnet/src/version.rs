//! The runtime version the devnet reports: finney's node-subtensor at spec 343, with its real
//! runtime-API list. A simulated runtime upgrade bumps `spec_version`.

use scale_value::Value;
use serde_json::json;

/// `(blake2_64(trait name), version)` of every runtime API finney spec 343 reports.
const APIS: [(&str, u32); 22] = [
    ("df6acb689907609b", 5),
    ("37e397fc7c91f5e4", 2),
    ("40fe3ad401f8959a", 6),
    ("fbc577b9d747efd6", 1),
    ("d2bc9897eed08f15", 3),
    ("f78b278be53f454c", 2),
    ("dd718d5cc53262d4", 1),
    ("ab3c0572291feb8b", 1),
    ("ed99c5acb25eedf5", 3),
    ("bc9d89904f5b923f", 1),
    ("37c8bb1350a9a2a8", 4),
    ("f3ff14d5ab527059", 3),
    ("582211f65bb14b89", 6),
    ("e65b00e46cedd0aa", 2),
    ("68b66ba122c93fa7", 2),
    ("42e62be4a39e5b60", 1),
    ("806df4ccaa9ed485", 1),
    ("8375104b299b74c5", 1),
    ("5d1fbfbe852f2807", 1),
    ("c6886e2f8e598b0a", 1),
    ("cbca25e39f142387", 2),
    ("a8b093e6508d9e9c", 1),
];

pub const SPEC_NAME: &str = "node-subtensor";
pub const FINNEY_SPEC_VERSION: u32 = 343;
/// finney's `transactionVersion` at spec 343 (recorded `state_getRuntimeVersion`).
pub const TRANSACTION_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub spec_version: u32,
}

impl Default for RuntimeVersion {
    fn default() -> Self {
        Self {
            spec_version: FINNEY_SPEC_VERSION,
        }
    }
}

impl RuntimeVersion {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "specName": SPEC_NAME,
            "implName": SPEC_NAME,
            "authoringVersion": 1,
            "specVersion": self.spec_version,
            "implVersion": 1,
            "apis": APIS.iter().map(|(id, v)| json!([format!("0x{id}"), v])).collect::<Vec<_>>(),
            "transactionVersion": TRANSACTION_VERSION,
            "systemVersion": 1,
            "stateVersion": 1,
        })
    }

    /// Field values of `sp_version::RuntimeVersion` for encoding against the metadata type.
    pub fn to_fields(&self) -> Vec<(&'static str, Value)> {
        let apis = APIS.iter().map(|(id, v)| {
            let id: [u8; 8] = hex::decode(id)
                .expect("constant hex")
                .try_into()
                .expect("8 bytes");
            Value::unnamed_composite([Value::from_bytes(id), Value::u128((*v).into())])
        });
        vec![
            ("spec_name", Value::string(SPEC_NAME)),
            ("impl_name", Value::string(SPEC_NAME)),
            ("authoring_version", Value::u128(1)),
            ("spec_version", Value::u128(self.spec_version.into())),
            ("impl_version", Value::u128(1)),
            ("apis", Value::unnamed_composite(apis)),
            (
                "transaction_version",
                Value::u128(TRANSACTION_VERSION.into()),
            ),
            ("system_version", Value::u128(1)),
            ("state_version", Value::u128(1)),
        ]
    }
}
