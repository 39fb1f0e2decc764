//! Password-encrypted keyfiles as `bittensor-wallet` (and `btcli`) write them.
//!
//! The current format is NaCl: `$NACL` ‖ 24-byte nonce ‖ `crypto_secretbox_easy` output (16-byte
//! Poly1305 tag, then the XSalsa20-encrypted keyfile JSON). The box key is Argon2i (v1.3) of the
//! password with a fixed salt and libsodium's `crypto_pwhash_argon2i_{OPS,MEM}LIMIT_SENSITIVE`
//! (8 passes over 512 MiB, one lane) — the constants `bittensor-wallet` passes to libsodium. Older
//! wallets used Ansible Vault or Fernet; those are recognised so the error can name them.

use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::aead::Aead;
use crypto_secretbox::{KeyInit, Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

const NACL_PREFIX: &[u8] = b"$NACL";
/// The salt every NaCl keyfile is keyed with (a constant in `bittensor-wallet`, not per file).
const NACL_SALT: &[u8; 16] = b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";
/// libsodium `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE`: Argon2 passes.
const OPSLIMIT_SENSITIVE: u32 = 8;
/// libsodium `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE` (536 870 912 bytes), in KiB as Argon2 counts.
const MEMLIMIT_SENSITIVE_KIB: u32 = 536_870_912 / 1024;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// How a keyfile is encrypted, told apart by its first bytes as `bittensor-wallet` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encryption {
    /// `$NACL…`: current `bittensor-wallet`; Pylon opens it given the password.
    NaCl,
    /// `$ANSIBLE_VAULT…`: the format before NaCl.
    AnsibleVault,
    /// `gAAAAA…`: Fernet, the oldest format.
    LegacyFernet,
}

impl Encryption {
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(NACL_PREFIX) {
            Some(Encryption::NaCl)
        } else if bytes.starts_with(b"$ANSIBLE_VAULT") {
            Some(Encryption::AnsibleVault)
        } else if bytes.starts_with(b"gAAAAA") {
            Some(Encryption::LegacyFernet)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encryption::NaCl => "NaCl",
            Encryption::AnsibleVault => "Ansible Vault",
            Encryption::LegacyFernet => "Fernet",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Shorter than prefix, nonce and tag: not something `bittensor-wallet` wrote.
    Truncated,
    /// The tag does not verify: the password is wrong (or the file was altered).
    WrongPassword,
}

/// Decrypt a `$NACL` keyfile with `password`. Costs one Argon2i run: about a second or more of
/// CPU and 512 MiB of memory, so callers open each keyfile once.
pub(crate) fn open_nacl(data: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let body = data.strip_prefix(NACL_PREFIX).ok_or(OpenError::Truncated)?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(OpenError::Truncated);
    }
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let key = derive_key(password);
    let cipher = XSalsa20Poly1305::new(key.as_slice().into());
    cipher
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map(Zeroizing::new)
        .map_err(|_| OpenError::WrongPassword)
}

/// libsodium `crypto_pwhash_argon2i` with the sensitive limits and a 32-byte output. The work
/// memory is a fresh 512 MiB allocation returned to the system (unmapped) when this returns.
fn derive_key(password: &[u8]) -> Zeroizing<[u8; 32]> {
    let params = Params::new(MEMLIMIT_SENSITIVE_KIB, OPSLIMIT_SENSITIVE, 1, Some(32))
        .expect("libsodium's sensitive Argon2i limits are valid Argon2 parameters");
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password_into(password, NACL_SALT, key.as_mut_slice())
        .expect("a 16-byte salt and a 32-byte output are within Argon2's limits");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_prefix() {
        assert_eq!(Encryption::of(b"$NACL\x00"), Some(Encryption::NaCl));
        assert_eq!(
            Encryption::of(b"$ANSIBLE_VAULT;1.1;AES256\n"),
            Some(Encryption::AnsibleVault)
        );
        assert_eq!(Encryption::of(b"gAAAAABf"), Some(Encryption::LegacyFernet));
        assert_eq!(Encryption::of(br#"{"publicKey":"0x00"}"#), None);
    }

    #[test]
    fn a_box_too_short_for_nonce_and_tag_is_refused_before_any_key_derivation() {
        let mut short = NACL_PREFIX.to_vec();
        short.extend_from_slice(&[0u8; NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(open_nacl(&short, b"pw"), Err(OpenError::Truncated));
    }
}
