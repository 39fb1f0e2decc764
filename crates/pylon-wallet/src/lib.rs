//! Bittensor wallets as Pylon uses them: load a hotkey keyfile
//! (`<wallet_path>/<wallet>/hotkeys/<hotkey>`, plain or NaCl-encrypted with a password) into a
//! [`HotkeySigner`] whose secret never leaves it.
//!
//! The secret key is not `Debug`, not `Serialize`, not `Clone`-able out of the signer, and is wiped on drop.

mod encryption;
mod keyfile;
mod signer;

pub use keyfile::{
    hotkey_path, load_hotkey, load_hotkey_with_password, parse_hotkey, write_hotkey, KeyfileError,
};
pub use signer::HotkeySigner;
