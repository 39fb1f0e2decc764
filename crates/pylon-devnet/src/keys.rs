//! Dev keys: Substrate secret URIs over the well-known dev phrase ("//Alice", "//sn1/uid0", …),
//! derived exactly as Substrate and `bittensor_wallet.Keypair.create_from_uri` derive them.

use std::str::FromStr;

use schnorrkel::derive::{ChainCode, Derivation};
use schnorrkel::{ExpansionMode, MiniSecretKey, SecretKey};
use subxt_signer::{DeriveJunction, ExposeSecret, SecretUri, DEV_PHRASE};

/// The dev phrase's BIP-39 mini secret. Deriving it costs a 2048-round PBKDF2, far too slow to
/// repeat for every dev key at start-up, so it is fixed here (a test checks it against the phrase).
const DEV_PHRASE_MINI_SECRET: [u8; 32] = [
    0xfa, 0xc7, 0x95, 0x9d, 0xbf, 0xe7, 0x2f, 0x05, 0x2e, 0x5a, 0x0c, 0x3c, 0x8d, 0x65, 0x30, 0xf2,
    0x02, 0xb0, 0x2f, 0xd8, 0xf9, 0xf5, 0xca, 0x35, 0x80, 0xec, 0x8d, 0xeb, 0x77, 0x97, 0x47, 0x9e,
];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a secret URI: {0}")]
    BadUri(String),
    #[error("only URIs over the dev phrase without password are dev keys (e.g. \"//Alice\")")]
    NotDevPhrase,
}

/// An sr25519 dev key pair. Debug shows only the public key.
#[derive(Clone)]
pub struct DevKeypair {
    pub public: [u8; 32],
    secret: SecretKey,
}

impl std::fmt::Debug for DevKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DevKeypair(0x{})", hex::encode(self.public))
    }
}

impl DevKeypair {
    /// The 64-byte secret key (key ‖ nonce), the `privateKey` of a Bittensor keyfile.
    pub fn secret_key_bytes(&self) -> [u8; 64] {
        self.secret.to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let context = schnorrkel::signing_context(b"substrate");
        self.secret
            .sign(context.bytes(message), &self.secret.to_public())
            .to_bytes()
    }
}

/// The key pair of a dev secret URI such as `//Alice` or `//sn1/uid0`.
pub fn dev_keypair(uri: &str) -> Result<DevKeypair, KeyError> {
    let parsed = SecretUri::from_str(uri).map_err(|e| KeyError::BadUri(e.to_string()))?;
    if parsed.phrase.expose_secret() != DEV_PHRASE || parsed.password.is_some() {
        return Err(KeyError::NotDevPhrase);
    }
    let root = MiniSecretKey::from_bytes(&DEV_PHRASE_MINI_SECRET)
        .expect("32 bytes")
        .expand(ExpansionMode::Ed25519);
    let secret = parsed.junctions.into_iter().fold(root, |acc, j| match j {
        DeriveJunction::Soft(cc) => acc.derived_key_simple(ChainCode(cc), []).0,
        DeriveJunction::Hard(cc) => acc
            .hard_derive_mini_secret_key(Some(ChainCode(cc)), b"")
            .0
            .expand(ExpansionMode::Ed25519),
    });
    Ok(DevKeypair {
        public: secret.to_public().to_bytes(),
        secret,
    })
}

/// A stand-in account for neurons nobody signs for: a deterministic 32-byte id from a label.
/// Costs one hash instead of a key derivation, which keeps large scenarios fast to start.
pub fn placeholder_account(label: &str) -> [u8; 32] {
    sp_crypto_hashing::blake2_256(format!("pylon-devnet/{label}").as_bytes())
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The account id of an SS58 address (any single-byte network prefix), checksum verified.
pub fn ss58_decode(address: &str) -> Option<[u8; 32]> {
    // Base58 to bytes (big-endian base conversion; leading '1's are leading zero bytes).
    let mut bytes: Vec<u8> = Vec::new();
    for c in address.bytes() {
        let mut carry = BASE58.iter().position(|b| *b == c)? as u32;
        for byte in bytes.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = address.bytes().take_while(|c| *c == b'1').count();
    let mut data = vec![0u8; zeros];
    data.extend(bytes);
    if data.len() != 35 || data[0] >= 64 {
        return None;
    }
    let mut preimage = b"SS58PRE".to_vec();
    preimage.extend_from_slice(&data[..33]);
    let checksum = sp_crypto_hashing::blake2_512(&preimage);
    if checksum[..2] != data[33..] {
        return None;
    }
    data[1..33].try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_match_substrate_derivation() {
        let alice = subxt_signer::sr25519::dev::alice().public_key().0;
        assert_eq!(dev_keypair("//Alice").unwrap().public, alice);
        let from_phrase = subxt_signer::sr25519::Keypair::from_uri(
            &SecretUri::from_str("//sn1/uid3//hot").unwrap(),
        )
        .unwrap();
        assert_eq!(
            dev_keypair("//sn1/uid3//hot").unwrap().public,
            from_phrase.public_key().0
        );
    }

    #[test]
    fn signatures_verify() {
        let key = dev_keypair("//Bob").unwrap();
        let sig = key.sign(b"payload");
        let ok = subxt_signer::sr25519::verify(
            &subxt_signer::sr25519::Signature(sig),
            b"payload",
            &subxt_signer::sr25519::PublicKey(key.public),
        );
        assert!(ok);
    }

    #[test]
    fn ss58_addresses_decode_to_account_ids() {
        let alice = subxt_signer::sr25519::dev::alice().public_key().0;
        assert_eq!(
            ss58_decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"),
            Some(alice)
        );
        assert_eq!(
            ss58_decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"),
            None
        );
    }

    #[test]
    fn non_dev_uris_are_refused() {
        assert!(dev_keypair("//Alice///secret").is_err());
    }
}
