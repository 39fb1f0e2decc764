//! `serve_axon` / `serve_axon_tls` (pallets/subtensor/src/subnets/serving.rs): the axon's
//! endpoint in `Axons[netuid][hotkey]`, and for TLS its certificate in `NeuronCertificates`.

use scale_value::Value;

use super::chain::{read_uint, uid_of};
use super::{DispatchCtx, DispatchError, SUBTENSOR};
use crate::extrinsics::decode::DecodedCall;
use crate::extrinsics::invalid::{subtensor_custom, TransactionInvalid};
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

/// Longest certificate (`algorithm` byte + public key) subtensor keeps.
const MAX_CERTIFICATE_LEN: usize = 65;

#[derive(Debug, Clone, Copy)]
struct AxonInput {
    netuid: u16,
    version: u32,
    ip: u128,
    port: u16,
    ip_type: u8,
    protocol: u8,
    placeholder1: u8,
    placeholder2: u8,
}

fn axon_input(arg: impl Fn(&str) -> Option<u128>) -> Option<AxonInput> {
    Some(AxonInput {
        netuid: arg("netuid")? as u16,
        version: arg("version")? as u32,
        ip: arg("ip")?,
        port: arg("port")? as u16,
        ip_type: arg("ip_type")? as u8,
        protocol: arg("protocol")? as u8,
        placeholder1: arg("placeholder1")? as u8,
        placeholder2: arg("placeholder2")? as u8,
    })
}

fn registered_anywhere(state: &dyn StateAccess, hotkey: &[u8; 32]) -> bool {
    state
        .iter_prefix(SUBTENSOR, "NetworksAdded", &[])
        .iter()
        .filter(|(_, added)| values::boolean(added) == Some(true))
        .filter_map(|(keys, _)| keys.first().and_then(values::uint))
        .any(|netuid| uid_of(state, netuid as u16, hotkey).is_some())
}

fn is_valid_ip_address(ip_type: u8, ip: u128) -> bool {
    match ip_type {
        4 => ip < u128::from(u32::MAX) && ip != 0x7f00_0001,
        6 => ip != u128::MAX && ip != 1,
        _ => true,
    }
}

/// The stored axon (or the default one) of `hotkey` on `netuid`.
fn previous_axon(state: &dyn StateAccess, netuid: u16, hotkey: &[u8; 32]) -> Option<Value> {
    state.read(SUBTENSOR, "Axons", &[u(netuid), account_value(hotkey)])
}

/// `validate_serve_axon`, returning subtensor's error name.
fn validate(
    state: &dyn StateAccess,
    hotkey: &[u8; 32],
    input: &AxonInput,
    block: u64,
) -> Result<(), &'static str> {
    // Spec 343 asks for a registration on any subnet; the 424 runtime (the one with the stateful
    // epoch schedule) on the axon's own subnet.
    let registered = match crate::epochs::Schedule::of(state) {
        crate::epochs::Schedule::Stateful => uid_of(state, input.netuid, hotkey).is_some(),
        crate::epochs::Schedule::Grid => registered_anywhere(state, hotkey),
    };
    if !registered {
        return Err("HotKeyNotRegisteredInNetwork");
    }
    if !matches!(input.ip_type, 4 | 6) {
        return Err("InvalidIpType");
    }
    if !is_valid_ip_address(input.ip_type, input.ip) {
        return Err("InvalidIpAddress");
    }
    let last_served = previous_axon(state, input.netuid, hotkey)
        .as_ref()
        .and_then(|a| values::field(a, "block"))
        .and_then(values::uint)
        .unwrap_or(0) as u64;
    let rate_limit = read_uint(state, "ServingRateLimit", &[u(input.netuid)]) as u64;
    if rate_limit != 0 && last_served != 0 && block.saturating_sub(last_served) < rate_limit {
        return Err("ServingRateLimitExceeded");
    }
    if input.port == 0 {
        return Err("InvalidPort");
    }
    Ok(())
}

pub fn serve_axon(ctx: &mut DispatchCtx<'_>, tls: bool) -> Result<(), DispatchError> {
    let input = axon_input(|name| ctx.call.arg(name).and_then(values::uint))
        .ok_or(DispatchError::Other("serve_axon arguments"))?;
    let certificate = if tls {
        Some(ctx.arg_bytes("certificate")?)
    } else {
        None
    };
    let hotkey = ctx.who;
    validate(ctx.state, &hotkey, &input, ctx.block).map_err(DispatchError::subtensor)?;

    let key = [u(input.netuid), account_value(&hotkey)];
    if let Some(cert) = certificate {
        if let Some((algorithm, public_key)) = cert.split_first() {
            if cert.len() <= MAX_CERTIFICATE_LEN {
                ctx.state.write(
                    SUBTENSOR,
                    "NeuronCertificates",
                    &key,
                    Value::named_composite([
                        ("public_key", Value::from_bytes(public_key)),
                        ("algorithm", u(*algorithm)),
                    ]),
                );
            }
        }
    }
    let axon = Value::named_composite([
        ("block", u(ctx.block)),
        ("version", u(input.version)),
        ("ip", u(input.ip)),
        ("port", u(input.port)),
        ("ip_type", u(input.ip_type)),
        ("protocol", u(input.protocol)),
        ("placeholder1", u(input.placeholder1)),
        ("placeholder2", u(input.placeholder2)),
    ]);
    ctx.state.write(SUBTENSOR, "Axons", &key, axon);
    ctx.state.deposit_event(
        SUBTENSOR,
        "AxonServed",
        vec![("", u(input.netuid)), ("", account_value(&hotkey))],
    );
    Ok(())
}

/// `serve_axon` is fully validated by `SubtensorTransactionExtension`: bad input is refused by
/// the pool with a custom code instead of failing in the block (`serve_axon_tls` is not).
pub fn extension_checks(
    state: &dyn StateAccess,
    who: &[u8; 32],
    call: &DecodedCall,
    block: u64,
) -> Result<(), TransactionInvalid> {
    // The 424 runtime's `CheckServingEndpoints` guard checks `serve_axon_tls` too.
    let checked = match crate::epochs::Schedule::of(state) {
        crate::epochs::Schedule::Stateful => {
            matches!(call.name.as_str(), "serve_axon" | "serve_axon_tls")
        }
        crate::epochs::Schedule::Grid => call.name == "serve_axon",
    };
    if !checked {
        return Ok(());
    }
    let Some(input) = axon_input(|name| call.arg(name).and_then(values::uint)) else {
        return Ok(());
    };
    validate(state, who, &input, block).map_err(|name| {
        TransactionInvalid::Custom(match name {
            "HotKeyNotRegisteredInNetwork" => subtensor_custom::HOTKEY_NOT_REGISTERED_IN_NETWORK,
            "InvalidIpAddress" => subtensor_custom::INVALID_IP_ADDRESS,
            "ServingRateLimitExceeded" => subtensor_custom::SERVING_RATE_LIMIT_EXCEEDED,
            "InvalidPort" => subtensor_custom::INVALID_PORT,
            _ => subtensor_custom::BAD_REQUEST,
        })
    })
}
