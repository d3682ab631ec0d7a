use super::*;

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("fixture is not an object: {other}"),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[test]
fn names_match_vapi_pattern_and_are_unique() {
    let defs = all();
    assert_eq!(defs.len(), 11);
    let mut names: Vec<&str> = defs.iter().map(|d| d.name).collect();
    for name in &names {
        assert!(valid_name(name), "{name}");
        assert_eq!(name.to_string(), name.to_lowercase(), "snake_case: {name}");
    }
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 11);
    assert!(!valid_name(""));
    assert!(!valid_name("has space"));
    assert!(!valid_name(&"a".repeat(65)));
}

#[test]
fn names_round_trip() {
    for tool in Tool::ALL {
        assert_eq!(Tool::from_name(tool.name()), Some(tool));
    }
    assert_eq!(
        Tool::from_name("bookClinicAppointment"),
        Some(Tool::BookAppointment)
    );
    assert_eq!(Tool::from_name("Book_Appointment"), None);
    assert_eq!(Tool::from_name(""), None);
}

#[test]
fn schemas_are_well_formed() {
    for def in all() {
        assert!(
            !def.description.is_empty() && def.description.len() < 1000,
            "{}",
            def.name
        );
        assert!(!def.description.contains('\n'), "{}", def.name);
        assert_eq!(def.parameters["type"], "object", "{}", def.name);
        let properties = def.parameters["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{} has properties", def.name));
        for (key, property) in properties {
            assert!(property["type"].is_string(), "{}.{key}", def.name);
            assert!(property["description"].is_string(), "{}.{key}", def.name);
        }
        if let Some(required) = def.parameters.get("required") {
            let required = required
                .as_array()
                .unwrap_or_else(|| panic!("{}", def.name));
            assert!(!required.is_empty());
            for key in required {
                let key = key.as_str().unwrap_or_default();
                assert!(
                    properties.contains_key(key),
                    "{}.{key} required but undefined",
                    def.name
                );
            }
        }
    }
}

#[test]
fn schema_fields_from_the_brief() {
    let props = |tool: Tool| -> Vec<String> {
        let mut keys: Vec<String> = tool.def().parameters["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    let required = |tool: Tool| {
        tool.def()
            .parameters
            .get("required")
            .cloned()
            .unwrap_or(json!([]))
    };
    assert!(props(Tool::GetClinicContext).is_empty());
    assert_eq!(
        props(Tool::CheckAvailability),
        ["date", "endDate", "partOfDay", "provider", "service"]
    );
    assert_eq!(required(Tool::CheckAvailability), json!(["date"]));
    assert_eq!(
        Tool::CheckAvailability.def().parameters["properties"]["partOfDay"]["enum"],
        json!(["morning", "afternoon", "evening", "any"])
    );
    assert_eq!(
        props(Tool::ReserveSlot),
        [
            "date",
            "patientEmail",
            "patientName",
            "patientPhone",
            "provider",
            "service",
            "start",
            "time"
        ]
    );
    assert_eq!(
        props(Tool::BookAppointment),
        [
            "appointmentDate",
            "appointmentTime",
            "holdId",
            "notes",
            "patientEmail",
            "patientName",
            "patientPhone",
            "provider",
            "serviceType",
            "start"
        ]
    );
    assert_eq!(required(Tool::BookAppointment), json!([]));
    assert_eq!(props(Tool::FindAppointment), ["date", "patientPhone"]);
    assert_eq!(
        props(Tool::RescheduleAppointment),
        [
            "appointmentId",
            "date",
            "newDate",
            "newStart",
            "newTime",
            "patientPhone",
            "provider"
        ]
    );
    assert_eq!(
        props(Tool::CancelAppointment),
        ["appointmentId", "date", "patientPhone", "reason"]
    );
    assert_eq!(required(Tool::GetServicePrice), json!(["service"]));
    assert_eq!(required(Tool::SendVerificationCode), json!(["holdId"]));
    assert_eq!(required(Tool::VerifyCode), json!(["holdId", "code"]));
    assert_eq!(
        required(Tool::SendConfirmationSms),
        json!(["appointmentId"])
    );
}

#[test]
fn create_body_matches_reference() {
    let def = Tool::CheckAvailability.def();
    let body = vapi_create_body(&def, "https://clinic.example/api/vapi/tools", "s3cr3t");
    assert_eq!(body["type"], "function");
    assert_eq!(body["async"], false);
    assert_eq!(body["function"]["name"], "check_availability");
    assert_eq!(body["function"]["description"], def.description);
    assert_eq!(body["function"]["parameters"], def.parameters);
    assert_eq!(body["function"]["strict"], false);
    assert_eq!(
        body["server"],
        json!({"url": "https://clinic.example/api/vapi/tools", "timeoutSeconds": 20, "headers": {"X-Vapi-Secret": "s3cr3t"}})
    );
    assert_eq!(
        body["messages"],
        json!([{"type": "request-start", "content": "Let me check the schedule.", "blocking": false}])
    );
    let keys: Vec<&String> = body
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 5, "{keys:?}");
}

#[test]
fn definition_hash_is_stable_and_ignores_the_server() {
    let hashes: Vec<String> = all().iter().map(definition_hash).collect();
    for hash in &hashes {
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let mut unique = hashes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), hashes.len());
    assert_eq!(
        hashes,
        all().iter().map(definition_hash).collect::<Vec<_>>()
    );

    let mut changed = Tool::GetServicePrice.def();
    changed.parameters["properties"]["service"]["description"] = json!("Different.");
    assert_ne!(
        definition_hash(&changed),
        definition_hash(&Tool::GetServicePrice.def())
    );
    let mut renamed = Tool::GetServicePrice.def();
    renamed.description = "Other words.";
    assert_ne!(
        definition_hash(&renamed),
        definition_hash(&Tool::GetServicePrice.def())
    );
}

#[test]
fn canonical_json_sorts_keys_at_every_depth() {
    let value = json!({"b": [ {"z": 1, "a": "x\"y"} ], "a": null, "c": {"y": true, "x": 1.5}});
    let mut out = String::new();
    write_canonical(&value, &mut out);
    assert_eq!(
        out,
        r#"{"a":null,"b":[{"a":"x\"y","z":1}],"c":{"x":1.5,"y":true}}"#
    );
}

#[test]
fn arg_str_reads_leniently() {
    let args = map(json!({
        "blank": "  ",
        "nul": "null",
        "undef": "Undefined",
        "name": "  Dana Lee ",
        "num": 42,
        "float": 1.5,
        "obj": {"a": 1},
        "list": ["x"],
        "flag": true,
        "none": null
    }));
    assert_eq!(arg_str(&args, &["name"]).as_deref(), Some("Dana Lee"));
    assert_eq!(
        arg_str(
            &args,
            &["blank", "nul", "undef", "none", "obj", "list", "flag", "name"]
        )
        .as_deref(),
        Some("Dana Lee")
    );
    assert_eq!(arg_str(&args, &["missing", "num"]).as_deref(), Some("42"));
    assert_eq!(arg_str(&args, &["float"]).as_deref(), Some("1.5"));
    assert_eq!(arg_str(&args, &["blank"]), None);
    assert_eq!(arg_str(&args, &[]), None);
    assert_eq!(arg_str(&Map::new(), &["name"]), None);
    // Alias order wins, not map order.
    let both = map(json!({"service": "cleaning", "serviceType": "whitening"}));
    assert_eq!(
        arg_str(&both, &["serviceType", "service"]).as_deref(),
        Some("whitening")
    );
}

#[test]
fn arg_bool_reads_leniently() {
    let args = map(
        json!({"t": true, "f": false, "one": 1, "zero": 0, "two": 2, "yes": " Yes ", "no": "NO", "junk": "maybe", "arr": []}),
    );
    assert_eq!(arg_bool(&args, &["t"]), Some(true));
    assert_eq!(arg_bool(&args, &["f"]), Some(false));
    assert_eq!(arg_bool(&args, &["one"]), Some(true));
    assert_eq!(arg_bool(&args, &["zero"]), Some(false));
    assert_eq!(arg_bool(&args, &["yes"]), Some(true));
    assert_eq!(arg_bool(&args, &["no"]), Some(false));
    assert_eq!(arg_bool(&args, &["two", "junk", "arr", "missing"]), None);
    assert_eq!(arg_bool(&args, &["junk", "no"]), Some(false));
}

#[test]
fn arg_i64_reads_leniently() {
    let args = map(json!({
        "int": 30, "neg": -5, "whole": 45.0, "frac": 2.5, "s": " 60 ", "sf": "90.0", "bad": "soon",
        "huge": 1e300, "big": u64::MAX, "nan": "NaN", "inf": "inf"
    }));
    assert_eq!(arg_i64(&args, &["int"]), Some(30));
    assert_eq!(arg_i64(&args, &["neg"]), Some(-5));
    assert_eq!(arg_i64(&args, &["whole"]), Some(45));
    assert_eq!(arg_i64(&args, &["s"]), Some(60));
    assert_eq!(arg_i64(&args, &["sf"]), Some(90));
    assert_eq!(
        arg_i64(
            &args,
            &["frac", "bad", "huge", "big", "nan", "inf", "missing"]
        ),
        None
    );
    assert_eq!(arg_i64(&args, &["bad", "int"]), Some(30));
}
