//! Configuration: any set of `PYLON_*` variables gives settings or an error naming a variable,
//! never a panic. The input is read as `NAME=value` lines (the `.env` shape).

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use pylon_service::{Settings, SettingsError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars: HashMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    match Settings::from_vars(&vars) {
        Ok(settings) => {
            assert!(!settings.default_request_timeout.is_zero());
            assert!(!settings.max_request_timeout.is_zero());
            for identity in &settings.identities {
                assert!(!identity.name.is_empty());
                assert!(!identity.token.is_empty());
            }
        }
        Err(SettingsError::Invalid { variable, .. }) => {
            assert!(variable.starts_with("PYLON_"), "{variable}")
        }
        Err(other) => panic!("from_vars reads no file: {other}"),
    }
});
