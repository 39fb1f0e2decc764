//! Unknown JSON fields in a `PUT …/weights` body are ignored, like the reference service's pydantic
//! models (their default, `extra="ignore"`): a client sending a newer shape keeps working, and the
//! extra fields change nothing about what is validated or submitted.

use pylon_weights::body::parse_weights_body;

const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

#[test]
fn unknown_fields_beside_weights_are_ignored() {
    let plain =
        parse_weights_body(format!(r#"{{"weights": {{"{ALICE}": 0.5, "{BOB}": 1}}}}"#).as_bytes())
            .expect("the reference body is valid");
    let extra = parse_weights_body(
        format!(
            r#"{{"version_key": 7, "weights": {{"{ALICE}": 0.5, "{BOB}": 1}}, "mechanism": "x",
                 "nested": {{"weights": {{}}}}}}"#
        )
        .as_bytes(),
    )
    .expect("unknown fields do not make a valid body invalid");
    assert_eq!(extra, plain);
}

#[test]
fn unknown_fields_do_not_excuse_a_bad_body() {
    let body = format!(r#"{{"weights": {{"{ALICE}": -1}}, "force": true}}"#);
    let error = parse_weights_body(body.as_bytes()).unwrap_err();
    assert!(error.to_string().contains(ALICE), "{error}");
    assert!(parse_weights_body(br#"{"weight": {}, "weights_": {}}"#).is_err());
}
