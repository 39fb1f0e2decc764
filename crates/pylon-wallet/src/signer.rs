//! The one place a hotkey's secret lives at run time.

use std::fmt;

use schnorrkel::{signing_context, ExpansionMode, Keypair, MiniSecretKey, SecretKey};
use subxt::Config;
use subxt_signer::sr25519::{PublicKey, Signature};

/// Substrate signs sr25519 payloads in this context; the chain verifies in the same one.
const SIGNING_CONTEXT: &[u8] = b"substrate";

/// An sr25519 hotkey able to sign extrinsics. Prints and logs as its public address only.
pub struct HotkeySigner {
    keypair: Keypair,
}

impl HotkeySigner {
    /// From a 32-byte mini secret (`secretSeed` in a keyfile), expanded the way Substrate does.
    pub fn from_seed(seed: &[u8; 32]) -> Option<Self> {
        let mini = MiniSecretKey::from_bytes(seed).ok()?;
        Some(Self {
            keypair: mini.expand_to_keypair(ExpansionMode::Ed25519),
        })
    }

    /// From a 64-byte secret key (`privateKey` in a keyfile): schnorrkel's canonical key ‖ nonce layout,
    /// as Substrate's `sr25519::Pair` stores it (not the ed25519-compatible layout).
    pub fn from_private_key(bytes: &[u8]) -> Option<Self> {
        let secret = SecretKey::from_bytes(bytes).ok()?;
        Some(Self {
            keypair: secret.to_keypair(),
        })
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.keypair.public.to_bytes()
    }

    /// The account as SS58 with the generic Substrate prefix (42), as Bittensor displays it.
    pub fn ss58_address(&self) -> String {
        subxt::utils::AccountId32(self.public_key()).to_string()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.keypair
            .sign(signing_context(SIGNING_CONTEXT).bytes(message))
            .to_bytes()
    }

    /// The 64-byte expanded secret, for writing a keyfile. Only the keyfile writer calls this.
    pub(crate) fn private_key_bytes(&self) -> zeroize::Zeroizing<[u8; 64]> {
        zeroize::Zeroizing::new(self.keypair.secret.to_bytes())
    }
}

impl fmt::Debug for HotkeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotkeySigner")
            .field("ss58", &self.ss58_address())
            .finish_non_exhaustive()
    }
}

impl<T: Config> subxt::tx::Signer<T> for HotkeySigner
where
    T::AccountId: From<PublicKey>,
    T::Signature: From<Signature>,
{
    fn account_id(&self) -> T::AccountId {
        PublicKey(self.public_key()).into()
    }

    fn sign(&self, signer_payload: &[u8]) -> T::Signature {
        Signature(HotkeySigner::sign(self, signer_payload)).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_and_private_key_give_the_same_account_and_valid_signatures() {
        let from_seed = HotkeySigner::from_seed(&[7u8; 32]).unwrap();
        let private = from_seed.private_key_bytes();
        let from_private = HotkeySigner::from_private_key(private.as_slice()).unwrap();
        assert_eq!(from_seed.public_key(), from_private.public_key());

        let signature = from_private.sign(b"payload");
        assert!(subxt_signer::sr25519::verify(
            &Signature(signature),
            b"payload",
            &PublicKey(from_seed.public_key())
        ));
    }

    #[test]
    fn matches_substrate_dev_account_derivation() {
        // //Alice's well-known account, from the dev phrase via subxt-signer.
        let alice = subxt_signer::sr25519::dev::alice();
        let expected = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        assert_eq!(
            subxt::utils::AccountId32(alice.public_key().0).to_string(),
            expected
        );
    }

    #[test]
    fn debug_shows_only_the_address() {
        let signer = HotkeySigner::from_seed(&[9u8; 32]).unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains(&signer.ss58_address()));
        let private_hex = hex::encode(signer.private_key_bytes().as_slice());
        assert!(!shown.contains(&private_hex[..16]));
    }
}
