//! The reference payloads the tests replay (`tests/fixtures/vapi/*.json`) are recorded for the
//! SDK check like the appliance's own bodies, each as the SDK type of its message (a
//! `<name>_reply.json` as the reply type of the message in `<name>.json`), so they stay in the
//! shapes Vapi's SDK gives. The older shapes in `legacy/` are replayed too, but not checked.

use crate::support;

use support::calls::{fixture, fixtures_dir};
use support::conformance::{self, kind_of};

#[test]
fn every_reference_payload_is_recorded_as_its_sdk_type() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    let test = conformance::current_test();
    for name in &names {
        let body = fixture(name);
        let ts_type = match name.strip_suffix("_reply") {
            Some(request) => {
                let kind = kind_of(&fixture(request)).map(str::to_string);
                let reply = kind.as_deref().and_then(conformance::reply_type);
                reply
                    .unwrap_or_else(|| panic!("{name}: no SDK reply type for {kind:?}"))
                    .to_string()
            }
            None => {
                let kind = kind_of(&body).unwrap_or_else(|| panic!("{name}: no message type"));
                let message = conformance::message_type(kind)
                    .unwrap_or_else(|| panic!("{name}: no SDK type for {kind}"));
                format!("{{ message: {message} }}")
            }
        };
        assert!(body.is_object(), "{name}");
        conformance::write(
            &test,
            &format!("fixture {name}.json"),
            Some(&ts_type),
            &body,
        );
    }
}
