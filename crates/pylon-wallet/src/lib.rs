//! Bittensor wallets as Pylon uses them: load a hotkey keyfile
//! (`<wallet_path>/<wallet>/hotkeys/<hotkey>`) into a [`HotkeySigner`] whose secret never leaves it.
//!
//! The secret key is not `Debug`, not `Serialize`, not `Clone`-able out of the signer, and is wiped on drop.

mod keyfile;
mod signer;

pub use keyfile::{hotkey_path, load_hotkey, parse_hotkey, write_hotkey, KeyfileError};
pub use signer::HotkeySigner;
