use super::*;

// Example payloads E1–E6 of docs/vapi.md, verbatim.
const E1: &str = r##"{
  "message": {
    "type": "tool-calls",
    "timestamp": 1763676000123,
    "call": {
      "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11",
      "orgId": "0f4b1d2e-aaaa-4bbb-8ccc-123456789abc",
      "type": "inboundPhoneCall",
      "status": "in-progress",
      "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666",
      "assistantId": "a7c9e1f3-2222-4333-8444-555566667777",
      "customer": { "number": "+14155550123" },
      "phoneCallProvider": "twilio",
      "phoneCallProviderId": "CA9f2c0d1e2b3a4f5e6d7c8b9a0f1e2d3c",
      "createdAt": "2025-11-20T21:59:40.511Z",
      "updatedAt": "2025-11-20T22:00:00.002Z"
    },
    "customer": { "number": "+14155550123" },
    "phoneNumber": { "provider": "twilio", "number": "+14155550100", "name": "Front desk" },
    "toolCallList": [
      { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
        "function": { "name": "check_availability",
                      "arguments": { "date": "2025-11-24", "service": "cleaning" } } },
      { "id": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "type": "function",
        "function": { "name": "lookup_customer",
                      "arguments": { "phone": "+14155550123" } } }
    ],
    "toolWithToolCallList": [
      { "type": "function", "async": false,
        "function": { "name": "check_availability", "description": "List free slots for a day.",
                      "parameters": { "type": "object", "properties": { "date": {"type": "string"}, "service": {"type": "string"} }, "required": ["date"] } },
        "server": { "url": "https://api.example.com/vapi/tools" },
        "messages": [],
        "toolCall": { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
                      "function": { "name": "check_availability", "arguments": { "date": "2025-11-24", "service": "cleaning" } } } },
      { "type": "function", "async": false,
        "function": { "name": "lookup_customer", "description": "Find a customer by phone.",
                      "parameters": { "type": "object", "properties": { "phone": {"type": "string"} }, "required": ["phone"] } },
        "server": { "url": "https://api.example.com/vapi/tools" },
        "messages": [],
        "toolCall": { "id": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "type": "function",
                      "function": { "name": "lookup_customer", "arguments": { "phone": "+14155550123" } } } }
    ],
    "artifact": { "messages": [] }
  }
}"##;

const E1_REPLY: &str = r##"{ "results": [
  { "toolCallId": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "name": "check_availability",
    "result": "{\"date\":\"2025-11-24\",\"slots\":[\"09:00\",\"11:30\",\"15:00\"]}" },
  { "toolCallId": "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg", "name": "lookup_customer",
    "error": "No customer found for +14155550123" }
] }"##;

const E2: &str = r##"{
  "message": {
    "type": "tool-calls",
    "timestamp": 1763676100456,
    "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall" },
    "toolCalls": [
      { "id": "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh", "type": "function",
        "function": { "name": "book_appointment",
                      "arguments": "{\"start\":\"2025-11-24T11:30:00-08:00\",\"name\":\"Dana Lee\",\"service\":\"cleaning\"}" } }
    ],
    "toolCallList": [
      { "id": "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh", "type": "function",
        "function": { "name": "book_appointment",
                      "arguments": "{\"start\":\"2025-11-24T11:30:00-08:00\",\"name\":\"Dana Lee\",\"service\":\"cleaning\"}" } },
      { "id": "call_Tt6a1WcO3dBe4Ff5Gg6Hh7Ii", "name": "send_sms_confirmation",
        "parameters": { "to": "+14155550123" } }
    ],
    "toolWithToolCallList": []
  }
}"##;

const E3: &str = r##"{ "message": { "type": "status-update", "status": "in-progress", "timestamp": 1763675981200,
  "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall", "status": "in-progress",
            "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666", "customer": { "number": "+14155550123" } },
  "customer": { "number": "+14155550123" },
  "phoneNumber": { "provider": "twilio", "number": "+14155550100" } } }"##;

const E3_2: &str = r##"{ "message": { "type": "status-update", "status": "ended", "endedReason": "customer-ended-call",
  "timestamp": 1763676212345,
  "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall", "status": "ended" } } }"##;

const E4: &str = r##"{
  "message": {
    "type": "end-of-call-report",
    "timestamp": 1763676219870,
    "endedReason": "customer-ended-call",
    "startedAt": "2025-11-20T21:59:41.020Z",
    "endedAt": "2025-11-20T22:03:32.310Z",
    "cost": 0.2841,
    "costs": [ { "type": "transport", "provider": "twilio", "minutes": 3.86, "cost": 0.0309 } ],
    "artifact": {
      "transcript": "AI: Thanks for calling Bright Smile Dental, how can I help?\nUser: I'd like to book a cleaning next Monday.\nAI: I have 9, 11:30 or 3. Which works?\nUser: 11:30 please.",
      "messages": [
        { "role": "system", "message": "You are the front desk of Bright Smile Dental.", "time": 1763675981020, "secondsFromStart": 0 },
        { "role": "bot", "message": "Thanks for calling Bright Smile Dental, how can I help?", "time": 1763675982100, "endTime": 1763675984900, "secondsFromStart": 1.08, "duration": 2800 },
        { "role": "user", "message": "I'd like to book a cleaning next Monday.", "time": 1763675986000, "endTime": 1763675988400, "secondsFromStart": 4.98, "duration": 2400 },
        { "role": "tool_calls", "message": "", "time": 1763675989000, "secondsFromStart": 7.98,
          "toolCalls": [ { "id": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "type": "function",
                           "function": { "name": "check_availability", "arguments": "{\"date\":\"2025-11-24\",\"service\":\"cleaning\"}" } } ] },
        { "role": "tool_call_result", "toolCallId": "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff", "name": "check_availability",
          "result": "{\"date\":\"2025-11-24\",\"slots\":[\"09:00\",\"11:30\",\"15:00\"]}", "time": 1763675989700, "secondsFromStart": 8.68 }
      ],
      "recordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav",
      "stereoRecordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
      "recording": { "stereoUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
                     "mono": { "combinedUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav" } }
    },
    "analysis": {
      "summary": "Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30.",
      "structuredData": { "intent": "book", "appointmentStart": "2025-11-24T11:30:00-08:00" },
      "successEvaluation": "true"
    },
    "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "orgId": "0f4b1d2e-aaaa-4bbb-8ccc-123456789abc",
              "type": "inboundPhoneCall", "status": "in-progress",
              "phoneNumberId": "8e2d4f60-1111-4222-8333-444455556666",
              "customer": { "number": "+14155550123" }, "phoneCallProviderId": "CA9f2c0d1e2b3a4f5e6d7c8b9a0f1e2d3c" },
    "customer": { "number": "+14155550123" },
    "phoneNumber": { "provider": "twilio", "number": "+14155550100" },
    "transcript": "AI: Thanks for calling Bright Smile Dental, how can I help?\nUser: I'd like to book a cleaning next Monday.",
    "summary": "Caller Dana Lee booked a cleaning for Monday 24 Nov at 11:30.",
    "recordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-mono.wav",
    "stereoRecordingUrl": "https://storage.vapi.ai/5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11-stereo.wav",
    "durationMs": 231290,
    "durationSeconds": 231.29,
    "durationMinutes": 3.8548
  }
}"##;

const E5: &str = r##"{ "message": { "type": "function-call", "timestamp": 1763676300000,
  "call": { "id": "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "type": "outboundPhoneCall" },
  "functionCall": { "name": "confirmAppointment", "parameters": { "appointmentId": "A-1042", "confirmed": true } } } }"##;

const E5_REPLY: &str =
    r##"{ "result": "Appointment A-1042 is confirmed for Monday 24 Nov at 11:30." }"##;

const E6: &str = r##"{ "message": { "type": "transfer-destination-request", "timestamp": 1763676400000,
  "call": { "id": "5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11", "type": "inboundPhoneCall" },
  "customer": { "number": "+14155550123" } } }"##;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("test fixture is not an object: {other}"),
    }
}

fn tool_calls(body: &str) -> (CallInfo, Vec<ToolCall>) {
    match parse_webhook(body.as_bytes()) {
        Ok(Inbound::ToolCalls { call, calls }) => (call, calls),
        other => panic!("expected tool calls, got {other:?}"),
    }
}

fn with_message(message: Value) -> String {
    json!({ "message": message }).to_string()
}

/// E1 with its message edited by `edit`.
fn e1_edited(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut root = obj(serde_json::from_str(E1).expect("E1 parses"));
    let mut message = obj(root.remove("message").expect("E1 has message"));
    edit(&mut message);
    with_message(Value::Object(message))
}

fn single_call(list: Value) -> ToolCall {
    let (_, mut calls) = tool_calls(&with_message(json!({
        "type": "tool-calls",
        "toolCallList": list,
    })));
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls.remove(0)
}

#[test]
fn e1_nested_object_arguments_and_call_info() {
    let (call, calls) = tool_calls(E1);
    assert_eq!(
        call,
        CallInfo {
            call_id: Some("5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11".into()),
            customer_number: Some("+14155550123".into()),
            phone_number: Some("+14155550100".into()),
            phone_number_id: Some("8e2d4f60-1111-4222-8333-444455556666".into()),
            call_type: Some("inboundPhoneCall".into()),
        }
    );
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff");
    assert_eq!(calls[0].name, "check_availability");
    assert_eq!(
        calls[0].args,
        Ok(obj(json!({"date": "2025-11-24", "service": "cleaning"})))
    );
    assert_eq!(calls[1].id, "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg");
    assert_eq!(calls[1].name, "lookup_customer");
    assert_eq!(calls[1].args, Ok(obj(json!({"phone": "+14155550123"}))));
}

/// E1 as the SDK shapes it (`tests/fixtures/vapi/e1_tool_calls.json`): string arguments and a
/// full call.
const E1_SDK: &str = include_str!("../../../tests/fixtures/vapi/e1_tool_calls.json");

#[test]
fn e1_in_the_sdk_shape_reads_the_same() {
    let (sdk_call, sdk_calls) = tool_calls(E1_SDK);
    let (call, calls) = tool_calls(E1);
    assert_eq!(sdk_call, call);
    assert_eq!(sdk_calls, calls);
}

#[test]
fn e1_expected_reply_is_reproduced() {
    let (_, calls) = tool_calls(E1);
    let replies = [
        calls[0].reply(Ok(
            r#"{"date":"2025-11-24","slots":["09:00","11:30","15:00"]}"#.into(),
        )),
        calls[1].reply(Err("No customer found for +14155550123".into())),
    ];
    let expected: Value = serde_json::from_str(E1_REPLY).expect("E1 reply parses");
    assert_eq!(tool_calls_response(&replies), expected);
}

#[test]
fn e2_prefers_tool_call_list_and_reads_string_and_flat_items() {
    let (call, calls) = tool_calls(E2);
    assert_eq!(
        call.call_id.as_deref(),
        Some("5b0e3c2a-7d1f-4c55-9a0e-2f6a1b9c4d11")
    );
    assert_eq!(call.customer_number, None);
    assert_eq!(call.phone_number, None);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
    assert_eq!(calls[0].name, "book_appointment");
    assert_eq!(
        calls[0].args,
        Ok(obj(json!({
            "start": "2025-11-24T11:30:00-08:00",
            "name": "Dana Lee",
            "service": "cleaning"
        })))
    );
    assert_eq!(calls[1].id, "call_Tt6a1WcO3dBe4Ff5Gg6Hh7Ii");
    assert_eq!(calls[1].name, "send_sms_confirmation");
    assert_eq!(calls[1].args, Ok(obj(json!({"to": "+14155550123"}))));
}

#[test]
fn falls_back_to_tool_calls_alias() {
    let mut root = obj(serde_json::from_str(E2).expect("E2 parses"));
    if let Some(Value::Object(m)) = root.get_mut("message") {
        m.insert("toolCallList".into(), json!([]));
    }
    let (_, calls) = tool_calls(&Value::Object(root).to_string());
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
    assert!(calls[0].args.is_ok());
}

#[test]
fn falls_back_to_tool_with_tool_call_list() {
    let body = e1_edited(|m| {
        m.remove("toolCallList");
    });
    let (_, calls) = tool_calls(&body);
    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "call_Qm3x8TzL0aYb1Cc2Dd3Ee4Ff",
            "call_Rn4y9UaM1bZc2Dd3Ee4Ff5Gg"
        ]
    );
    // The tool config's `function.parameters` is a schema, not arguments; the toolCall's are used.
    assert_eq!(
        calls[0].args,
        Ok(obj(json!({"date": "2025-11-24", "service": "cleaning"})))
    );
}

#[test]
fn tool_config_without_tool_call_is_kept_as_an_error() {
    let body = with_message(json!({
        "type": "tool-calls",
        "toolWithToolCallList": [
            { "type": "function", "function": { "name": "get_service_price", "parameters": {"type": "object"} } }
        ]
    }));
    let (_, calls) = tool_calls(&body);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "");
    assert_eq!(calls[0].name, "get_service_price");
    assert!(calls[0].args.is_err());
}

#[test]
fn argument_spellings_and_precedence() {
    let cases = [
        json!({"id": "a", "function": {"name": "t", "arguments": {"x": 1}}}),
        json!({"id": "a", "function": {"name": "t", "parameters": {"x": 1}}}),
        json!({"id": "a", "name": "t", "arguments": {"x": 1}}),
        json!({"id": "a", "name": "t", "parameters": "{\"x\":1}"}),
        json!({"id": "a", "function": {"name": "t", "arguments": null, "parameters": {"x": 1}}}),
        json!({"id": "a", "function": {"name": "t", "arguments": {"x": 1}}, "arguments": {"x": 2}}),
        json!({"id": "a", "function": {"name": "t"}, "name": "ignored", "parameters": {"x": 1}}),
    ];
    for case in cases {
        let call = single_call(json!([case.clone()]));
        assert_eq!(call.name, "t", "{case}");
        assert_eq!(call.args, Ok(obj(json!({"x": 1}))), "{case}");
    }
}

#[test]
fn string_argument_variants() {
    let args = |raw: Value| {
        single_call(
            json!([{"id": "c1", "function": {"name": "check_availability", "arguments": raw}}]),
        )
        .args
    };
    assert_eq!(args(json!("")), Ok(Map::new()));
    assert_eq!(args(json!("   \n")), Ok(Map::new()));
    assert_eq!(args(json!("null")), Ok(Map::new()));
    assert_eq!(args(json!("{}")), Ok(Map::new()));
    assert_eq!(
        args(json!(" {\"date\":\"tomorrow\"} ")),
        Ok(obj(json!({"date": "tomorrow"})))
    );
    assert_eq!(
        args(json!("\"{\\\"date\\\":\\\"tomorrow\\\"}\"")),
        Ok(obj(json!({"date": "tomorrow"}))),
        "double-encoded arguments are unwrapped once"
    );
    assert_eq!(
        args(json!("{\"date\":")),
        Err("The arguments for check_availability were not valid JSON.".into())
    );
    assert_eq!(
        args(json!("not json at all")),
        Err("The arguments for check_availability were not valid JSON.".into())
    );
    assert_eq!(
        args(json!("[1,2]")),
        Err("The arguments for check_availability were not a JSON object.".into())
    );
    assert_eq!(
        args(json!("\"\\\"still a string\\\"\"")),
        Err("The arguments for check_availability were not a JSON object.".into())
    );
}

#[test]
fn non_object_arguments_are_a_per_call_error() {
    for raw in [
        json!([1, 2]),
        json!(42),
        json!(true),
        json!([{"date": "x"}]),
    ] {
        let call = single_call(
            json!([{"id": "c1", "function": {"name": "book_appointment", "arguments": raw}}]),
        );
        assert_eq!(call.id, "c1");
        assert_eq!(
            call.args,
            Err("The arguments for book_appointment were not a JSON object.".into())
        );
    }
}

#[test]
fn missing_arguments_mean_no_arguments() {
    let call = single_call(
        json!([{"id": "c1", "type": "function", "function": {"name": "get_clinic_context"}}]),
    );
    assert_eq!(call.args, Ok(Map::new()));
}

#[test]
fn items_without_id_or_name_are_kept_in_order_with_errors() {
    let (_, calls) = tool_calls(&with_message(json!({
        "type": "tool-calls",
        "toolCallList": [
            {"id": "first", "function": {"name": "a", "arguments": {}}},
            {"function": {"name": "b", "arguments": {}}},
            {"id": "   ", "function": {"name": "c", "arguments": {}}},
            {"id": "fourth", "function": {"arguments": {}}},
            "junk",
            [1, 2, 3],
            null,
            {"id": "last", "function": {"name": "d", "arguments": {}}}
        ]
    })));
    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["first", "", "", "fourth", "", "", "", "last"]);
    assert_eq!(calls[1].name, "b");
    assert_eq!(
        calls[1].args,
        Err("This tool call had no id, so it was not run.".into())
    );
    assert_eq!(
        calls[3].args,
        Err("This tool call had no function name, so it was not run.".into())
    );
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(call.args.is_ok(), i == 0 || i == 7, "{call:?}");
    }
}

#[test]
fn ids_are_echoed_verbatim_and_numbers_accepted() {
    let call = single_call(json!([{"id": " call_x ", "name": "t"}]));
    assert_eq!(call.id, " call_x ");
    let call = single_call(json!([{"id": 7, "name": "t"}]));
    assert_eq!(call.id, "7");
    let call = single_call(json!([{"toolCallId": "tc_1", "name": " t "}]));
    assert_eq!((call.id.as_str(), call.name.as_str()), ("tc_1", "t"));
}

#[test]
fn odd_list_shapes() {
    // A lone object where an array belongs.
    let call = single_call(json!({"id": "solo", "function": {"name": "t", "arguments": {}}}));
    assert_eq!(call.id, "solo");
    // Junk in the first list falls through to the next one.
    let (_, calls) = tool_calls(&with_message(json!({
        "type": "tool-calls",
        "toolCallList": "oops",
        "toolCalls": [{"id": "b", "function": {"name": "t", "arguments": {}}}]
    })));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "b");
    // `function` as an array is ignored, the flat fields still work.
    let call =
        single_call(json!([{"id": "c", "function": [1], "name": "t", "arguments": {"k": "v"}}]));
    assert_eq!(call.args, Ok(obj(json!({"k": "v"}))));
    // No list at all.
    let (_, calls) = tool_calls(&with_message(json!({"type": "tool-calls"})));
    assert!(calls.is_empty());
}

#[test]
fn unknown_fields_are_ignored() {
    let body = e1_edited(|m| {
        m.insert("brandNewField".into(), json!({"deep": [1, {"x": null}]}));
        if let Some(Value::Array(list)) = m.get_mut("toolCallList") {
            if let Some(Value::Object(item)) = list.get_mut(0) {
                item.insert("extra".into(), json!("whatever"));
                item.insert("type".into(), json!("not-a-function"));
            }
        }
    });
    let (_, calls) = tool_calls(&body);
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.args.is_ok()));
}

#[test]
fn call_info_fallbacks_and_junk() {
    let info = |message: Value| match parse_webhook(with_message(message).as_bytes()) {
        Ok(Inbound::Event { call, .. }) => call,
        other => panic!("{other:?}"),
    };
    let body: Value = serde_json::from_str(E3).expect("E3 parses");
    let mut message = body["message"].clone();
    if let Value::Object(m) = &mut message {
        m.remove("customer");
    }
    assert_eq!(
        info(message).customer_number.as_deref(),
        Some("+14155550123")
    );
    let junk = info(json!({
        "type": "status-update",
        "call": [1, 2],
        "customer": {"number": {"nested": true}},
        "phoneNumber": "+14155550100"
    }));
    assert_eq!(junk, CallInfo::default());
    let numeric =
        info(json!({"type": "x", "customer": {"number": 14155550123u64}, "call": {"id": "  "}}));
    assert_eq!(numeric.customer_number.as_deref(), Some("14155550123"));
    assert_eq!(numeric.call_id, None);
}

#[test]
fn e3_e4_e6_are_events() {
    for (body, kind) in [
        (E3, "status-update"),
        (E3_2, "status-update"),
        (E4, "end-of-call-report"),
        (E6, "transfer-destination-request"),
    ] {
        match parse_webhook(body.as_bytes()) {
            Ok(Inbound::Event {
                kind: k,
                call,
                message,
            }) => {
                assert_eq!(k, kind);
                assert!(call.call_id.is_some());
                assert_eq!(message["type"], kind);
            }
            other => panic!("{other:?}"),
        }
    }
    let Ok(Inbound::Event { call, message, .. }) = parse_webhook(E4.as_bytes()) else {
        panic!("E4 is an event");
    };
    assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
    assert_eq!(call.phone_number.as_deref(), Some("+14155550100"));
    assert_eq!(message["analysis"]["successEvaluation"], "true");
    let Ok(Inbound::Event { call, .. }) = parse_webhook(E6.as_bytes()) else {
        panic!("E6 is an event");
    };
    assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
    assert_eq!(call.phone_number, None);
}

#[test]
fn e5_function_call_object_and_string_parameters() {
    let expected = Ok(obj(json!({"appointmentId": "A-1042", "confirmed": true})));
    let string_form = E5.replace(
        r#""parameters": { "appointmentId": "A-1042", "confirmed": true }"#,
        r#""parameters": "{\"appointmentId\":\"A-1042\",\"confirmed\":true}""#,
    );
    assert_ne!(string_form, E5, "fixture edit applied");
    for body in [E5.to_string(), string_form] {
        match parse_webhook(body.as_bytes()) {
            Ok(Inbound::FunctionCall { call, name, args }) => {
                assert_eq!(name, "confirmAppointment");
                assert_eq!(args, expected);
                assert_eq!(call.call_type.as_deref(), Some("outboundPhoneCall"));
            }
            other => panic!("{other:?}"),
        }
    }
    let reply = function_call_response(&Ok(
        "Appointment A-1042 is confirmed for Monday 24 Nov at 11:30.".into(),
    ));
    assert_eq!(
        reply,
        serde_json::from_str::<Value>(E5_REPLY).expect("E5 reply parses")
    );
}

#[test]
fn function_call_junk() {
    let fc = |function: Value| match parse_webhook(
        with_message(json!({"type": "function-call", "functionCall": function})).as_bytes(),
    ) {
        Ok(Inbound::FunctionCall { name, args, .. }) => (name, args),
        other => panic!("{other:?}"),
    };
    assert!(fc(json!(null)).1.is_err());
    assert!(fc(json!([1])).1.is_err());
    assert_eq!(fc(json!({"name": "f"})).1, Ok(Map::new()));
    assert_eq!(
        fc(json!({"name": "f", "arguments": "{\"a\":1}"})).1,
        Ok(obj(json!({"a": 1})))
    );
    assert_eq!(
        fc(json!({"name": "f", "parameters": "{bad"})).1,
        Err("The arguments for f were not valid JSON.".into())
    );
}

#[test]
fn envelope_errors() {
    assert_eq!(parse_webhook(b""), Err(ParseError::NotJson));
    assert_eq!(parse_webhook(b"{\"message\":"), Err(ParseError::NotJson));
    assert_eq!(parse_webhook(b"\xff\xfe{}"), Err(ParseError::NotJson));
    assert_eq!(parse_webhook(b"[]"), Err(ParseError::NotAnObject));
    assert_eq!(parse_webhook(b"\"message\""), Err(ParseError::NotAnObject));
    assert_eq!(parse_webhook(b"{}"), Err(ParseError::MissingMessage));
    assert_eq!(
        parse_webhook(b"{\"message\":[]}"),
        Err(ParseError::MissingMessage)
    );
    assert_eq!(
        parse_webhook(b"{\"message\":\"tool-calls\"}"),
        Err(ParseError::MissingMessage)
    );
    // A UTF-8 byte-order mark is tolerated.
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), E1.as_bytes()].concat();
    assert!(matches!(
        parse_webhook(&with_bom),
        Ok(Inbound::ToolCalls { .. })
    ));
    // A message without `type` and without tool calls is an event with an empty kind.
    assert!(matches!(
        parse_webhook(b"{\"message\":{}}"),
        Ok(Inbound::Event { ref kind, .. }) if kind.is_empty()
    ));
}

#[test]
fn deeply_nested_junk_is_rejected_without_overflow() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(
        parse_webhook(deep(100_000).as_bytes()),
        Err(ParseError::NotJson)
    );
    let unclosed = format!("{{\"message\":{}", "{\"a\":".repeat(50_000));
    assert_eq!(parse_webhook(unclosed.as_bytes()), Err(ParseError::NotJson));
    // Within serde_json's depth limit it parses and is simply ignored.
    let body = format!(
        "{{\"message\":{{\"type\":\"tool-calls\",\"junk\":{},\"toolCallList\":[]}}}}",
        deep(100)
    );
    assert!(matches!(
        parse_webhook(body.as_bytes()),
        Ok(Inbound::ToolCalls { .. })
    ));
    // Deep nesting hidden inside a string argument is that call's error.
    let call = single_call(json!([{"id": "c", "name": "t", "arguments": deep(100_000)}]));
    assert_eq!(
        call.args,
        Err("The arguments for t were not valid JSON.".into())
    );
}

#[test]
fn tool_request_accepts_envelope_bare_message_and_legacy_shape() {
    let wrapped = parse_tool_request(E1.as_bytes());
    assert_eq!(wrapped, parse_webhook(E1.as_bytes()));
    let inner = serde_json::from_str::<Value>(E1).expect("E1 parses")["message"].to_string();
    assert_eq!(parse_tool_request(inner.as_bytes()), wrapped);

    let mut untyped = obj(serde_json::from_str(&inner).expect("inner parses"));
    untyped.remove("type");
    let Ok(Inbound::ToolCalls { calls, .. }) =
        parse_tool_request(Value::Object(untyped).to_string().as_bytes())
    else {
        panic!("type-less message with a tool list is tool calls");
    };
    assert_eq!(calls.len(), 2);

    let legacy = legacy_body(json!({"patientName": "Dana Lee", "appointmentDate": "2025-11-24"}));
    match parse_tool_request(legacy.as_bytes()) {
        Ok(Inbound::ToolCalls { call, calls }) => {
            assert_eq!(call.call_id.as_deref(), Some("call-uuid"));
            assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].id, "toolu_01");
            assert_eq!(calls[0].name, "book_appointment");
            assert_eq!(
                calls[0].args,
                Ok(obj(
                    json!({"patientName": "Dana Lee", "appointmentDate": "2025-11-24"})
                ))
            );
        }
        other => panic!("{other:?}"),
    }

    let named = json!({"toolCallId": "x", "tool": {"function": {"name": "cancel_appointment"}, "arguments": "{}"}});
    let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(named.to_string().as_bytes())
    else {
        panic!("legacy shape without message");
    };
    assert_eq!(
        (calls[0].name.as_str(), calls[0].args.clone()),
        ("cancel_appointment", Ok(Map::new()))
    );

    let no_id = json!({"message": {"call": {"id": "c"}}, "tool": {"arguments": {}}});
    let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(no_id.to_string().as_bytes())
    else {
        panic!("legacy shape without id");
    };
    assert!(calls[0].args.is_err());

    assert_eq!(parse_tool_request(b"[1]"), Err(ParseError::NotAnObject));
    assert_eq!(parse_tool_request(b"nope"), Err(ParseError::NotJson));
    assert!(matches!(
        parse_tool_request(b"{\"hello\":1}"),
        Ok(Inbound::Event { ref kind, .. }) if kind.is_empty()
    ));
}

fn legacy_body(arguments: Value) -> String {
    json!({
        "toolCallId": "toolu_01",
        "message": {"call": {"id": "call-uuid", "type": "inboundPhoneCall", "customer": {"number": "+14155550123"}}},
        "tool": {"arguments": arguments}
    })
    .to_string()
}

#[test]
fn legacy_booking_original_shape() {
    let args = json!({
        "organizationId": "org-1",
        "patientName": "Dana Lee",
        "patientPhone": "+14155550123",
        "appointmentDate": "2025-11-24",
        "appointmentTime": "11:30",
        "serviceType": "cleaning"
    });
    let (id, call, parsed) =
        parse_legacy_booking(legacy_body(args.clone()).as_bytes()).expect("parses");
    assert_eq!(id, "toolu_01");
    assert_eq!(call.call_id.as_deref(), Some("call-uuid"));
    assert_eq!(call.customer_number.as_deref(), Some("+14155550123"));
    assert_eq!(parsed, obj(args.clone()));

    let (_, _, parsed) =
        parse_legacy_booking(legacy_body(Value::String(args.to_string())).as_bytes())
            .expect("string args");
    assert_eq!(parsed, obj(args));

    assert_eq!(
        parse_legacy_booking(legacy_body(json!("{oops")).as_bytes()),
        Err(ParseError::BadArguments {
            tool_call_id: "toolu_01".into(),
            reason: "The arguments for book_appointment were not valid JSON.".into()
        })
    );
    // Without an id the reply cannot be matched and there is no idempotency key, so nothing is booked.
    let no_id =
        json!({"message": {"call": {"id": "c"}}, "tool": {"arguments": {"patientName": "Dana"}}});
    assert_eq!(
        parse_legacy_booking(no_id.to_string().as_bytes()),
        Err(ParseError::BadArguments {
            tool_call_id: String::new(),
            reason: "This tool call had no id, so it was not run.".into()
        })
    );
    assert_eq!(parse_legacy_booking(b"{}"), Err(ParseError::NoToolCall));
    assert_eq!(
        parse_legacy_booking(b"{\"message\":{}}"),
        Err(ParseError::NoToolCall)
    );
    assert_eq!(parse_legacy_booking(b"{"), Err(ParseError::NotJson));
    assert_eq!(parse_legacy_booking(b"7"), Err(ParseError::NotAnObject));
}

#[test]
fn legacy_booking_accepts_the_standard_envelope() {
    let body = with_message(json!({
        "type": "tool-calls",
        "call": {"id": "c-1"},
        "toolCallList": [
            {"id": "other", "function": {"name": "get_clinic_context", "arguments": {}}},
            {"id": "book", "function": {"name": "bookClinicAppointment", "arguments": "{\"patientName\":\"Dana\"}"}}
        ]
    }));
    let (id, call, args) = parse_legacy_booking(body.as_bytes()).expect("parses");
    assert_eq!(id, "book");
    assert_eq!(call.call_id.as_deref(), Some("c-1"));
    assert_eq!(args, obj(json!({"patientName": "Dana"})));
    let (id, _, _) = parse_legacy_booking(E2.as_bytes()).expect("E2 parses");
    assert_eq!(id, "call_Ss5z0VbN2cAd3Ee4Ff5Gg6Hh");
}

#[test]
fn reply_builders_are_single_line() {
    let replies = [
        ToolReply {
            tool_call_id: "a".into(),
            name: "t".into(),
            outcome: Ok("Line one.\r\nLine two.\tTabbed.\n".into()),
        },
        ToolReply {
            tool_call_id: "b".into(),
            name: "t".into(),
            outcome: Err("Failed:\n\n  details".into()),
        },
        ToolReply {
            tool_call_id: "c".into(),
            name: "t".into(),
            outcome: Err(" \n ".into()),
        },
    ];
    assert_eq!(
        tool_calls_response(&replies),
        json!({"results": [
            {"toolCallId": "a", "name": "t", "result": "Line one. Line two. Tabbed."},
            {"toolCallId": "b", "name": "t", "error": "Failed: details"},
            {"toolCallId": "c", "name": "t", "error": "The tool failed."}
        ]})
    );
    assert_eq!(tool_calls_response(&[]), json!({"results": []}));
    assert_eq!(
        function_call_response(&Err("No\nslot".into())),
        json!({"result": "No slot"})
    );
}

#[test]
fn single_line_rules() {
    assert_eq!(single_line("a\r\nb"), "a b");
    assert_eq!(single_line("a \n\t b"), "a b");
    assert_eq!(single_line("a\u{2028}b\u{0}c"), "a b c");
    assert_eq!(single_line("keep  two spaces"), "keep  two spaces");
    assert_eq!(single_line("\n  padded \r\n"), "padded");
    assert_eq!(single_line(r#"{"note":"a  b"}"#), r#"{"note":"a  b"}"#);
    assert_eq!(single_line(""), "");
    assert!(!single_line("x\u{85}y\u{b}z\u{c}").contains(|c: char| c.is_control()));
}

/// Deterministic mutation run: every example truncated at every byte, plus byte flips, insertions and
/// splices. Nothing may panic.
#[test]
fn mutated_bodies_never_panic() {
    let legacy = legacy_body(json!({"patientName": "Dana"}));
    let seeds = [E1, E2, E3, E3_2, E4, E5, E6, legacy.as_str()];
    let junk: &[&[u8]] = &[
        b"\"", b"{", b"}", b"[", b"]", b",", b":", b"\\", b"null", b"\xff", b"\"\"", b"[]", b"{}",
        b"1e999", b"-",
    ];
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let run = |body: &[u8]| {
        let _ = parse_webhook(body);
        let _ = parse_tool_request(body);
        let _ = parse_legacy_booking(body);
        if let Ok(Inbound::ToolCalls { calls, .. }) = parse_tool_request(body) {
            let replies: Vec<ToolReply> = calls
                .iter()
                .map(|c| c.reply(c.args.clone().map(|a| Value::Object(a).to_string())))
                .collect();
            let _ = tool_calls_response(&replies);
        }
    };
    let mut count = 0usize;
    for seed in seeds {
        let bytes = seed.as_bytes();
        for cut in 0..=bytes.len() {
            run(&bytes[..cut]);
            run(&bytes[cut..]);
            count += 2;
        }
        for _ in 0..1_000 {
            let mut body = bytes.to_vec();
            for _ in 0..(1 + next() % 4) {
                let at = (next() as usize) % (body.len() + 1);
                match next() % 4 {
                    0 if at < body.len() => body[at] = next() as u8,
                    1 if at < body.len() => {
                        body.remove(at);
                    }
                    2 => {
                        let piece = junk[(next() as usize) % junk.len()];
                        body.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        let other = seeds[(next() as usize) % seeds.len()].as_bytes();
                        let from = (next() as usize) % other.len();
                        let to = (from + (next() as usize) % 64).min(other.len());
                        body.splice(at..at, other[from..to].iter().copied());
                    }
                }
            }
            run(&body);
            count += 1;
        }
    }
    assert!(count > 8_000);
}
