//! A drand-like beacon with its own BLS key, for the local chain: same scheme as quicknet, so
//! ciphertexts made for it by any quicknet-compatible client (ours, bittensor-drand) open the same way.

use ark_ec::Group;
use ark_ff::PrimeField;
use ark_serialize::CanonicalSerialize;
use sha2::{Digest, Sha256};
use timelock::curves::drand::TinyBLS381;
use timelock::tlock::EngineBLS;

use crate::{round_identity, PUBLIC_KEY_LEN, SIGNATURE_LEN};

type Scalar = <TinyBLS381 as EngineBLS>::Scalar;

pub struct SimulatedBeacon {
    secret: Scalar,
}

impl SimulatedBeacon {
    /// A beacon whose key is derived from `seed` (deterministic, so a devnet restart keeps its beacon).
    pub fn from_seed(seed: &[u8]) -> Self {
        let wide = Sha256::digest([b"pylon-simulated-drand-beacon:".as_slice(), seed].concat());
        Self {
            secret: Scalar::from_le_bytes_mod_order(&wide),
        }
    }

    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let point = <TinyBLS381 as EngineBLS>::PublicKeyGroup::generator() * self.secret;
        let mut out = Vec::with_capacity(PUBLIC_KEY_LEN);
        point
            .serialize_compressed(&mut out)
            .expect("a G2 point serializes");
        out.try_into().expect("compressed G2 is 96 bytes")
    }

    /// The round's BLS signature: what the beacon publishes when the round arrives.
    pub fn signature(&self, round: u64) -> [u8; SIGNATURE_LEN] {
        let point = round_identity(round).extract::<TinyBLS381>(self.secret).0;
        let mut out = Vec::with_capacity(SIGNATURE_LEN);
        point
            .serialize_compressed(&mut out)
            .expect("a G1 point serializes");
        out.try_into().expect("compressed G1 is 48 bytes")
    }

    /// Drand's randomness for a round: sha256 of its signature.
    pub fn randomness(&self, round: u64) -> [u8; 32] {
        Sha256::digest(self.signature(round)).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decrypt, encrypt, TimelockError};

    #[test]
    fn ciphertexts_open_only_at_their_round() {
        let beacon = SimulatedBeacon::from_seed(b"devnet");
        let ciphertext = encrypt(b"uids+weights", &beacon.public_key(), 42).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &beacon.signature(42)).unwrap(),
            b"uids+weights"
        );
        assert_eq!(
            decrypt(&ciphertext, &beacon.signature(41)),
            Err(TimelockError::WrongRound)
        );
    }

    #[test]
    fn another_beacons_signature_does_not_open() {
        let ours = SimulatedBeacon::from_seed(b"devnet");
        let theirs = SimulatedBeacon::from_seed(b"other");
        assert_ne!(ours.public_key(), theirs.public_key());
        let ciphertext = encrypt(b"payload", &ours.public_key(), 7).unwrap();
        assert_eq!(
            decrypt(&ciphertext, &theirs.signature(7)),
            Err(TimelockError::WrongRound)
        );
    }

    #[test]
    fn keys_are_deterministic() {
        let a = SimulatedBeacon::from_seed(b"devnet");
        let b = SimulatedBeacon::from_seed(b"devnet");
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.signature(3), b.signature(3));
        assert_eq!(a.randomness(3), Sha256::digest(a.signature(3)).as_slice());
    }
}
