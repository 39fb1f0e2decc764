//! A subnet's settings (hyperparameters) at a block, as the chain itself reports them.
//!
//! Where the block's metadata declares `SubnetInfoRuntimeApi.get_subnet_hyperparams_v3` (a list of
//! `{name, value}` entries), that answer is the source: the runtime computes derived values
//! (activity cutoff from its per-mille factor, the effective childkey take) the way it uses them.
//! Older runtimes are read from storage, item by item. Either way every value is decoded by the
//! names in that block's metadata, never by a hard-coded layout.

use std::collections::BTreeMap;

use parity_scale_codec::Encode;
use scale_value::{Composite, Value, ValueDef};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::AtBlock;
use crate::decode::{bytes_of, to_json};
use crate::error::ChainError;
use crate::model::BlockRef;

const SM: &str = "SubtensorModule";
const API: &str = "SubnetInfoRuntimeApi";
const V3: &str = "get_subnet_hyperparams_v3";
const NEXT_EPOCH_START: &str = "get_next_epoch_start_block";

/// Where a block's hyperparameters were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HyperparamsSource {
    /// `SubnetInfoRuntimeApi.get_subnet_hyperparams_v3`.
    RuntimeApi,
    /// The `SubtensorModule` storage items, one by one (runtimes without the v3 API).
    Storage,
}

/// A subnet's settings at one block. The typed fields are the ones a validator acts on; `all`
/// holds every value the source reported, by the runtime's own names.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperparams {
    pub source: HyperparamsSource,
    pub tempo: u16,
    pub commit_reveal_weights_enabled: bool,
    /// `CommitRevealWeightsVersion` (chain-wide; 4 = drand timelocked commits), where stored.
    pub commit_reveal_version: Option<u16>,
    /// Epochs between a commit and its reveal (`RevealPeriodEpochs`).
    pub commit_reveal_period: u64,
    pub weights_rate_limit: u64,
    pub min_allowed_weights: u16,
    /// Largest weight a validator may give one uid, as a u16 fraction of the row.
    pub max_weights_limit: u16,
    pub weights_version: u64,
    pub activity_cutoff: u64,
    pub immunity_period: u16,
    /// `get_next_epoch_start_block`, where the block's metadata has the API.
    pub next_epoch_start: Option<u64>,
    pub all: BTreeMap<String, serde_json::Value>,
}

/// The storage items read on runtimes without the v3 API: `(name in v3's answer, item)`.
const STORAGE_ITEMS: &[(&str, &str)] = &[
    ("tempo", "Tempo"),
    (
        "commit_reveal_weights_enabled",
        "CommitRevealWeightsEnabled",
    ),
    ("commit_reveal_period", "RevealPeriodEpochs"),
    ("weights_rate_limit", "WeightsSetRateLimit"),
    ("min_allowed_weights", "MinAllowedWeights"),
    ("max_weights_limit", "MaxWeightsLimit"),
    ("weights_version", "WeightsVersionKey"),
    ("activity_cutoff", "ActivityCutoff"),
    ("immunity_period", "ImmunityPeriod"),
    ("kappa", "Kappa"),
    ("max_validators", "MaxAllowedValidators"),
    ("serving_rate_limit", "ServingRateLimit"),
    ("registration_allowed", "NetworkRegistrationAllowed"),
    ("bonds_moving_avg", "BondsMovingAverage"),
    ("liquid_alpha_enabled", "LiquidAlphaOn"),
];

fn runtime_method(at: &AtBlock, method: &str) -> Option<u32> {
    at.metadata()
        .runtime_api_trait_by_name(API)
        .and_then(|api| api.method_by_name(method))
        .map(|method| method.output_ty())
}

fn has_storage(at: &AtBlock, item: &str) -> bool {
    at.metadata()
        .pallet_by_name(SM)
        .and_then(|pallet| pallet.storage())
        .and_then(|storage| storage.entry_by_name(item))
        .is_some()
}

/// Fixed-point values travel as `{bits}`; render them as the number they stand for.
fn fixed_point(variant: &str, value: &serde_json::Value) -> Option<serde_json::Value> {
    let frac_bits = match variant {
        "I32F32" | "U32F32" => 32,
        "U64F64" | "I64F64" => 64,
        "U16F16" | "I16F16" => 16,
        _ => return None,
    };
    let bits = match value.get("bits").unwrap_or(value) {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.parse::<f64>().ok()?,
        _ => return None,
    };
    serde_json::Number::from_f64(bits / 2f64.powi(frac_bits)).map(serde_json::Value::Number)
}

/// `Option<Vec<HyperparamEntry { name, value: HyperparamValue }>>` as name → JSON value;
/// `None` when the subnet does not exist.
fn v3_entries(
    value: &Value<u32>,
    types: &scale_info::PortableRegistry,
) -> Result<Option<BTreeMap<String, serde_json::Value>>, ChainError> {
    let bad = |what: &str| ChainError::Decode(format!("{API}.{V3}: {what}"));
    let ValueDef::Variant(option) = &value.value else {
        return Err(bad("not an Option"));
    };
    if option.name == "None" {
        return Ok(None);
    }
    let list = option
        .values
        .values()
        .next()
        .ok_or_else(|| bad("empty Some"))?;
    let ValueDef::Composite(entries) = &list.value else {
        return Err(bad("not a list"));
    };
    let mut all = BTreeMap::new();
    for entry in entries.values() {
        let ValueDef::Composite(Composite::Named(fields)) = &entry.value else {
            return Err(bad("an entry is not a struct"));
        };
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let name = field("name").ok_or_else(|| bad("an entry has no name"))?;
        let name = String::from_utf8(bytes_of(name)).map_err(|_| bad("a name is not UTF-8"))?;
        let ValueDef::Variant(tagged) = &field("value").ok_or_else(|| bad("no value"))?.value
        else {
            return Err(bad("a value is not a HyperparamValue"));
        };
        let inner = match tagged.values.values().next() {
            Some(inner) => to_json(inner, types),
            None => serde_json::Value::Null,
        };
        let json = fixed_point(&tagged.name, &inner).unwrap_or(inner);
        all.insert(name, json);
    }
    Ok(Some(all))
}

fn number<T: TryFrom<u64>>(
    all: &BTreeMap<String, serde_json::Value>,
    name: &str,
) -> Result<T, ChainError> {
    all.get(name)
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            ChainError::Decode(format!("hyperparameter `{name}` missing or out of range"))
        })
}

fn typed(
    source: HyperparamsSource,
    all: BTreeMap<String, serde_json::Value>,
    commit_reveal_version: Option<u16>,
    next_epoch_start: Option<u64>,
) -> Result<Hyperparams, ChainError> {
    Ok(Hyperparams {
        source,
        tempo: number(&all, "tempo")?,
        commit_reveal_weights_enabled: all
            .get("commit_reveal_weights_enabled")
            .and_then(serde_json::Value::as_bool)
            .ok_or_else(|| ChainError::Decode("commit_reveal_weights_enabled missing".into()))?,
        commit_reveal_version,
        commit_reveal_period: number(&all, "commit_reveal_period")?,
        weights_rate_limit: number(&all, "weights_rate_limit")?,
        min_allowed_weights: number(&all, "min_allowed_weights")?,
        max_weights_limit: number(&all, "max_weights_limit")?,
        weights_version: number(&all, "weights_version")?,
        activity_cutoff: number(&all, "activity_cutoff")?,
        immunity_period: number(&all, "immunity_period")?,
        next_epoch_start,
        all,
    })
}

/// One storage item as JSON, decoded by its metadata type (its default when absent).
async fn storage_json(
    at: &AtBlock,
    item: &str,
    key: Vec<Value>,
) -> Result<serde_json::Value, ChainError> {
    let value = at
        .storage()
        .fetch(dynamic::storage::<Vec<Value>, Value>(SM, item), key)
        .await
        .map_err(ChainError::from_subxt)?
        .decode()
        .map_err(|e| ChainError::Decode(format!("{SM}.{item}: {e}")))?;
    // Numbers and flags only: no type ids needed to render them.
    Ok(to_json(
        &value.map_context(|()| u32::MAX),
        at.metadata().types(),
    ))
}

impl ChainClient {
    /// The settings of `netuid` at `block`; `None` when the subnet does not exist there.
    pub async fn hyperparams(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Option<Hyperparams>, ChainError> {
        self.route("hyperparams", block.number, |connection| async move {
            let at = connection.at(block).await?;
            if !has_storage(&at, "NetworksAdded") {
                return Err(ChainError::Decode(format!("{SM} has no NetworksAdded")));
            }
            let exists = storage_json(&at, "NetworksAdded", vec![Value::u128(netuid.into())])
                .await?
                .as_bool()
                == Some(true);
            if !exists {
                return Ok(None);
            }
            let commit_reveal_version = if has_storage(&at, "CommitRevealWeightsVersion") {
                storage_json(&at, "CommitRevealWeightsVersion", vec![])
                    .await?
                    .as_u64()
                    .and_then(|v| u16::try_from(v).ok())
            } else {
                None
            };
            let next_epoch_start = match runtime_method(&at, NEXT_EPOCH_START) {
                Some(_) => at
                    .runtime_apis()
                    .call(dynamic::runtime_api_call::<_, Option<u64>>(
                        API,
                        NEXT_EPOCH_START,
                        (netuid,),
                    ))
                    .await
                    .map_err(ChainError::from_subxt)?,
                None => None,
            };
            if let Some(output_ty) = runtime_method(&at, V3) {
                let bytes = at
                    .runtime_apis()
                    .call_raw(&format!("{API}_{V3}"), Some(&netuid.encode()))
                    .await
                    .map_err(ChainError::from_subxt)?;
                let metadata = at.metadata();
                let types = metadata.types();
                let value = scale_value::scale::decode_as_type(&mut &bytes[..], output_ty, types)
                    .map_err(|e| ChainError::Decode(format!("{API}.{V3}: {e}")))?;
                return match v3_entries(&value, types)? {
                    Some(all) => typed(
                        HyperparamsSource::RuntimeApi,
                        all,
                        commit_reveal_version,
                        next_epoch_start,
                    )
                    .map(Some),
                    None => Ok(None),
                };
            }
            let mut all = BTreeMap::new();
            for (name, item) in STORAGE_ITEMS {
                if has_storage(&at, item) {
                    let key = vec![Value::u128(netuid.into())];
                    all.insert((*name).to_owned(), storage_json(&at, item, key).await?);
                }
            }
            typed(
                HyperparamsSource::Storage,
                all,
                commit_reveal_version,
                next_epoch_start,
            )
            .map(Some)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_bits_become_the_number_they_stand_for() {
        let bits = serde_json::json!({"bits": 10u64 << 32});
        assert_eq!(fixed_point("I32F32", &bits), Some(serde_json::json!(10.0)));
        assert_eq!(fixed_point("U64", &bits), None);
    }
}
