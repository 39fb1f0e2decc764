//! Tokens: never printed, compared in constant time.

use std::fmt;

use subtle::ConstantTimeEq;

/// A secret string. `Debug` shows only whether it is set; `==` is constant-time like `matches`.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison (the length of the secret is not hidden, its content is).
    pub fn matches(&self, candidate: &str) -> bool {
        !self.0.is_empty() && bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }

    /// For callers that must hand the value on (e.g. printing a quick-start `curl` line).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A derived `PartialEq` would stop at the first differing byte; this one does not.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(<empty>)")
        } else {
            f.write_str("Secret(<redacted>)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_and_empty_matches_nothing() {
        let token = Secret::new("hunter2");
        assert!(!format!("{token:?}").contains("hunter2"));
        assert!(token.matches("hunter2"));
        assert!(!token.matches("hunter3"));
        assert!(!token.matches("hunter22"));
        assert!(!Secret::default().matches(""));
    }
}
