//! `PUT …/weights` bodies: any bytes give a validated request or a 4xx reason, never a panic; an
//! accepted request holds only what validation promises.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon_weights::body::parse_weights_body;

fuzz_target!(|data: &[u8]| {
    match parse_weights_body(data) {
        Ok(request) => {
            assert!(!request.entries.is_empty());
            for entry in &request.entries {
                assert!(entry.weight.is_finite() && entry.weight >= 0.0);
            }
            for (i, entry) in request.entries.iter().enumerate() {
                assert!(request.entries[..i]
                    .iter()
                    .all(|other| other.account != entry.account));
            }
        }
        Err(error) => {
            // Every rejection can be rendered and names at least one field.
            let _ = error.to_string();
            assert!(!error.problems().is_empty());
        }
    }
});
