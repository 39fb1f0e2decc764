//! The body of `PUT …/weights` as the reference client sends it: `{"weights": {hotkey: float}}`.
//!
//! Validation collects every bad entry (not just the first) so one 4xx answer tells the caller
//! everything to fix. Python's `json` writes `NaN`, `Infinity` and `-Infinity` as bare tokens, which
//! strict JSON parsers reject as a whole-body syntax error; we accept those tokens in value position
//! so the answer can name the entry that carries them instead.

use std::fmt;
use std::str::FromStr;

use subxt_utils_accountid32::{AccountId32, FromSs58Error};

use crate::echo::{bounded_list, echo};

/// Bittensor's ss58 network prefix (subtensor's `System.SS58Prefix`: Substrate's generic 42).
/// An address written for another network names the same key but is refused: the caller most
/// likely copied it from the wrong place, and answers echo addresses as this chain writes them.
pub const SS58_PREFIX: u16 = 42;

/// Why a text is not a hotkey of this chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HotkeyError {
    #[error("not a valid ss58 address ({0})")]
    Malformed(FromSs58Error),
    #[error(
        "an ss58 address of another network (prefix {0}); this chain's prefix is {SS58_PREFIX}"
    )]
    OtherNetwork(u16),
}

/// An ss58 address with this chain's prefix ([`SS58_PREFIX`]) as an account.
pub fn parse_hotkey(text: &str) -> Result<AccountId32, HotkeyError> {
    let account = AccountId32::from_str(text).map_err(HotkeyError::Malformed)?;
    match ss58_prefix(text) {
        Some(SS58_PREFIX) => Ok(account),
        Some(other) => Err(HotkeyError::OtherNetwork(other)),
        None => Err(HotkeyError::Malformed(FromSs58Error::InvalidPrefix)),
    }
}

/// The network prefix of a well-formed ss58 address: one byte below 64, else the two-byte form
/// (14 bits spread over both bytes, as Substrate encodes them).
fn ss58_prefix(text: &str) -> Option<u16> {
    let data = bs58::decode(text).into_vec().ok()?;
    match *data.first()? {
        first @ 0..=63 => Some(u16::from(first)),
        first @ 64..=127 => {
            let second = *data.get(1)?;
            let lower = (first << 2) | (second >> 6);
            let upper = second & 0b0011_1111;
            Some(u16::from(lower) | (u16::from(upper) << 8))
        }
        _ => None,
    }
}

/// One validated entry: the hotkey as the caller spelled it, its decoded account, and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightEntry {
    pub hotkey: String,
    pub account: AccountId32,
    pub weight: f64,
}

/// A validated request: at least one entry, every weight finite and ≥ 0, every hotkey valid ss58,
/// no account named twice.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsRequest {
    pub entries: Vec<WeightEntry>,
}

/// Why one entry of `weights` is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("weight must be a number")]
    NotANumber,
    #[error("weight must be finite (got {0})")]
    NotFinite(&'static str),
    #[error("weight must not be negative")]
    Negative,
    #[error("hotkey is not a valid ss58 address ({0})")]
    MalformedHotkey(FromSs58Error),
    #[error("hotkey is an ss58 address of another network (prefix {0}); this chain's prefix is {SS58_PREFIX}")]
    OtherNetwork(u16),
    #[error("hotkey is the same account as {:?}", echo(.0))]
    SameAccountAs(String),
}

/// One bad entry, named by its hotkey as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    pub hotkey: String,
    pub problem: EntryProblem,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weights[{:?}]: {}", echo(&self.hotkey), self.problem)
    }
}

/// A body that cannot become a [`WeightsRequest`]. Every variant is the caller's fault (a 4xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidWeights {
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    #[error("body must be a JSON object with a \"weights\" field")]
    MissingWeights,
    #[error("\"weights\" must be an object mapping hotkey to weight")]
    WeightsNotAnObject,
    #[error("no weights provided")]
    Empty,
    #[error("{}", join(.0))]
    Entries(Vec<EntryError>),
}

/// One problem in a form an error answer can list: the field (`weights.<hotkey>`) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl InvalidWeights {
    /// The problems, one per field, for a structured 4xx body: the first
    /// [`LIST_MAX`](crate::echo::LIST_MAX) bad entries (the message counts the rest).
    pub fn problems(&self) -> Vec<FieldProblem> {
        match self {
            InvalidWeights::Entries(errors) => errors
                .iter()
                .take(crate::echo::LIST_MAX)
                .map(|error| FieldProblem {
                    field: format!("weights.{}", echo(&error.hotkey)),
                    message: error.problem.to_string(),
                })
                .collect(),
            other => vec![FieldProblem {
                field: other.field(),
                message: other.to_string(),
            }],
        }
    }

    /// The body field the problem is in, for the error answer: `weights` or `weights.<hotkey>`.
    pub fn field(&self) -> String {
        match self {
            InvalidWeights::Entries(errors) if errors.len() == 1 => {
                format!("weights.{}", echo(&errors[0].hotkey))
            }
            InvalidWeights::NotJson(_) => "body".to_owned(),
            _ => "weights".to_owned(),
        }
    }
}

/// The bad entries, the first few named (with their hotkeys cut short) and the rest counted.
fn join(errors: &[EntryError]) -> String {
    bounded_list(errors, "; ")
}

/// Markers standing for Python's non-finite tokens after [`quote_non_finite_tokens`]. A NUL
/// character cannot appear in a hotkey or a number, so a string weight carrying one is ours.
const NON_FINITE_MARKERS: [(&str, &str); 3] = [
    ("-Infinity", "\u{0}-Infinity"),
    ("Infinity", "\u{0}Infinity"),
    ("NaN", "\u{0}NaN"),
];

/// Parse and validate a raw request body.
pub fn parse_weights_body(body: &[u8]) -> Result<WeightsRequest, InvalidWeights> {
    let text = std::str::from_utf8(body)
        .map_err(|_| InvalidWeights::NotJson("body is not UTF-8".to_owned()))?;
    let value: serde_json::Value = serde_json::from_str(&quote_non_finite_tokens(text))
        .map_err(|e| InvalidWeights::NotJson(e.to_string()))?;
    validate_weights_value(&value)
}

/// Validate an already-parsed body (`{"weights": {...}}`).
pub fn validate_weights_value(body: &serde_json::Value) -> Result<WeightsRequest, InvalidWeights> {
    let weights = body
        .as_object()
        .and_then(|object| object.get("weights"))
        .ok_or(InvalidWeights::MissingWeights)?
        .as_object()
        .ok_or(InvalidWeights::WeightsNotAnObject)?;
    if weights.is_empty() {
        return Err(InvalidWeights::Empty);
    }

    let mut entries: Vec<WeightEntry> = Vec::with_capacity(weights.len());
    let mut errors = Vec::new();
    for (hotkey, raw_weight) in weights {
        match validate_entry(hotkey, raw_weight, &entries) {
            Ok(entry) => entries.push(entry),
            Err(problem) => errors.push(EntryError {
                hotkey: hotkey.clone(),
                problem,
            }),
        }
    }
    if errors.is_empty() {
        Ok(WeightsRequest { entries })
    } else {
        Err(InvalidWeights::Entries(errors))
    }
}

fn validate_entry(
    hotkey: &str,
    raw_weight: &serde_json::Value,
    accepted: &[WeightEntry],
) -> Result<WeightEntry, EntryProblem> {
    let account = parse_hotkey(hotkey).map_err(|error| match error {
        HotkeyError::Malformed(reason) => EntryProblem::MalformedHotkey(reason),
        HotkeyError::OtherNetwork(prefix) => EntryProblem::OtherNetwork(prefix),
    })?;
    let weight = weight_of(raw_weight)?;
    // Two spellings (ss58 prefixes) of one account would become duplicate uids, which the chain
    // rejects for the whole extrinsic.
    if let Some(first) = accepted.iter().find(|entry| entry.account == account) {
        return Err(EntryProblem::SameAccountAs(first.hotkey.clone()));
    }
    Ok(WeightEntry {
        hotkey: hotkey.to_owned(),
        account,
        weight,
    })
}

fn weight_of(raw: &serde_json::Value) -> Result<f64, EntryProblem> {
    match raw {
        serde_json::Value::Number(number) => {
            let weight = number.as_f64().ok_or(EntryProblem::NotANumber)?;
            if !weight.is_finite() {
                Err(EntryProblem::NotFinite("a number too large"))
            } else if weight < 0.0 {
                Err(EntryProblem::Negative)
            } else {
                Ok(weight)
            }
        }
        serde_json::Value::String(text) => NON_FINITE_MARKERS
            .iter()
            .find(|(_, marker)| marker == text)
            .map(|(token, _)| Err(EntryProblem::NotFinite(token)))
            .unwrap_or(Err(EntryProblem::NotANumber)),
        _ => Err(EntryProblem::NotANumber),
    }
}

/// Rewrite bare `NaN` / `Infinity` / `-Infinity` tokens (outside strings) as marker strings.
fn quote_non_finite_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    'scan: while let Some(ch) = rest.chars().next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
        } else if ch == '"' {
            in_string = true;
        } else {
            for (token, marker) in NON_FINITE_MARKERS {
                if let Some(after) = rest.strip_prefix(token) {
                    out.push('"');
                    out.push_str(&marker.replace('\u{0}', "\\u0000"));
                    out.push('"');
                    rest = after;
                    continue 'scan;
                }
            }
        }
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // //Alice and //Bob, the standard development keys.
    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn parse(body: &str) -> Result<WeightsRequest, InvalidWeights> {
        parse_weights_body(body.as_bytes())
    }

    fn entry_problems(
        result: Result<WeightsRequest, InvalidWeights>,
    ) -> Vec<(String, EntryProblem)> {
        match result {
            Err(InvalidWeights::Entries(errors)) => errors
                .into_iter()
                .map(|error| (error.hotkey, error.problem))
                .collect(),
            other => panic!("expected entry errors, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_reference_clients_body() {
        let request = parse(&format!(
            r#"{{"weights": {{"{ALICE}": 0.25, "{BOB}": 3}}}}"#
        ))
        .unwrap();
        let mut got: Vec<_> = request
            .entries
            .iter()
            .map(|entry| (entry.hotkey.as_str(), entry.weight))
            .collect();
        got.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(got, vec![(BOB, 3.0), (ALICE, 0.25)]);
        let alice = request.entries.iter().find(|e| e.hotkey == ALICE).unwrap();
        assert_eq!(alice.account.0[..4], [0xd4, 0x35, 0x93, 0xc7]);
    }

    #[test]
    fn zero_and_negative_zero_are_allowed() {
        let request = parse(&format!(
            r#"{{"weights": {{"{ALICE}": 0, "{BOB}": -0.0}}}}"#
        ))
        .unwrap();
        assert!(request.entries.iter().all(|entry| entry.weight == 0.0));
    }

    #[test]
    fn empty_weights_are_rejected() {
        assert_eq!(parse(r#"{"weights": {}}"#), Err(InvalidWeights::Empty));
    }

    #[test]
    fn body_shape_errors_are_named() {
        assert_eq!(parse(r#"{}"#), Err(InvalidWeights::MissingWeights));
        assert_eq!(parse(r#"[1]"#), Err(InvalidWeights::MissingWeights));
        assert_eq!(
            parse(r#"{"weights": [1, 2]}"#),
            Err(InvalidWeights::WeightsNotAnObject)
        );
        assert!(matches!(
            parse("{\"weights\":"),
            Err(InvalidWeights::NotJson(_))
        ));
        assert!(matches!(
            parse_weights_body(&[0xff, 0xfe]),
            Err(InvalidWeights::NotJson(_))
        ));
    }

    #[test]
    fn python_non_finite_tokens_are_named_per_entry() {
        let body = format!(r#"{{"weights": {{"{ALICE}": NaN, "{BOB}": -Infinity}}}}"#);
        let mut problems = entry_problems(parse(&body));
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            problems,
            vec![
                (BOB.to_owned(), EntryProblem::NotFinite("-Infinity")),
                (ALICE.to_owned(), EntryProblem::NotFinite("NaN")),
            ]
        );
        let body = format!(r#"{{"weights": {{"{ALICE}": Infinity}}}}"#);
        assert_eq!(
            entry_problems(parse(&body)),
            vec![(ALICE.to_owned(), EntryProblem::NotFinite("Infinity"))]
        );
    }

    #[test]
    fn non_finite_tokens_inside_strings_are_left_alone() {
        // A hotkey spelled "NaN" is a malformed hotkey, not a non-finite weight.
        let problems = entry_problems(parse(r#"{"weights": {"NaN": 1, "a\"Infinity": 2}}"#));
        assert_eq!(problems.len(), 2);
        assert!(problems
            .iter()
            .all(|(_, problem)| matches!(problem, EntryProblem::MalformedHotkey(_))));
        assert!(problems.iter().any(|(hotkey, _)| hotkey == "a\"Infinity"));
    }

    #[test]
    fn negative_and_non_numeric_weights_are_named() {
        let body = format!(r#"{{"weights": {{"{ALICE}": -0.5, "{BOB}": "1"}}}}"#);
        let mut problems = entry_problems(parse(&body));
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            problems,
            vec![
                (BOB.to_owned(), EntryProblem::NotANumber),
                (ALICE.to_owned(), EntryProblem::Negative),
            ]
        );
        for weight in ["null", "true", "[1]", "{}"] {
            let body = format!(r#"{{"weights": {{"{ALICE}": {weight}}}}}"#);
            assert_eq!(
                entry_problems(parse(&body)),
                vec![(ALICE.to_owned(), EntryProblem::NotANumber)],
                "{weight}"
            );
        }
    }

    #[test]
    fn malformed_ss58_is_named_with_the_reason() {
        // Last character changed: the checksum no longer matches.
        let bad_checksum = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ";
        let body = format!(r#"{{"weights": {{"{bad_checksum}": 1, "": 1, "0xzz": 1}}}}"#);
        let mut problems = entry_problems(parse(&body));
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            problems,
            vec![
                (
                    "".to_owned(),
                    EntryProblem::MalformedHotkey(FromSs58Error::BadLength)
                ),
                (
                    "0xzz".to_owned(),
                    EntryProblem::MalformedHotkey(FromSs58Error::BadBase58)
                ),
                (
                    bad_checksum.to_owned(),
                    EntryProblem::MalformedHotkey(FromSs58Error::InvalidChecksum)
                ),
            ]
        );
    }

    #[test]
    fn one_account_under_two_ss58_prefixes_is_rejected() {
        // Alice's key with the Polkadot prefix (0) instead of the generic one (42): never a
        // second uid for the same account, and the answer says which prefix this chain uses.
        let alice_polkadot = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
        let body = format!(r#"{{"weights": {{"{ALICE}": 1, "{alice_polkadot}": 2}}}}"#);
        let problems = entry_problems(parse(&body));
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0],
            (alice_polkadot.to_owned(), EntryProblem::OtherNetwork(0))
        );
        assert!(EntryProblem::OtherNetwork(0)
            .to_string()
            .contains("this chain's prefix is 42"));
    }

    #[test]
    fn addresses_of_other_networks_are_refused_with_their_prefix() {
        let alice = AccountId32::from_str(ALICE).unwrap();
        assert_eq!(parse_hotkey(ALICE), Ok(alice));
        // //Alice written with the one-byte prefixes 0 and 2, and the two-byte 16383.
        for (text, prefix) in [
            ("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", 0),
            ("HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F", 2),
            ("yNa8JpqfFB3q8A29rCwSgxvdU94ufJw2yKKxDgznS5m1PoFvn", 16383),
        ] {
            assert_eq!(
                parse_hotkey(text),
                Err(HotkeyError::OtherNetwork(prefix)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_body_of_many_bad_entries_gets_a_bounded_answer() {
        let entries: Vec<String> = (0..100_000).map(|i| format!(r#""k{i}": 1"#)).collect();
        let body = format!(r#"{{"weights": {{{}}}}}"#, entries.join(","));
        let error = parse(&body).unwrap_err();
        let message = error.to_string();
        assert!(message.len() < 2_000, "{} bytes", message.len());
        assert!(
            message.ends_with("… and 99990 more (100000 in all)"),
            "{message}"
        );
        assert_eq!(error.problems().len(), crate::echo::LIST_MAX);
        let long = "5".repeat(500_000);
        let error = parse(&format!(r#"{{"weights": {{"{long}": 1}}}}"#)).unwrap_err();
        assert!(error.to_string().len() < 300, "{error}");
        assert!(error.field().len() < 100);
    }

    #[test]
    fn errors_name_the_field_and_entry() {
        let error = entry_problems_error(&format!(r#"{{"weights": {{"{ALICE}": -1}}}}"#));
        assert_eq!(error.field(), format!("weights.{ALICE}"));
        assert_eq!(
            error.to_string(),
            format!("weights[\"{ALICE}\"]: weight must not be negative")
        );
        assert_eq!(InvalidWeights::Empty.field(), "weights");
        assert_eq!(
            InvalidWeights::Empty.problems(),
            vec![FieldProblem {
                field: "weights".into(),
                message: "no weights provided".into()
            }]
        );
    }

    #[test]
    fn every_bad_entry_is_listed_as_its_own_field() {
        let error = parse(&format!(
            r#"{{"weights": {{"{ALICE}": -1, "{BOB}": null}}}}"#
        ))
        .unwrap_err();
        let mut problems = error.problems();
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        assert_eq!(
            problems,
            vec![
                FieldProblem {
                    field: format!("weights.{BOB}"),
                    message: "weight must be a number".into()
                },
                FieldProblem {
                    field: format!("weights.{ALICE}"),
                    message: "weight must not be negative".into()
                },
            ]
        );
        assert_eq!(error.field(), "weights");
    }

    fn entry_problems_error(body: &str) -> InvalidWeights {
        parse(body).unwrap_err()
    }
}
