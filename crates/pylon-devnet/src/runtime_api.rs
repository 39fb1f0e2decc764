//! `state_call`: subtensor's runtime APIs answered from storage, outputs encoded against the V15
//! metadata's output types by field name (so extrinsic writes show up in every answer).

use parity_scale_codec::Encode;
use scale_value::{Composite, Value, ValueDef};

use crate::codec;
use crate::state_access::StateAccess;
use crate::storage::{build_struct, zero_value, BlockState};
use crate::version::RuntimeVersion;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    #[error("runtime API {0} does not exist")]
    UnknownMethod(String),
    #[error("cannot decode the arguments of {method}: {reason}")]
    BadInput { method: String, reason: String },
    #[error("internal encoding error in {method}: {reason}")]
    Output { method: String, reason: String },
}

const SM: &str = "SubtensorModule";

pub fn call(
    state: &BlockState,
    version: &RuntimeVersion,
    method: &str,
    input: &[u8],
) -> Result<Vec<u8>, RuntimeApiError> {
    let meta = state.metadata();
    let api = meta
        .runtime_api(method)
        .ok_or_else(|| RuntimeApiError::UnknownMethod(method.to_owned()))?;
    let types = meta.types();
    let mut cursor = input;
    let mut args = Vec::new();
    for (name, ty) in &api.input_types {
        let value = codec::decode_prefix(&mut cursor, *ty, types).map_err(|e| {
            RuntimeApiError::BadInput {
                method: method.to_owned(),
                reason: format!("{name}: {e}"),
            }
        })?;
        args.push(value);
    }
    if !cursor.is_empty() {
        return Err(RuntimeApiError::BadInput {
            method: method.to_owned(),
            reason: format!("{} unexpected trailing bytes", cursor.len()),
        });
    }

    // Opaque metadata is raw bytes, not a typed value.
    match method {
        "Metadata_metadata" => return Ok(meta.v14_bytes().to_vec().encode()),
        "Metadata_metadata_at_version" => {
            let version = u32::try_from(as_u128(&args[0])).unwrap_or(u32::MAX);
            return Ok(meta.bytes_at_version(version).map(<[u8]>::to_vec).encode());
        }
        "Metadata_metadata_versions" => return Ok(meta.versions().encode()),
        _ => {}
    }

    let out_ty = api.output_type;
    let zero = || zero_value(types, out_ty);
    let netuid = || as_u128(&args[0]) as u16;
    let value = match method {
        "Core_version" => build_struct(types, out_ty, version.to_fields()),
        "AccountNonceApi_account_nonce" => {
            let info = state.read("System", "Account", &[args[0].clone()]);
            info.and_then(|i| field(&i, "nonce").cloned())
                .unwrap_or(Value::u128(0))
        }
        "NeuronInfoRuntimeApi_get_neurons_lite" | "NeuronInfoRuntimeApi_get_neurons" => {
            let item_ty = sequence_item(types, out_ty);
            let full = method.ends_with("get_neurons");
            let n = subnet_size(state, netuid());
            let columns = Columns::load(state, netuid());
            Value::unnamed_composite(
                (0..n)
                    .filter_map(|uid| neuron(state, types, item_ty, &columns, netuid(), uid, full)),
            )
        }
        "NeuronInfoRuntimeApi_get_neuron_lite" | "NeuronInfoRuntimeApi_get_neuron" => {
            let item_ty = option_item(types, out_ty);
            let full = method.ends_with("get_neuron");
            let uid = as_u128(&args[1]) as u16;
            let columns = Columns::load(state, netuid());
            option(neuron(state, types, item_ty, &columns, netuid(), uid, full))
        }
        "SubnetInfoRuntimeApi_get_subnet_hyperparams"
        | "SubnetInfoRuntimeApi_get_subnet_hyperparams_v2" => option(
            subnet_exists(state, netuid())
                .then(|| hyperparams(state, types, option_item(types, out_ty), netuid())),
        ),
        "SubnetInfoRuntimeApi_get_subnet_info" | "SubnetInfoRuntimeApi_get_subnet_info_v2" => {
            option(
                subnet_exists(state, netuid())
                    .then(|| subnet_info(state, types, option_item(types, out_ty), netuid())),
            )
        }
        "SubnetInfoRuntimeApi_get_subnets_info" | "SubnetInfoRuntimeApi_get_subnets_info_v2" => {
            let item_ty = option_item(types, sequence_item(types, out_ty));
            Value::unnamed_composite(
                netuids(state)
                    .into_iter()
                    .map(|n| option(Some(subnet_info(state, types, item_ty, n)))),
            )
        }
        "SubnetInfoRuntimeApi_get_subnet_hyperparams_v3" => option(
            subnet_exists(state, netuid())
                .then(|| hyperparams_v3(state, types, option_item(types, out_ty), netuid())),
        ),
        "SubnetInfoRuntimeApi_get_next_epoch_start_block" => {
            // Only 424's metadata declares this API: the stateful schedule's own answer.
            option(
                crate::epochs::next_epoch_start_block(state, netuid())
                    .map(|b| Value::u128(b.into())),
            )
        }
        "SubnetInfoRuntimeApi_get_subnet_state" => option(
            subnet_exists(state, netuid())
                .then(|| subnet_state(state, types, option_item(types, out_ty), netuid())),
        ),
        "SubnetInfoRuntimeApi_get_dynamic_info" | "SubnetInfoRuntimeApi_get_metagraph" => option(
            subnet_exists(state, netuid())
                .then(|| subnet_summary(state, types, option_item(types, out_ty), netuid(), 0)),
        ),
        "SubnetInfoRuntimeApi_get_mechagraph" => {
            let mecid = as_u128(&args[1]) as u8;
            option(
                mechanism_exists(state, netuid(), mecid).then(|| {
                    subnet_summary(state, types, option_item(types, out_ty), netuid(), mecid)
                }),
            )
        }
        "SubnetInfoRuntimeApi_get_all_dynamic_info" | "SubnetInfoRuntimeApi_get_all_metagraphs" => {
            let item_ty = option_item(types, sequence_item(types, out_ty));
            Value::unnamed_composite(
                netuids(state)
                    .into_iter()
                    .map(|n| option(Some(subnet_summary(state, types, item_ty, n, 0)))),
            )
        }
        "SubnetInfoRuntimeApi_get_all_mechagraphs" => {
            let item_ty = option_item(types, sequence_item(types, out_ty));
            let graphs = netuids(state).into_iter().flat_map(|n| {
                (0..mechanism_count(state, n))
                    .map(move |mecid| option(Some(subnet_summary(state, types, item_ty, n, mecid))))
            });
            Value::unnamed_composite(graphs.collect::<Vec<_>>())
        }
        "SubnetInfoRuntimeApi_get_selective_metagraph"
        | "SubnetInfoRuntimeApi_get_selective_mechagraph" => {
            let indexes: Vec<u16> = match &args.last().map(|v| &v.value) {
                Some(ValueDef::Composite(c)) => c.values().map(|v| as_u128(v) as u16).collect(),
                _ => Vec::new(),
            };
            let mecid = if method.ends_with("mechagraph") {
                as_u128(&args[1]) as u8
            } else {
                0
            };
            option(subnet_exists(state, netuid()).then(|| {
                let ty = option_item(types, out_ty);
                selective_metagraph(state, types, ty, netuid(), mecid, &indexes)
            }))
        }
        // Known to the runtime but not modelled: the type's zero value (empty list, None, 0).
        _ => zero(),
    };
    codec::encode(&value, out_ty, types).map_err(|e| RuntimeApiError::Output {
        method: method.to_owned(),
        reason: e.to_string(),
    })
}

fn as_u128(v: &Value) -> u128 {
    v.as_u128().unwrap_or_default()
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match &v.value {
        ValueDef::Composite(Composite::Named(fields)) => {
            fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
        }
        _ => None,
    }
}

fn option(v: Option<Value>) -> Value {
    match v {
        Some(v) => Value::unnamed_variant("Some", [v]),
        None => Value::unnamed_variant("None", []),
    }
}

fn type_param(types: &scale_info::PortableRegistry, ty: u32) -> u32 {
    match types.resolve(ty).map(|t| &t.type_def) {
        Some(scale_info::TypeDef::Sequence(s)) => s.type_param.id,
        Some(scale_info::TypeDef::Variant(v)) => v
            .variants
            .iter()
            .find(|v| v.name == "Some")
            .and_then(|v| v.fields.first())
            .map(|f| f.ty.id)
            .unwrap_or(ty),
        _ => ty,
    }
}

fn sequence_item(types: &scale_info::PortableRegistry, ty: u32) -> u32 {
    type_param(types, ty)
}

fn option_item(types: &scale_info::PortableRegistry, ty: u32) -> u32 {
    type_param(types, ty)
}

fn read_sm(state: &BlockState, item: &str, netuid: u16) -> Value {
    state
        .read(SM, item, &[Value::u128(netuid.into())])
        .unwrap_or(Value::u128(0))
}

/// Whether the runtime stores `SubtensorModule.item` (profiles differ in layout).
fn stores(state: &BlockState, item: &str) -> bool {
    state.metadata().storage_item(SM, item).is_ok()
}

fn subnet_exists(state: &BlockState, netuid: u16) -> bool {
    read_sm(state, "NetworksAdded", netuid).as_bool() == Some(true)
}

fn subnet_size(state: &BlockState, netuid: u16) -> u16 {
    as_u128(&read_sm(state, "SubnetworkN", netuid)) as u16
}

fn netuids(state: &BlockState) -> Vec<u16> {
    state
        .iter_prefix(SM, "NetworksAdded", &[])
        .into_iter()
        .filter(|(_, added)| added.as_bool() == Some(true))
        .filter_map(|(keys, _)| keys.first().map(|k| as_u128(k) as u16))
        .collect()
}

/// The per-subnet vector items (`Rank`, `Active`, …), decoded once for all neurons of a call.
struct Columns(Vec<(&'static str, Vec<Value>)>);

const COLUMN_ITEMS: [&str; 11] = [
    "Active",
    "Rank",
    "Emission",
    "Incentive",
    "Consensus",
    "Trust",
    "ValidatorTrust",
    "Dividends",
    "LastUpdate",
    "ValidatorPermit",
    "PruningScores",
];

impl Columns {
    fn load(state: &BlockState, netuid: u16) -> Self {
        Columns(
            COLUMN_ITEMS
                .iter()
                .map(|item| {
                    let values = match read_sm(state, item, netuid).value {
                        ValueDef::Composite(c) => c.into_values().collect(),
                        _ => Vec::new(),
                    };
                    (*item, values)
                })
                .collect(),
        )
    }

    fn get(&self, item: &str, uid: u16) -> Option<Value> {
        self.0
            .iter()
            .find(|(name, _)| *name == item)
            .and_then(|(_, values)| values.get(usize::from(uid)).cloned())
    }
}

fn neuron(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    columns: &Columns,
    netuid: u16,
    uid: u16,
    full: bool,
) -> Option<Value> {
    let n = Value::u128(netuid.into());
    let uid_v = Value::u128(uid.into());
    if uid >= subnet_size(state, netuid) {
        return None;
    }
    let hotkey = state.read(SM, "Keys", &[n.clone(), uid_v.clone()])?;
    let coldkey = state
        .read(SM, "Owner", std::slice::from_ref(&hotkey))
        .unwrap_or_else(|| hotkey.clone());
    let zero_of = |name: &str| zero_value(types, field_type(types, ty, name).unwrap_or(0));
    let axon = state
        .read(SM, "Axons", &[n.clone(), hotkey.clone()])
        .unwrap_or_else(|| zero_of("axon_info"));
    let prometheus = state
        .read(SM, "Prometheus", &[n.clone(), hotkey.clone()])
        .unwrap_or_else(|| zero_of("prometheus_info"));
    let alpha = state
        .read(SM, "TotalHotkeyAlpha", &[hotkey.clone(), n.clone()])
        .unwrap_or(Value::u128(0));
    let col = |item: &str| columns.get(item, uid).unwrap_or(Value::u128(0));
    let flag = |item: &str| columns.get(item, uid).unwrap_or(Value::bool(false));
    // Spec 424 no longer stores `Rank`, `Trust` or `PruningScores`: its neuron APIs answer
    // rank 0, trust 0 and pruning score u16::MAX for every neuron.
    let pruning_score = if stores(state, "PruningScores") {
        col("PruningScores")
    } else {
        Value::u128(u16::MAX.into())
    };
    let mut fields = vec![
        ("hotkey", hotkey.clone()),
        ("coldkey", coldkey.clone()),
        ("uid", uid_v.clone()),
        ("netuid", n.clone()),
        ("active", flag("Active")),
        ("axon_info", axon),
        ("prometheus_info", prometheus),
        (
            "stake",
            Value::unnamed_composite([Value::unnamed_composite([coldkey, alpha])]),
        ),
        ("rank", col("Rank")),
        ("emission", col("Emission")),
        ("incentive", col("Incentive")),
        ("consensus", col("Consensus")),
        ("trust", col("Trust")),
        ("validator_trust", col("ValidatorTrust")),
        ("dividends", col("Dividends")),
        ("last_update", col("LastUpdate")),
        ("validator_permit", flag("ValidatorPermit")),
        ("pruning_score", pruning_score),
    ];
    if full {
        let empty = || Value::unnamed_composite([]);
        fields.push((
            "weights",
            state
                .read(SM, "Weights", &[n.clone(), uid_v.clone()])
                .unwrap_or_else(empty),
        ));
        fields.push((
            "bonds",
            state.read(SM, "Bonds", &[n, uid_v]).unwrap_or_else(empty),
        ));
    }
    Some(build_struct(types, ty, fields))
}

fn field_type(types: &scale_info::PortableRegistry, ty: u32, name: &str) -> Option<u32> {
    match &types.resolve(ty)?.type_def {
        scale_info::TypeDef::Composite(c) => c
            .fields
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .map(|f| f.ty.id),
        _ => None,
    }
}

/// Output fields that are one per-subnet storage item each (`field`, `SubtensorModule` item).
const SUBNET_ITEMS: &[(&str, &str)] = &[
    ("rho", "Rho"),
    ("kappa", "Kappa"),
    ("immunity_period", "ImmunityPeriod"),
    ("min_allowed_weights", "MinAllowedWeights"),
    ("max_weights_limit", "MaxWeightsLimit"),
    ("max_weight_limit", "MaxWeightsLimit"),
    ("tempo", "Tempo"),
    ("min_difficulty", "MinDifficulty"),
    ("max_difficulty", "MaxDifficulty"),
    ("weights_version", "WeightsVersionKey"),
    ("weights_rate_limit", "WeightsSetRateLimit"),
    ("adjustment_interval", "AdjustmentInterval"),
    ("activity_cutoff", "ActivityCutoff"),
    ("registration_allowed", "NetworkRegistrationAllowed"),
    ("target_regs_per_interval", "TargetRegistrationsPerInterval"),
    ("min_burn", "MinBurn"),
    ("max_burn", "MaxBurn"),
    ("bonds_moving_avg", "BondsMovingAverage"),
    ("serving_rate_limit", "ServingRateLimit"),
    ("max_validators", "MaxAllowedValidators"),
    ("max_allowed_validators", "MaxAllowedValidators"),
    ("adjustment_alpha", "AdjustmentAlpha"),
    ("difficulty", "Difficulty"),
    ("commit_reveal_period", "RevealPeriodEpochs"),
    (
        "commit_reveal_weights_enabled",
        "CommitRevealWeightsEnabled",
    ),
    ("liquid_alpha_enabled", "LiquidAlphaOn"),
    ("alpha_sigmoid_steepness", "AlphaSigmoidSteepness"),
    ("transfers_enabled", "TransferToggle"),
    ("bonds_reset_enabled", "BondsResetOn"),
    ("scaling_law_power", "ScalingLawPower"),
    ("subnetwork_n", "SubnetworkN"),
    ("max_allowed_uids", "MaxAllowedUids"),
    ("blocks_since_last_step", "BlocksSinceLastStep"),
    ("burn", "Burn"),
    ("owner", "SubnetOwner"),
    ("owner_coldkey", "SubnetOwner"),
    ("owner_hotkey", "SubnetOwnerHotkey"),
    ("subnet_is_active", "SubtokenEnabled"),
    ("alpha_out", "SubnetAlphaOut"),
    ("alpha_in", "SubnetAlphaIn"),
    ("tao_in", "SubnetTAO"),
    ("network_registered_at", "NetworkRegisteredAt"),
];

fn subnet_fields(state: &BlockState, netuid: u16) -> Vec<(&'static str, Value)> {
    let mut fields: Vec<(&str, Value)> = SUBNET_ITEMS
        .iter()
        .map(|(f, item)| (*f, read_sm(state, item, netuid)))
        .collect();
    fields.push(("netuid", Value::u128(netuid.into())));
    if let Some(ValueDef::Composite(c)) = state
        .read(SM, "AlphaValues", &[Value::u128(netuid.into())])
        .map(|v| v.value)
    {
        let mut values = c.into_values();
        if let (Some(low), Some(high)) = (values.next(), values.next()) {
            fields.push(("alpha_low", low));
            fields.push(("alpha_high", high));
        }
    }
    let yuma3 = read_sm(state, "Yuma3On", netuid).as_bool() == Some(true);
    fields.push(("yuma_version", Value::u128(if yuma3 { 3 } else { 2 })));
    fields
}

fn hyperparams(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
) -> Value {
    build_struct(types, ty, subnet_fields(state, netuid))
}

fn subnet_info(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
) -> Value {
    build_struct(types, ty, subnet_fields(state, netuid))
}

/// `DynamicInfo` / `Metagraph`: subnet-level fields from storage, per-neuron vectors from the
/// same items the neuron APIs read.
fn subnet_summary(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
    mecid: u8,
) -> Value {
    build_struct(types, ty, metagraph_fields(state, netuid, mecid))
}

/// Every `Metagraph` field the devnet models, by name; per-neuron vectors have one entry per uid.
fn metagraph_fields(state: &BlockState, netuid: u16, mecid: u8) -> Vec<(&'static str, Value)> {
    let types = state.metadata().types();
    let mut fields = subnet_fields(state, netuid);
    let n = Value::u128(netuid.into());
    let size = subnet_size(state, netuid);
    let hotkeys: Vec<Value> = (0..size)
        .filter_map(|uid| state.read(SM, "Keys", &[n.clone(), Value::u128(uid.into())]))
        .collect();
    let coldkeys: Vec<Value> = hotkeys
        .iter()
        .map(|h| {
            state
                .read(SM, "Owner", std::slice::from_ref(h))
                .unwrap_or_else(|| h.clone())
        })
        .collect();
    let axon_type = state
        .metadata()
        .storage_item(SM, "Axons")
        .map(|item| item.value_type)
        .unwrap_or(0);
    let axons: Vec<Value> = hotkeys
        .iter()
        .map(|h| {
            state
                .read(SM, "Axons", &[n.clone(), h.clone()])
                .unwrap_or_else(|| zero_value(types, axon_type))
        })
        .collect();
    let stakes: Vec<Value> = hotkeys
        .iter()
        .map(|h| {
            state
                .read(SM, "TotalHotkeyAlpha", &[h.clone(), n.clone()])
                .unwrap_or(Value::u128(0))
        })
        .collect();
    let registered_at: Vec<Value> = (0..size)
        .map(|uid| {
            state
                .read(
                    SM,
                    "BlockAtRegistration",
                    &[n.clone(), Value::u128(uid.into())],
                )
                .unwrap_or(Value::u128(0))
        })
        .collect();
    let permits = read_sm(state, "ValidatorPermit", netuid);
    let validators: Vec<Value> = match &permits.value {
        ValueDef::Composite(c) => c
            .values()
            .enumerate()
            .filter(|(_, p)| p.as_bool() == Some(true))
            .map(|(uid, _)| Value::u128(uid as u128))
            .collect(),
        _ => Vec::new(),
    };
    let per_neuron = |v: Value| Value::unnamed_composite((0..size).map(|_| v.clone()));
    let vec_item = |item: &str| {
        if stores(state, item) {
            read_sm(state, item, netuid)
        } else {
            Value::unnamed_composite([])
        }
    };
    fields.extend([
        ("num_uids", Value::u128(size.into())),
        ("block", Value::u128(state.block_number().into())),
        ("max_uids", read_sm(state, "MaxAllowedUids", netuid)),
        ("hotkeys", Value::unnamed_composite(hotkeys)),
        ("coldkeys", Value::unnamed_composite(coldkeys)),
        ("identities", per_neuron(Value::unnamed_variant("None", []))),
        ("axons", Value::unnamed_composite(axons)),
        ("total_stake", Value::unnamed_composite(stakes.clone())),
        ("alpha_stake", Value::unnamed_composite(stakes)),
        ("tao_stake", per_neuron(Value::u128(0))),
        (
            "block_at_registration",
            Value::unnamed_composite(registered_at),
        ),
        ("validators", Value::unnamed_composite(validators)),
        ("active", vec_item("Active")),
        ("validator_permit", permits),
        // Empty lists where the runtime no longer computes them (spec 424).
        ("rank", vec_item("Rank")),
        ("trust", vec_item("Trust")),
        ("consensus", vec_item("Consensus")),
        // Per-mechanism items are keyed by the mechanism's storage index.
        (
            "incentives",
            read_sm(state, "Incentive", storage_index(netuid, mecid)),
        ),
        ("dividends", vec_item("Dividends")),
        ("emission", vec_item("Emission")),
        (
            "last_update",
            read_sm(state, "LastUpdate", storage_index(netuid, mecid)),
        ),
        ("pruning_score", vec_item("PruningScores")),
    ]);
    fields
}

/// `SelectiveMetagraph`: the same fields as `Metagraph`, each wrapped in an `Option` that is
/// `Some` only when its position (declaration order, `netuid` = 0) is among `indexes`.
fn selective_metagraph(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
    mecid: u8,
    indexes: &[u16],
) -> Value {
    let Some(scale_info::TypeDef::Composite(composite)) = types.resolve(ty).map(|t| &t.type_def)
    else {
        return zero_value(types, ty);
    };
    let mut known = metagraph_fields(state, netuid, mecid);
    let fields = composite.fields.iter().enumerate().map(|(i, f)| {
        let name = f.name.clone().unwrap_or_default();
        let given = known
            .iter()
            .position(|(n, _)| *n == name)
            .map(|p| known.swap_remove(p).1);
        let selected = indexes.contains(&(i as u16));
        let value = if name == "netuid" {
            Value::u128(netuid.into())
        } else if selected {
            // Selected fields are always `Some`; unmodelled ones carry their zero value.
            let inner_ty = option_item(types, f.ty.id);
            let wrapped = given
                .map(|v| Value::unnamed_variant("Some", [v]))
                .filter(|w| codec::encode(w, f.ty.id, types).is_ok());
            wrapped.unwrap_or_else(|| Value::unnamed_variant("Some", [zero_value(types, inner_ty)]))
        } else {
            zero_value(types, f.ty.id)
        };
        (name, value)
    });
    Value::named_composite(fields.collect::<Vec<_>>())
}

/// `get_mechanism_storage_index`: mechanism `mecid` of `netuid` keys per-mechanism items at
/// `mecid * GLOBAL_MAX_SUBNET_COUNT + netuid`.
fn storage_index(netuid: u16, mecid: u8) -> u16 {
    const GLOBAL_MAX_SUBNET_COUNT: u16 = 4096;
    u16::from(mecid)
        .saturating_mul(GLOBAL_MAX_SUBNET_COUNT)
        .saturating_add(netuid)
}

fn mechanism_count(state: &BlockState, netuid: u16) -> u8 {
    if stores(state, "MechanismCountCurrent") {
        (as_u128(&read_sm(state, "MechanismCountCurrent", netuid)) as u8).max(1)
    } else {
        1
    }
}

/// `ensure_mechanism_exists`.
fn mechanism_exists(state: &BlockState, netuid: u16, mecid: u8) -> bool {
    subnet_exists(state, netuid) && mecid < mechanism_count(state, netuid)
}

fn read_u64(state: &BlockState, item: &str, netuid: u16) -> u64 {
    as_u128(&read_sm(state, item, netuid)) as u64
}

/// `SubnetState`: the metagraph's per-neuron columns plus `emission_history`, one list per
/// subnet (in `NetworksAdded` order) of each hotkey's `LastHotkeyEmissionOnNetuid`.
fn subnet_state(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
) -> Value {
    let mut fields = metagraph_fields(state, netuid, 0);
    let hotkeys: Vec<Value> = fields
        .iter()
        .find(|(name, _)| *name == "hotkeys")
        .and_then(|(_, v)| match &v.value {
            ValueDef::Composite(c) => Some(c.values().cloned().collect()),
            _ => None,
        })
        .unwrap_or_default();
    let history = netuids(state).into_iter().map(|n| {
        Value::unnamed_composite(hotkeys.iter().map(|h| {
            state
                .read(
                    SM,
                    "LastHotkeyEmissionOnNetuid",
                    &[h.clone(), Value::u128(n.into())],
                )
                .unwrap_or(Value::u128(0))
        }))
    });
    fields.push((
        "emission_history",
        Value::unnamed_composite(history.collect::<Vec<_>>()),
    ));
    build_struct(types, ty, fields)
}

/// How `get_subnet_hyperparams_v3` tags one value (`HyperparamValue`'s variants).
enum Hp {
    Bool(&'static str),
    U16(&'static str),
    U32(&'static str),
    U64(&'static str),
    Tao(&'static str),
    /// A fixed-point item stored as the type the variant carries (`I32F32`, `U64F64`).
    Fixed(&'static str, &'static str),
}

/// `get_subnet_hyperparams_v3`'s entries in the runtime's order: `(name, how, storage item)`.
/// Names without an item are computed in [`hyperparams_v3`].
const HYPERPARAMS_V3: &[(&str, Hp)] = &[
    ("kappa", Hp::U16("Kappa")),
    ("immunity_period", Hp::U16("ImmunityPeriod")),
    ("min_allowed_weights", Hp::U16("MinAllowedWeights")),
    ("max_weights_limit", Hp::U16("MaxWeightsLimit")),
    ("tempo", Hp::U16("Tempo")),
    ("weights_version", Hp::U64("WeightsVersionKey")),
    ("weights_rate_limit", Hp::U64("WeightsSetRateLimit")),
    ("activity_cutoff", Hp::U64("")),
    (
        "activity_cutoff_factor",
        Hp::U32("ActivityCutoffFactorMilli"),
    ),
    (
        "registration_allowed",
        Hp::Bool("NetworkRegistrationAllowed"),
    ),
    (
        "target_regs_per_interval",
        Hp::U16("TargetRegistrationsPerInterval"),
    ),
    ("min_burn", Hp::Tao("MinBurn")),
    ("max_burn", Hp::Tao("MaxBurn")),
    ("burn_half_life", Hp::U16("BurnHalfLife")),
    (
        "burn_increase_mult",
        Hp::Fixed("U64F64", "BurnIncreaseMult"),
    ),
    ("bonds_moving_avg", Hp::U64("BondsMovingAverage")),
    ("max_regs_per_block", Hp::U16("MaxRegistrationsPerBlock")),
    ("serving_rate_limit", Hp::U64("ServingRateLimit")),
    ("max_validators", Hp::U16("MaxAllowedValidators")),
    ("commit_reveal_period", Hp::U64("RevealPeriodEpochs")),
    (
        "commit_reveal_weights_enabled",
        Hp::Bool("CommitRevealWeightsEnabled"),
    ),
    ("alpha_high", Hp::U16("")),
    ("alpha_low", Hp::U16("")),
    ("liquid_alpha_enabled", Hp::Bool("LiquidAlphaOn")),
    ("alpha_sigmoid_steepness", Hp::Fixed("I32F32", "")),
    ("yuma_version", Hp::U16("")),
    ("subnet_is_active", Hp::Bool("SubtokenEnabled")),
    ("transfers_enabled", Hp::Bool("TransferToggle")),
    ("bonds_reset_enabled", Hp::Bool("BondsResetOn")),
    ("user_liquidity_enabled", Hp::Bool("")),
    ("owner_cut_enabled", Hp::Bool("OwnerCutEnabled")),
    (
        "owner_cut_auto_lock_enabled",
        Hp::Bool("OwnerCutAutoLockEnabled"),
    ),
    ("min_childkey_take", Hp::U16("")),
];

/// `SubnetHyperparamsV3`: a list of `HyperparamEntry { name, value: HyperparamValue }`, read
/// from storage the way the runtime's getters read it.
fn hyperparams_v3(
    state: &BlockState,
    types: &scale_info::PortableRegistry,
    ty: u32,
    netuid: u16,
) -> Value {
    let n = Value::u128(netuid.into());
    let (alpha_low, alpha_high) = match state.read(SM, "AlphaValues", std::slice::from_ref(&n)) {
        Some(Value {
            value: ValueDef::Composite(c),
            ..
        }) => {
            let mut values = c.into_values();
            (values.next(), values.next())
        }
        _ => (None, None),
    };
    let zero = || Value::u128(0);
    let entries = HYPERPARAMS_V3.iter().map(|(name, how)| {
        let value = match (*name, how) {
            ("activity_cutoff", _) => {
                // `get_activity_cutoff_blocks`: factor‰ of tempo, at least 1 block.
                let factor = read_u64(state, "ActivityCutoffFactorMilli", netuid);
                let tempo = read_u64(state, "Tempo", netuid);
                let blocks = if stores(state, "ActivityCutoffFactorMilli") {
                    (factor.saturating_mul(tempo) / 1000).max(1)
                } else {
                    read_u64(state, "ActivityCutoff", netuid)
                };
                Value::unnamed_variant("U64", [Value::u128(blocks.into())])
            }
            ("alpha_high", _) => {
                Value::unnamed_variant("U16", [alpha_high.clone().unwrap_or_else(zero)])
            }
            ("alpha_low", _) => {
                Value::unnamed_variant("U16", [alpha_low.clone().unwrap_or_else(zero)])
            }
            ("alpha_sigmoid_steepness", _) => {
                // `I32F32::saturating_from_num(AlphaSigmoidSteepness)`: an integer, 32 fraction bits.
                let steepness = read_sm(state, "AlphaSigmoidSteepness", netuid)
                    .as_i128()
                    .unwrap_or_else(|| {
                        as_u128(&read_sm(state, "AlphaSigmoidSteepness", netuid)) as i128
                    });
                Value::unnamed_variant(
                    "I32F32",
                    [Value::named_composite([(
                        "bits",
                        Value::i128(steepness << 32),
                    )])],
                )
            }
            ("yuma_version", _) => {
                let yuma3 = read_sm(state, "Yuma3On", netuid).as_bool() == Some(true);
                Value::unnamed_variant("U16", [Value::u128(if yuma3 { 3 } else { 2 })])
            }
            ("user_liquidity_enabled", _) => Value::unnamed_variant("Bool", [Value::bool(false)]),
            ("min_childkey_take", _) => {
                // `get_effective_min_childkey_take`: the larger of the global and subnet minimum.
                let global = state
                    .read(SM, "MinChildkeyTake", &[])
                    .map(|v| as_u128(&v))
                    .unwrap_or(0);
                let subnet = if stores(state, "MinChildkeyTakeForSubnet") {
                    as_u128(&read_sm(state, "MinChildkeyTakeForSubnet", netuid))
                } else {
                    0
                };
                Value::unnamed_variant("U16", [Value::u128(global.max(subnet))])
            }
            (_, Hp::Bool(item)) => Value::unnamed_variant(
                "Bool",
                [Value::bool(
                    read_sm(state, item, netuid).as_bool() == Some(true),
                )],
            ),
            (_, Hp::U16(item)) => Value::unnamed_variant("U16", [read_sm(state, item, netuid)]),
            (_, Hp::U32(item)) => Value::unnamed_variant("U32", [read_sm(state, item, netuid)]),
            (_, Hp::U64(item)) => Value::unnamed_variant("U64", [read_sm(state, item, netuid)]),
            (_, Hp::Tao(item)) => {
                Value::unnamed_variant("TaoBalance", [read_sm(state, item, netuid)])
            }
            (_, Hp::Fixed(variant, item)) => {
                Value::unnamed_variant(*variant, [read_sm(state, item, netuid)])
            }
        };
        Value::named_composite([
            ("name", Value::from_bytes(name.as_bytes())),
            ("value", value),
        ])
    });
    let entries: Vec<Value> = entries.collect();
    // Each entry must encode; one that does not (a storage type the variant does not carry)
    // falls back to the variant's zero value rather than failing the whole answer.
    let entry_ty = sequence_item(types, ty);
    Value::unnamed_composite(entries.into_iter().map(|entry| {
        if codec::encode(&entry, entry_ty, types).is_ok() {
            entry
        } else {
            let name = field(&entry, "name")
                .cloned()
                .unwrap_or_else(|| Value::from_bytes([]));
            let variant = match field(&entry, "value").map(|v| &v.value) {
                Some(ValueDef::Variant(v)) => v.name.clone(),
                _ => "U16".to_owned(),
            };
            let value_ty = field_type(types, entry_ty, "value").unwrap_or(0);
            let zero_variant = zero_value_of_variant(types, value_ty, &variant);
            Value::named_composite([("name", name), ("value", zero_variant)])
        }
    }))
}

/// The zero value of variant `name` of enum type `ty`.
fn zero_value_of_variant(types: &scale_info::PortableRegistry, ty: u32, name: &str) -> Value {
    let Some(scale_info::TypeDef::Variant(v)) = types.resolve(ty).map(|t| &t.type_def) else {
        return zero_value(types, ty);
    };
    match v.variants.iter().find(|var| var.name == name) {
        Some(var) => {
            Value::unnamed_variant(name, var.fields.iter().map(|f| zero_value(types, f.ty.id)))
        }
        None => zero_value(types, ty),
    }
}
