//! The standard Bittensor keyfile: JSON with `privateKey` (64 bytes), `secretSeed` (32 bytes, optional),
//! `publicKey`, `accountId` and `ss58Address`, written by `btcli` / `bittensor-wallet`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

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
        "hotkey file {path} is encrypted; Pylon signs unattended and needs an unencrypted hotkey \
         (regenerate it without a password, e.g. `btcli wallet regen-hotkey --no-use-password`)"
    )]
    Encrypted { path: PathBuf },
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

pub fn load_hotkey(path: &Path) -> Result<HotkeySigner, KeyfileError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => KeyfileError::NotFound {
            path: path.to_owned(),
        },
        _ => KeyfileError::Unreadable {
            path: path.to_owned(),
            source,
        },
    })?);
    parse_hotkey(path, &bytes)
}

/// A keyfile's contents as a signer; `path` only names the file in errors. Any bytes give a
/// signer or an error, never a panic (fuzzed: fuzz/fuzz_targets/keyfile.rs).
pub fn parse_hotkey(path: &Path, bytes: &[u8]) -> Result<HotkeySigner, KeyfileError> {
    // bittensor-wallet's encrypted formats: NaCl secretbox, Ansible vault, legacy Fernet.
    if [&b"$NACL"[..], b"$ANSIBLE_VAULT", b"gAAAAA"]
        .iter()
        .any(|p| bytes.starts_with(p))
    {
        return Err(KeyfileError::Encrypted {
            path: path.to_owned(),
        });
    }
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
