//! Hotkey keyfiles: any bytes give a signer or an error naming the file, never a panic. (Errors
//! cannot quote the contents: their reasons are `&'static str`.)

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/wallets/fuzz/hotkeys/hotkey");
    match pylon_wallet::parse_hotkey(path, data) {
        Ok(signer) => {
            // A usable key: it signs, and its address is what it says.
            let _ = signer.sign(b"pylon");
            assert!(signer.ss58_address().starts_with('5'));
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains("/wallets/fuzz/hotkeys/hotkey"),
                "{message}"
            );
        }
    }
});
