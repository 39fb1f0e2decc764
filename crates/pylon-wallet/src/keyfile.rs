//! The standard Bittensor keyfile: JSON with `privateKey` (64 bytes), `secretSeed` (32 bytes, optional),
//! `publicKey`, `accountId` and `ss58Address`, written by `btcli` / `bittensor-wallet`, either plain or
//! password-encrypted (see [`crate::encryption`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::encryption::{open_nacl, Encryption, OpenError};
use crate::HotkeySigner;

/// Why a hotkey could not be loaded. Messages name the file, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum KeyfileError {
    #[error("hotkey file {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("hotkey file {path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "hotkey file {path} is encrypted and no password was given: \
         set PYLON_ID_<NAME>_HOTKEY_PASSWORD for its identity"
    )]
    Encrypted { path: PathBuf },
    #[error("wrong password for hotkey file {path}")]
    WrongPassword { path: PathBuf },
    #[error(
        "hotkey file {path} is encrypted with {format}, a legacy bittensor-wallet format Pylon \
         does not read; re-encrypt it as NaCl with a current bittensor-wallet \
         (`Keyfile.check_and_update_encryption()`) or regenerate the hotkey"
    )]
    LegacyEncryption { path: PathBuf, format: &'static str },
    #[error("hotkey file {path} is not a Bittensor keyfile: {reason}")]
    Malformed { path: PathBuf, reason: &'static str },
    #[error("hotkey file {path} is corrupt: its secret key does not belong to its publicKey")]
    KeyMismatch { path: PathBuf },
    #[error("cannot write hotkey file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `<wallet_path>/<wallet>/hotkeys/<hotkey>`, with a leading `~` meaning the home directory.
pub fn hotkey_path(wallet_path: &str, wallet: &str, hotkey: &str) -> PathBuf {
    expand_home(wallet_path)
        .join(wallet)
        .join("hotkeys")
        .join(hotkey)
}

fn expand_home(path: &str) -> PathBuf {
    match (
        path.strip_prefix("~/")
            .or(if path == "~" { Some("") } else { None }),
        std::env::var_os("HOME"),
    ) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The secret-bearing fields are read into `Zeroizing` strings so they are wiped after parsing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileJson {
    public_key: Option<String>,
    private_key: Option<Zeroizing<String>>,
    secret_seed: Option<Zeroizing<String>>,
}

/// Load an unencrypted hotkey; an encrypted one is refused with [`KeyfileError::Encrypted`].
pub fn load_hotkey(path: &Path) -> Result<HotkeySigner, KeyfileError> {
    load_hotkey_with_password(path, None)
}

/// Load a hotkey, decrypting a NaCl-encrypted keyfile with `password`. Decryption costs one
/// Argon2i run (seconds of CPU, 512 MiB of memory): load each hotkey once and keep the signer.
/// A password given for an unencrypted keyfile is not needed and not checked.
pub fn load_hotkey_with_password(
    path: &Path,
    password: Option<&str>,
) -> Result<HotkeySigner, KeyfileError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => KeyfileError::NotFound {
            path: path.to_owned(),
        },
        _ => KeyfileError::Unreadable {
            path: path.to_owned(),
            source,
        },
    })?);
    parse_hotkey_with_password(path, &bytes, password)
}

/// A keyfile's contents as a signer; `path` only names the file in errors. Any bytes give a
/// signer or an error, never a panic (fuzzed: fuzz/fuzz_targets/keyfile.rs). Without a password
/// an encrypted keyfile is refused before any key derivation.
pub fn parse_hotkey(path: &Path, bytes: &[u8]) -> Result<HotkeySigner, KeyfileError> {
    parse_hotkey_with_password(path, bytes, None)
}

/// [`parse_hotkey`], decrypting a NaCl keyfile with `password` (one Argon2i run).
fn parse_hotkey_with_password(
    path: &Path,
    bytes: &[u8],
    password: Option<&str>,
) -> Result<HotkeySigner, KeyfileError> {
    match Encryption::of(bytes) {
        None => parse_keyfile(path, bytes),
        Some(Encryption::NaCl) => {
            let password = password.ok_or_else(|| KeyfileError::Encrypted {
                path: path.to_owned(),
            })?;
            let json = open_nacl(bytes, password.as_bytes()).map_err(|e| match e {
                OpenError::WrongPassword => KeyfileError::WrongPassword {
                    path: path.to_owned(),
                },
                OpenError::Truncated => KeyfileError::Malformed {
                    path: path.to_owned(),
                    reason: "its NaCl data is shorter than a nonce and a tag",
                },
            })?;
            parse_keyfile(path, &json)
        }
        Some(legacy) => Err(KeyfileError::LegacyEncryption {
            path: path.to_owned(),
            format: legacy.name(),
        }),
    }
}

/// The keyfile JSON (decrypted if it was encrypted) into a signer whose key matches `publicKey`.
fn parse_keyfile(path: &Path, bytes: &[u8]) -> Result<HotkeySigner, KeyfileError> {
    let malformed = |reason| KeyfileError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let json: KeyfileJson =
        serde_json::from_slice(bytes).map_err(|_| malformed("not valid keyfile JSON"))?;

    let signer = if let Some(private) = &json.private_key {
        let raw =
            Zeroizing::new(decode_hex(private).ok_or_else(|| malformed("privateKey is not hex"))?);
        HotkeySigner::from_private_key(&raw)
            .ok_or_else(|| malformed("privateKey is not a 64-byte sr25519 key"))?
    } else if let Some(seed) = &json.secret_seed {
        let raw =
            Zeroizing::new(decode_hex(seed).ok_or_else(|| malformed("secretSeed is not hex"))?);
        let seed: &[u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| malformed("secretSeed is not 32 bytes"))?;
        HotkeySigner::from_seed(seed).ok_or_else(|| malformed("secretSeed is not a valid seed"))?
    } else {
        return Err(malformed("it has neither privateKey nor secretSeed"));
    };

    if let Some(public) = &json.public_key {
        let public = decode_hex(public).ok_or_else(|| malformed("publicKey is not hex"))?;
        if public != signer.public_key() {
            return Err(KeyfileError::KeyMismatch {
                path: path.to_owned(),
            });
        }
    }
    Ok(signer)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileOut<'a> {
    account_id: &'a str,
    public_key: &'a str,
    private_key: &'a str,
    ss58_address: &'a str,
    crypto_type: u8,
}

/// Write an unencrypted keyfile readable by `bittensor-wallet` (owner-only permissions).
pub fn write_hotkey(path: &Path, signer: &HotkeySigner) -> Result<(), KeyfileError> {
    let write_err = |source| KeyfileError::Write {
        path: path.to_owned(),
        source,
    };
    let public = format!("0x{}", hex::encode(signer.public_key()));
    let private = Zeroizing::new(format!(
        "0x{}",
        hex::encode(signer.private_key_bytes().as_slice())
    ));
    let ss58 = signer.ss58_address();
    let body = Zeroizing::new(
        serde_json::to_vec(&KeyfileOut {
            account_id: &public,
            public_key: &public,
            private_key: &private,
            ss58_address: &ss58,
            crypto_type: 1, // sr25519
        })
        .expect("keyfile JSON of plain strings always serializes"),
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_err)?;
    file.write_all(&body).map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hotkey");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_a_keyfile_written_by_bittensor_wallet_for_alice() {
        // bittensor-wallet 4.1 `Wallet.set_hotkey(Keypair.create_from_uri("//Alice"), encrypt=False)`.
        let (_dir, path) = temp_file(
            r#"{"ss58Address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY","cryptoType":1,
            "accountId":"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
            "privateKey":"0x33a6f3093f158a7109f679410bef1a0c54168145e0cecb4df006c1c2fffb1f09925a225d97aa00682d6a59b95b18780c10d7032336e88f3442b42361f4a66011",
            "publicKey":"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"}"#,
        );
        let signer = load_hotkey(&path).unwrap();
        assert_eq!(
            signer.ss58_address(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
    }

    #[test]
    fn reads_a_seed_only_keyfile_and_checks_the_public_key() {
        let signer = HotkeySigner::from_seed(&[3u8; 32]).unwrap();
        let public = hex::encode(signer.public_key());
        let seed = hex::encode([3u8; 32]);
        let (_dir, path) = temp_file(&format!(
            r#"{{"secretSeed":"0x{seed}","publicKey":"0x{public}"}}"#
        ));
        assert_eq!(
            load_hotkey(&path).unwrap().public_key(),
            signer.public_key()
        );

        let other = hex::encode(HotkeySigner::from_seed(&[4u8; 32]).unwrap().public_key());
        let (_dir, path) = temp_file(&format!(
            r#"{{"secretSeed":"0x{seed}","publicKey":"0x{other}"}}"#
        ));
        assert!(matches!(
            load_hotkey(&path),
            Err(KeyfileError::KeyMismatch { .. })
        ));
    }

    #[test]
    fn written_keyfile_round_trips_and_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = hotkey_path(dir.path().to_str().unwrap(), "dev", "validator");
        let signer = HotkeySigner::from_seed(&[5u8; 32]).unwrap();
        write_hotkey(&path, &signer).unwrap();
        assert_eq!(
            load_hotkey(&path).unwrap().public_key(),
            signer.public_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn errors_name_the_problem_without_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(
            load_hotkey(&missing),
            Err(KeyfileError::NotFound { .. })
        ));

        let (_dir, path) = temp_file("$NACL\x01\x02garbage");
        let err = load_hotkey(&path).unwrap_err();
        assert!(matches!(err, KeyfileError::Encrypted { .. }), "{err}");
        assert!(
            err.to_string().contains("PYLON_ID_<NAME>_HOTKEY_PASSWORD"),
            "{err}"
        );
        let err = load_hotkey_with_password(&path, Some("pw")).unwrap_err();
        assert!(err.to_string().contains("shorter than a nonce"), "{err}");

        let (_dir, path) = temp_file(r#"{"privateKey":"0xdeadbeefsecret"}"#);
        let err = load_hotkey(&path).unwrap_err().to_string();
        assert!(err.contains("privateKey is not hex"), "{err}");
        assert!(!err.contains("deadbeef"), "{err}");

        let (_dir, path) = temp_file(r#"{"publicKey":"0x00"}"#);
        assert!(load_hotkey(&path)
            .unwrap_err()
            .to_string()
            .contains("neither privateKey nor secretSeed"));
    }

    /// `bittensor-wallet` 4.1.1, `Keyfile(path).set_keypair(Keypair.create_from_uri("//Bob"),
    /// encrypt=True, password=NACL_PASSWORD)`: a NaCl keyfile of a public dev key.
    const NACL_FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bob-hotkey-nacl"
    );
    const NACL_PASSWORD: &str = "pylon-test-password";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    #[test]
    fn opens_a_nacl_keyfile_encrypted_by_bittensor_wallet_with_its_password() {
        let path = Path::new(NACL_FIXTURE);
        let signer = load_hotkey_with_password(path, Some(NACL_PASSWORD)).unwrap();
        assert_eq!(signer.ss58_address(), BOB);
    }

    #[test]
    fn a_wrong_password_is_an_error_naming_the_file_and_not_the_password() {
        let path = Path::new(NACL_FIXTURE);
        let err = load_hotkey_with_password(path, Some("not-the-password")).unwrap_err();
        assert!(matches!(err, KeyfileError::WrongPassword { .. }), "{err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("wrong password for hotkey file"), "{shown}");
        assert!(shown.contains(NACL_FIXTURE), "{shown}");
        assert!(!shown.contains("not-the-password"), "{shown}");
    }

    #[test]
    fn an_encrypted_keyfile_without_a_password_is_refused_before_any_key_derivation() {
        let err = load_hotkey(Path::new(NACL_FIXTURE)).unwrap_err();
        assert!(matches!(err, KeyfileError::Encrypted { .. }), "{err}");
    }

    #[test]
    fn legacy_encryptions_are_named_in_the_error() {
        for (content, format) in [
            ("$ANSIBLE_VAULT;1.1;AES256\n3132", "Ansible Vault"),
            ("gAAAAABkZ2V0", "Fernet"),
        ] {
            let (_dir, path) = temp_file(content);
            let err = load_hotkey_with_password(&path, Some("pw")).unwrap_err();
            assert!(
                matches!(err, KeyfileError::LegacyEncryption { .. }),
                "{err}"
            );
            let shown = err.to_string();
            assert!(shown.contains(format), "{shown}");
            assert!(shown.contains("legacy"), "{shown}");
        }
    }

    #[test]
    fn a_password_for_a_plain_keyfile_is_not_needed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        let signer = HotkeySigner::from_seed(&[6u8; 32]).unwrap();
        write_hotkey(&path, &signer).unwrap();
        let loaded = load_hotkey_with_password(&path, Some("unused")).unwrap();
        assert_eq!(loaded.public_key(), signer.public_key());
    }

    #[test]
    fn home_is_expanded() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            hotkey_path("~/.bittensor/wallets", "w", "h"),
            PathBuf::from(home).join(".bittensor/wallets/w/hotkeys/h")
        );
        assert_eq!(
            hotkey_path("/wallets", "w", "h"),
            PathBuf::from("/wallets/w/hotkeys/h")
        );
    }
}
