//! Drand timelock encryption exactly as subtensor's commit-reveal (CRv4) uses it, and a simulated beacon.
//!
//! A message encrypted to round `r` can be opened by anyone holding the beacon's BLS signature of `r`,
//! which the beacon publishes only when `r` arrives. The scheme is Boneh–Franklin IBE over BLS12-381 with
//! drand quicknet's layout (signatures in G1, 48 bytes; public key in G2, 96 bytes), identity
//! `sha256(round as u64 big-endian)`, and an AES-GCM body; ciphertexts are ark-serialize compressed
//! `TLECiphertext`s, the bytes `commit_timelocked_weights` carries and the chain decodes.

mod beacon;

pub use beacon::SimulatedBeacon;

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use timelock::curves::drand::TinyBLS381;
use timelock::ibe::fullident::Identity;
use timelock::stream_ciphers::AESGCMStreamCipherProvider;
use timelock::tlock::{tld, tle, EngineBLS, TLECiphertext};

/// Drand quicknet, the beacon finney's Drand pallet follows.
pub mod quicknet {
    /// Seconds between rounds.
    pub const PERIOD_SECONDS: u64 = 3;
    /// Unix time of round 1.
    pub const GENESIS_TIME: u64 = 1_692_803_367;
    /// The beacon's public key (G2, compressed), hex.
    pub const PUBLIC_KEY_HEX: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
}

pub const PUBLIC_KEY_LEN: usize = 96;
pub const SIGNATURE_LEN: usize = 48;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimelockError {
    #[error("beacon public key is not a compressed BLS12-381 G2 point")]
    BadPublicKey,
    #[error("round signature is not a compressed BLS12-381 G1 point")]
    BadSignature,
    #[error("ciphertext is not a compressed timelock ciphertext")]
    BadCiphertext,
    #[error("ciphertext does not open with this round's signature")]
    WrongRound,
    #[error("encryption failed")]
    Encryption,
}

/// The IBE identity of a drand round.
fn round_identity(round: u64) -> Identity {
    let digest = Sha256::digest(round.to_be_bytes());
    Identity::new(b"", vec![digest.to_vec()])
}

/// Encrypt `plaintext` so that it opens with the beacon's signature of `round`.
pub fn encrypt(
    plaintext: &[u8],
    beacon_public_key: &[u8],
    round: u64,
) -> Result<Vec<u8>, TimelockError> {
    let public_key =
        <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(beacon_public_key)
            .map_err(|_| TimelockError::BadPublicKey)?;
    // A fresh ephemeral key and nonce source per ciphertext.
    let mut ephemeral_key = [0u8; 32];
    OsRng.fill_bytes(&mut ephemeral_key);
    let rng = ChaCha20Rng::from_rng(OsRng).map_err(|_| TimelockError::Encryption)?;
    let ciphertext = tle::<TinyBLS381, AESGCMStreamCipherProvider, ChaCha20Rng>(
        public_key,
        ephemeral_key,
        plaintext,
        round_identity(round),
        rng,
    )
    .map_err(|_| TimelockError::Encryption)?;
    let mut out = Vec::new();
    ciphertext
        .serialize_compressed(&mut out)
        .map_err(|_| TimelockError::Encryption)?;
    Ok(out)
}

/// Open a ciphertext with a round's signature (what the chain does when the round's pulse arrives).
pub fn decrypt(ciphertext: &[u8], round_signature: &[u8]) -> Result<Vec<u8>, TimelockError> {
    let ciphertext = TLECiphertext::<TinyBLS381>::deserialize_compressed(ciphertext)
        .map_err(|_| TimelockError::BadCiphertext)?;
    let signature =
        <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(round_signature)
            .map_err(|_| TimelockError::BadSignature)?;
    tld::<TinyBLS381, AESGCMStreamCipherProvider>(ciphertext, signature)
        .map_err(|_| TimelockError::WrongRound)
}

/// A drand beacon's clock: round 1 is published at `genesis_time`, then one round every `period`
/// seconds (drand's numbering). The one place Pylon turns a time into a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundClock {
    /// Unix time of round 1.
    pub genesis_time: u64,
    /// Seconds between rounds.
    pub period: u64,
}

impl RoundClock {
    /// Drand quicknet's clock.
    pub const QUICKNET: RoundClock = RoundClock {
        genesis_time: quicknet::GENESIS_TIME,
        period: quicknet::PERIOD_SECONDS,
    };

    /// The newest round published at `unix_seconds`: 1 at genesis, 2 one period later, …; 0
    /// before genesis. A zero period (a beacon that never moves) has only round 1.
    pub fn round_at(&self, unix_seconds: f64) -> u64 {
        let elapsed = unix_seconds - self.genesis_time as f64;
        if elapsed.is_nan() || elapsed < 0.0 {
            return 0;
        }
        if self.period == 0 {
            return 1;
        }
        // `as` saturates: a time beyond u64 rounds stays the last round.
        (elapsed / self.period as f64).floor() as u64 + 1
    }

    /// The newest round published at least one full period before `unix_seconds` (0 while there
    /// is none): `floor((t - genesis) / period)`. The Bittensor SDK's reveal round for a target
    /// time (bittensor-core's `get_encrypted_commit_v2`), and the round whose pulse a chain that
    /// lags the beacon by one period holds at `t`.
    pub fn settled_round_at(&self, unix_seconds: f64) -> u64 {
        self.round_at(unix_seconds).saturating_sub(1)
    }

    /// Unix time at which `round` (≥ 1) is published.
    pub fn published_at(&self, round: u64) -> u64 {
        self.genesis_time
            .saturating_add(round.saturating_sub(1).saturating_mul(self.period))
    }
}

/// The quicknet round settled at `unix_seconds` ([`RoundClock::settled_round_at`] of quicknet).
pub fn quicknet_round_at(unix_seconds: u64) -> u64 {
    RoundClock::QUICKNET.settled_round_at(unix_seconds as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// quicknet's real signature of round 1000, as published by drand.
    const QUICKNET_ROUND_1000_SIGNATURE: &str =
        "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

    #[test]
    fn encrypts_to_real_quicknet_and_opens_with_its_published_signature() {
        let public_key = hex::decode(quicknet::PUBLIC_KEY_HEX).unwrap();
        let signature = hex::decode(QUICKNET_ROUND_1000_SIGNATURE).unwrap();
        let ciphertext = encrypt(b"weights payload", &public_key, 1000).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &signature).unwrap(),
            b"weights payload"
        );
    }

    #[test]
    fn a_ciphertext_for_another_round_does_not_open() {
        let public_key = hex::decode(quicknet::PUBLIC_KEY_HEX).unwrap();
        let signature = hex::decode(QUICKNET_ROUND_1000_SIGNATURE).unwrap();
        let ciphertext = encrypt(b"weights payload", &public_key, 1001).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &signature),
            Err(TimelockError::WrongRound)
        );
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        assert_eq!(
            encrypt(b"x", &[1, 2, 3], 1),
            Err(TimelockError::BadPublicKey)
        );
        assert_eq!(
            decrypt(&[0xff; 10], &[0u8; 48]),
            Err(TimelockError::BadCiphertext)
        );
        let public_key = hex::decode(quicknet::PUBLIC_KEY_HEX).unwrap();
        let ciphertext = encrypt(b"x", &public_key, 5).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &[1, 2, 3]),
            Err(TimelockError::BadSignature)
        );
    }

    #[test]
    fn quicknet_round_follows_genesis_and_period() {
        assert_eq!(quicknet_round_at(quicknet::GENESIS_TIME), 0);
        assert_eq!(quicknet_round_at(quicknet::GENESIS_TIME + 30), 10);
        assert_eq!(quicknet_round_at(0), 0);
    }

    #[test]
    fn rounds_count_from_one_at_genesis() {
        let clock = RoundClock {
            genesis_time: 100,
            period: 3,
        };
        // (time, newest round published, newest round a full period old)
        for (t, round, settled) in [
            (99.9, 0, 0),
            (100.0, 1, 0),
            (102.9, 1, 0),
            (103.0, 2, 1),
            (105.5, 2, 1),
            (106.0, 3, 2),
        ] {
            assert_eq!(clock.round_at(t), round, "round at {t}");
            assert_eq!(clock.settled_round_at(t), settled, "settled round at {t}");
        }
        assert_eq!(clock.published_at(1), 100);
        assert_eq!(clock.published_at(3), 106);
        assert_eq!(clock.round_at(clock.published_at(7) as f64), 7);
        assert_eq!(clock.round_at(f64::NAN), 0);
        let frozen = RoundClock {
            genesis_time: 100,
            period: 0,
        };
        assert_eq!(frozen.round_at(1e9), 1);
    }

    #[test]
    fn the_settled_round_is_the_sdks_floor() {
        // bittensor-core: floor((t - genesis) / period) for a target time t.
        let t = quicknet::GENESIS_TIME as f64 + 3.0 * 1_000_000.0 + 2.5;
        assert_eq!(RoundClock::QUICKNET.settled_round_at(t), 1_000_000);
        assert_eq!(RoundClock::QUICKNET.round_at(t), 1_000_001);
    }
}
