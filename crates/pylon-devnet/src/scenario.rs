//! Genesis: the subnets, neurons, keys, stakes, axons, certificates and commitments the chain
//! starts with, from a TOML/JSON scenario file or the built-in default (see docs/DEVNET.md).

use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::keys::{dev_keypair, placeholder_account};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("scenario file {path} is invalid: {reason}")]
    Parse { path: String, reason: String },
    #[error("scenario: {0}")]
    Invalid(String),
}

/// Which account a key field names: a dev secret URI (`//Alice`), an SS58 address, or a hex
/// account id (`0x…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeySpec(pub String);

impl KeySpec {
    pub fn account(&self) -> Result<[u8; 32], ScenarioError> {
        if let Some(hex_id) = self.0.strip_prefix("0x") {
            let bytes = hex::decode(hex_id)
                .map_err(|_| ScenarioError::Invalid(format!("{} is not hex", self.0)))?;
            return bytes
                .try_into()
                .map_err(|_| ScenarioError::Invalid(format!("{} is not 32 bytes", self.0)));
        }
        if let Some(account) = crate::keys::ss58_decode(&self.0) {
            return Ok(account);
        }
        dev_keypair(&self.0)
            .map(|k| k.public)
            .map_err(|e| ScenarioError::Invalid(format!("{}: {e}", self.0)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    /// Extra funded accounts (dev URIs or hex ids) besides every neuron's keys.
    #[serde(default)]
    pub accounts: Vec<KeySpec>,
    /// Free balance (rao) given to every known account at genesis.
    #[serde(default = "default_balance")]
    pub balance: u64,
    #[serde(default)]
    pub drand: DrandSpec,
    /// The runtime the chain starts with (`343` or `424`); [`crate::DevnetConfig::runtime`]
    /// overrides it. Spec 424 when neither says.
    #[serde(default)]
    pub runtime: Option<crate::version::RuntimeSpec>,
    /// The EVM side: chain id and the logs `eth_getLogs` serves (see docs/DEVNET.md).
    #[serde(default)]
    pub evm: crate::evm::EvmSpec,
}

fn default_balance() -> u64 {
    1_000_000 * 1_000_000_000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrandSpec {
    /// Seed of the simulated beacon's BLS key (its public key goes into `Drand.BeaconConfig`).
    pub seed: String,
    /// Store a pulse for every drand round as time passes (`Drand.Pulses`).
    pub pulses: bool,
}

impl Default for DrandSpec {
    fn default() -> Self {
        Self {
            seed: "pylon-devnet".to_owned(),
            pulses: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetSpec {
    pub netuid: u16,
    #[serde(default)]
    pub owner: Option<KeySpec>,
    #[serde(default)]
    pub hyperparameters: Hyperparameters,
    #[serde(default)]
    pub neurons: Vec<NeuronSpec>,
    /// Append this many generated neurons after `neurons` (placeholder keys, small stakes).
    #[serde(default)]
    pub generated_neurons: u16,
    #[serde(default)]
    pub commitments: Vec<CommitmentSpec>,
    /// The subnet's liquidity pool (`SubnetTAO`, `SubnetAlphaIn`, `SubnetMechanism`, the
    /// balancer's weight); absent: no reserves (price 0 on a dynamic subnet).
    #[serde(default)]
    pub pool: Option<PoolSpec>,
    /// `AssociatedEvmAddress(netuid, uid)` entries.
    #[serde(default)]
    pub evm_associations: Vec<EvmAssociationSpec>,
}

/// A subnet's pool reserves, as subtensor stores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// `SubtensorModule.SubnetTAO`, rao.
    pub tao_in: u64,
    /// `SubtensorModule.SubnetAlphaIn`, rao of alpha.
    pub alpha_in: u64,
    /// `SubtensorModule.SubnetMechanism`: 1 is dynamic (priced by the pool), 0 stable (1 TAO).
    #[serde(default = "dynamic_mechanism")]
    pub mechanism: u16,
    /// `Swap.SwapBalancer.quote`, the TAO side's weight in `Perquintill` parts (10^18 = 1);
    /// absent: the pallet's default, one half.
    #[serde(default)]
    pub quote_weight: Option<u64>,
}

fn dynamic_mechanism() -> u16 {
    1
}

/// One hotkey's associated EVM address (`SubtensorModule.AssociatedEvmAddress`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmAssociationSpec {
    pub uid: u16,
    /// 20 bytes, `0x` hex.
    pub evm_address: String,
    /// The block where ownership was last proven.
    #[serde(default)]
    pub block: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hyperparameters {
    pub tempo: u16,
    pub commit_reveal_weights_enabled: bool,
    pub reveal_period_epochs: u64,
    pub weights_version_key: u64,
    pub weights_rate_limit: u64,
    pub min_allowed_weights: u16,
    pub max_weights_limit: u16,
    pub max_allowed_uids: u16,
    pub max_allowed_validators: u16,
    pub immunity_period: u16,
    pub activity_cutoff: u16,
    pub kappa: u16,
    pub rho: u16,
    pub registration_allowed: bool,
    pub burn: u64,
    pub serving_rate_limit: u64,
    /// `MechanismCountCurrent`: how many weight mechanisms the subnet runs (each keeps its own
    /// `Weights`, `Incentive` and `LastUpdate` under `mecid * 4096 + netuid`). Written where the
    /// runtime stores the item (specs 343 and 424 both do).
    pub mechanism_count: u8,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Self {
            tempo: 360,
            commit_reveal_weights_enabled: false,
            reveal_period_epochs: 1,
            weights_version_key: 0,
            weights_rate_limit: 100,
            min_allowed_weights: 1,
            max_weights_limit: u16::MAX,
            max_allowed_uids: 256,
            max_allowed_validators: 64,
            immunity_period: 5000,
            activity_cutoff: 5000,
            kappa: 32767,
            rho: 10,
            registration_allowed: true,
            burn: 1_000_000_000,
            serving_rate_limit: 50,
            mechanism_count: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeuronSpec {
    pub hotkey: Option<KeySpec>,
    pub coldkey: Option<KeySpec>,
    /// Alpha staked on the hotkey by its coldkey, in rao.
    pub stake: u64,
    pub axon: Option<AxonSpec>,
    pub validator_permit: bool,
    pub active: bool,
    pub rank: u16,
    pub trust: u16,
    pub consensus: u16,
    pub incentive: u16,
    pub dividends: u16,
    pub validator_trust: u16,
    pub emission: u64,
    pub last_update: u64,
    pub certificate: Option<CertificateSpec>,
}

impl Default for NeuronSpec {
    fn default() -> Self {
        Self {
            hotkey: None,
            coldkey: None,
            stake: 0,
            axon: None,
            validator_permit: false,
            active: true,
            rank: 0,
            trust: 0,
            consensus: 0,
            incentive: 0,
            dividends: 0,
            validator_trust: 0,
            emission: 0,
            last_update: 0,
            certificate: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxonSpec {
    pub ip: Ipv4Addr,
    pub port: u16,
    #[serde(default = "default_protocol")]
    pub protocol: u8,
    #[serde(default)]
    pub version: u32,
}

fn default_protocol() -> u8 {
    4
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    pub algorithm: u8,
    /// Hex public key (up to 64 bytes).
    pub public_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentSpec {
    pub hotkey: KeySpec,
    /// The committed text, stored as `Raw` data fields (like `set_commitment` with text).
    pub data: String,
    #[serde(default)]
    pub block: u32,
}

/// A neuron with its hotkey and coldkey account ids.
pub type ResolvedNeuron = (NeuronSpec, [u8; 32], [u8; 32]);

impl Scenario {
    /// A realistic default: netuid 1 with 256 neurons (validators `//Alice`, `//Bob`, `//Charlie`,
    /// `//Dave`, `//Eve` with permits and large stakes), netuid 2 with 16 neurons and
    /// commit-reveal on, netuid 3 with 8 neurons.
    pub fn builtin_default() -> Self {
        let validators = ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve"];
        let subnet = |netuid: u16, total: u16, validator_count: usize, commit_reveal: bool| {
            let mut neurons = Vec::new();
            for (i, name) in validators.iter().take(validator_count).enumerate() {
                neurons.push(NeuronSpec {
                    hotkey: Some(KeySpec(name.to_string())),
                    coldkey: Some(KeySpec(format!("{name}//coldkey"))),
                    stake: 1_000_000_000_000_000 / (i as u64 + 1),
                    axon: Some(AxonSpec {
                        ip: Ipv4Addr::new(10, 0, netuid as u8, i as u8 + 1),
                        port: 8091,
                        protocol: 4,
                        version: 1,
                    }),
                    validator_permit: true,
                    validator_trust: 60_000,
                    dividends: 10_000,
                    emission: 1_000_000_000,
                    last_update: 0,
                    certificate: (i == 0).then(|| CertificateSpec {
                        algorithm: 1,
                        public_key: hex::encode([0xab; 32]),
                    }),
                    ..NeuronSpec::default()
                });
            }
            SubnetSpec {
                netuid,
                owner: Some(KeySpec("//Alice//coldkey".into())),
                hyperparameters: Hyperparameters {
                    tempo: if netuid == 1 { 360 } else { 100 },
                    commit_reveal_weights_enabled: commit_reveal,
                    weights_version_key: 0,
                    weights_rate_limit: if netuid == 1 { 100 } else { 0 },
                    max_allowed_uids: total.max(8),
                    ..Hyperparameters::default()
                },
                generated_neurons: total - validator_count as u16,
                neurons,
                commitments: vec![CommitmentSpec {
                    hotkey: KeySpec("//Alice".into()),
                    data: format!("pylon-devnet commitment for netuid {netuid}"),
                    block: 0,
                }],
                // Distinct prices per subnet: 0.25, 0.222… and (weights 0.6/0.4) 0.75 TAO.
                pool: Some(PoolSpec {
                    tao_in: 1_000_000_000_000 * u64::from(netuid),
                    alpha_in: [0, 4, 9, 6][usize::from(netuid) % 4] * 1_000_000_000_000,
                    mechanism: 1,
                    quote_weight: (netuid == 3).then_some(400_000_000_000_000_000),
                }),
                // Alice (uid 0) and Charlie (uid 2, where there is one) hold EVM addresses.
                evm_associations: (0..validator_count.min(3) as u16)
                    .step_by(2)
                    .map(|uid| EvmAssociationSpec {
                        uid,
                        evm_address: format!(
                            "0x{}",
                            hex::encode([0x10 * (uid as u8 + 1) + netuid as u8; 20])
                        ),
                        block: u64::from(uid) + 1,
                    })
                    .collect(),
            }
        };
        Scenario {
            subnets: vec![
                subnet(1, 256, 5, false),
                subnet(2, 16, 3, true),
                subnet(3, 8, 2, false),
            ],
            accounts: vec![KeySpec("//Ferdie".into())],
            balance: default_balance(),
            drand: DrandSpec::default(),
            runtime: None,
            evm: crate::evm::EvmSpec {
                logs: builtin_transfer_logs(),
                ..crate::evm::EvmSpec::default()
            },
        }
    }

    /// Load a scenario from a `.toml` or `.json` file.
    pub fn from_path(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|reason| ScenarioError::Parse {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Every neuron of a subnet with resolved accounts, generated ones included, in uid order.
    pub fn resolved_neurons(
        &self,
        subnet: &SubnetSpec,
    ) -> Result<Vec<ResolvedNeuron>, ScenarioError> {
        let mut out = Vec::new();
        for (uid, neuron) in subnet.neurons.iter().enumerate() {
            let label = format!("sn{}/uid{uid}", subnet.netuid);
            let hotkey = match &neuron.hotkey {
                Some(k) => k.account()?,
                None => placeholder_account(&format!("{label}/hotkey")),
            };
            let coldkey = match &neuron.coldkey {
                Some(k) => k.account()?,
                None => placeholder_account(&format!("{label}/coldkey")),
            };
            out.push((neuron.clone(), hotkey, coldkey));
        }
        let start = out.len();
        for uid in start..start + subnet.generated_neurons as usize {
            let label = format!("sn{}/uid{uid}", subnet.netuid);
            let neuron = NeuronSpec {
                stake: 1_000_000_000 * (uid as u64 % 97 + 1),
                axon: Some(AxonSpec {
                    ip: Ipv4Addr::new(10, 1, subnet.netuid as u8, (uid % 250) as u8 + 1),
                    port: 9000 + uid as u16,
                    protocol: 4,
                    version: 1,
                }),
                rank: (uid as u16).wrapping_mul(97),
                trust: (uid as u16).wrapping_mul(131),
                consensus: (uid as u16).wrapping_mul(89),
                incentive: (uid as u16).wrapping_mul(53),
                emission: 1_000_000 * uid as u64,
                ..NeuronSpec::default()
            };
            out.push((
                neuron,
                placeholder_account(&format!("{label}/hotkey")),
                placeholder_account(&format!("{label}/coldkey")),
            ));
        }
        Ok(out)
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self::builtin_default()
    }
}

/// Three ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)` logs of one
/// contract in blocks 1–3, so `pylon dev` answers the EVM logs route with something to decode.
fn builtin_transfer_logs() -> Vec<crate::evm::EvmLogSpec> {
    // keccak256("Transfer(address,address,uint256)")
    const TRANSFER: &str = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    const CONTRACT: &str = "0x00000000000000000000000000000000000c0de1";
    let account = |n: u8| format!("0x{}{:02x}", "0".repeat(62), n);
    (1u8..=3)
        .map(|n| crate::evm::EvmLogSpec {
            address: CONTRACT.to_owned(),
            topics: vec![TRANSFER.to_owned(), account(n), account(n + 1)],
            data: format!("0x{:064x}", u64::from(n) * 1_000_000_000),
            block: u32::from(n),
            transaction_index: 0,
            transaction_hash: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_has_three_subnets_with_alice_validating_netuid_1() {
        let s = Scenario::builtin_default();
        assert_eq!(s.subnets.len(), 3);
        let neurons = s.resolved_neurons(&s.subnets[0]).unwrap();
        assert_eq!(neurons.len(), 256);
        assert_eq!(neurons[0].1, dev_keypair("//Alice").unwrap().public);
        assert!(neurons[0].0.validator_permit);
    }

    #[test]
    fn toml_scenarios_parse_and_unknown_fields_are_named() {
        let dir = std::env::temp_dir().join(format!("pylon-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("s.toml");
        std::fs::write(
            &good,
            "[[subnets]]\nnetuid = 7\ngenerated_neurons = 3\n[subnets.hyperparameters]\ntempo = 10\n",
        )
        .unwrap();
        let s = Scenario::from_path(&good).unwrap();
        assert_eq!(s.subnets[0].hyperparameters.tempo, 10);
        let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        assert_eq!(
            KeySpec(alice.into()).account().unwrap(),
            KeySpec("//Alice".into()).account().unwrap()
        );
        let bad = dir.join("b.toml");
        std::fs::write(&bad, "[[subnets]]\nnetuid = 7\nbogus = 1\n").unwrap();
        let err = Scenario::from_path(&bad).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
