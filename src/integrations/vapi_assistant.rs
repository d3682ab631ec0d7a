//! Linking the appliance's tools to a Vapi assistant without losing anything on it. Vapi's
//! `PATCH /assistant` replaces each top-level field it is sent wholesale, so the patch carries
//! the assistant's whole `model` as read (system prompt, provider, inline tools) with only
//! `toolIds` merged, and the `server` and `serverMessages` it already had with ours added (an
//! assistant with no `serverMessages` gets Vapi's defaults, which it was receiving, plus ours).
//! Also spots calendar tools that book straight into a calendar, bypassing the appliance.
//! Pure: no I/O.

use serde_json::{json, Value};

/// The server messages the appliance answers or records (`docs/vapi.md` §1.2).
pub const SERVER_MESSAGES: [&str; 5] = [
    "tool-calls",
    "status-update",
    "end-of-call-report",
    "transfer-destination-request",
    "transfer-update",
];

/// What Vapi sends an assistant whose `serverMessages` is unset (the assistant schema's
/// documented default). Sending a list replaces it, so linking starts from this one.
pub const VAPI_DEFAULT_SERVER_MESSAGES: [&str; 11] = [
    "conversation-update",
    "end-of-call-report",
    "function-call",
    "hang",
    "speech-update",
    "status-update",
    "tool-calls",
    "transfer-destination-request",
    "handoff-destination-request",
    "user-interrupted",
    "assistant.started",
];

/// The `PATCH /assistant/:id` body that links `ours` (dropping `retired`, ids of ours that
/// Vapi no longer has: a missing tool id fails the call) and points the assistant's server at
/// `server_url` with the org's secret.
pub fn link_patch(
    assistant: &Value,
    ours: &[String],
    retired: &[String],
    server_url: &str,
    secret: &str,
) -> Result<Value, String> {
    let mut model = assistant.get("model").cloned().unwrap_or(Value::Null);
    let has_model = model.get("provider").is_some_and(Value::is_string)
        && model.get("model").is_some_and(Value::is_string);
    if !has_model {
        return Err(
            "the assistant has no model yet; choose its model in the Vapi dashboard, then sync again"
                .into(),
        );
    }
    let mut ids: Vec<String> = model["toolIds"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .filter(|id| !retired.iter().any(|r| r == id))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for id in ours {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    model["toolIds"] = json!(ids);

    let mut messages: Vec<String> = match assistant["serverMessages"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => VAPI_DEFAULT_SERVER_MESSAGES.map(str::to_string).to_vec(),
    };
    for m in SERVER_MESSAGES {
        if !messages.iter().any(|x| x == m) {
            messages.push(m.to_string());
        }
    }

    let mut server = match assistant.get("server") {
        Some(Value::Object(s)) => Value::Object(s.clone()),
        _ => json!({ "timeoutSeconds": 20 }),
    };
    server["url"] = json!(server_url);
    if !server["headers"].is_object() {
        server["headers"] = json!({});
    }
    server["headers"]["X-Vapi-Secret"] = json!(secret);

    Ok(json!({ "model": model, "server": server, "serverMessages": messages }))
}

/// The type of a Vapi tool that books in a calendar itself (Google Calendar, GoHighLevel, ...),
/// if it is one.
pub fn native_calendar_type(tool: &Value) -> Option<String> {
    tool["type"]
        .as_str()
        .filter(|t| t.contains("calendar"))
        .map(str::to_string)
}

/// Calendar tools given inline on the assistant's model.
pub fn inline_calendar_tools(assistant: &Value) -> Vec<String> {
    assistant["model"]["tools"]
        .as_array()
        .map(|l| l.iter().filter_map(native_calendar_type).collect())
        .unwrap_or_default()
}

/// Tool ids on the assistant that are not the appliance's.
pub fn foreign_tool_ids(assistant: &Value, ours: &[String]) -> Vec<String> {
    assistant["model"]["toolIds"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .filter(|id| !ours.iter().any(|o| o == id))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assistant() -> Value {
        json!({
            "id": "asst-1",
            "name": "Front desk",
            "firstMessage": "Hello!",
            "model": {
                "provider": "openai", "model": "gpt-4o", "temperature": 0.3,
                "messages": [{"role": "system", "content": "You are the front desk of Alpha Clinic."}],
                "toolIds": ["theirs-1", "old-ours"],
                "tools": [{"type": "google.calendar.event.create"}, {"type": "endCall"}]
            },
            "server": {"url": "https://old.example/hook", "timeoutSeconds": 25, "headers": {"X-Other": "1"}},
            "serverMessages": ["end-of-call-report", "conversation-update"]
        })
    }

    #[test]
    fn the_whole_model_goes_back_with_the_tools_merged() {
        let ours = vec!["t1".to_string(), "t2".to_string(), "theirs-1".to_string()];
        let patch = link_patch(
            &assistant(),
            &ours,
            &["old-ours".into()],
            "https://c/api/vapi/webhook",
            "vx_s",
        )
        .unwrap();
        let model = &patch["model"];
        assert_eq!(
            model["messages"][0]["content"],
            "You are the front desk of Alpha Clinic."
        );
        assert_eq!(
            (model["provider"].as_str(), model["temperature"].as_f64()),
            (Some("openai"), Some(0.3))
        );
        assert_eq!(model["tools"].as_array().map(Vec::len), Some(2));
        assert_eq!(model["toolIds"], json!(["theirs-1", "t1", "t2"]));
        assert_eq!(patch["server"]["url"], "https://c/api/vapi/webhook");
        assert_eq!(patch["server"]["timeoutSeconds"], 25);
        assert_eq!(
            patch["server"]["headers"],
            json!({"X-Other": "1", "X-Vapi-Secret": "vx_s"})
        );
        let messages = patch["serverMessages"].as_array().unwrap();
        assert_eq!(messages[0], "end-of-call-report");
        assert_eq!(messages[1], "conversation-update");
        assert!(messages.contains(&json!("tool-calls")));
        assert!(messages.contains(&json!("transfer-update")));
        assert_eq!(messages.len(), 6);
        // Nothing else is sent: other fields stay as they are in Vapi.
        assert_eq!(patch.as_object().unwrap().len(), 3);
    }

    #[test]
    fn an_assistant_on_vapis_default_messages_keeps_them() {
        let mut unset = assistant();
        unset.as_object_mut().unwrap().remove("serverMessages");
        let patch = link_patch(&unset, &[], &[], "u", "s").unwrap();
        let mut expected: Vec<&str> = VAPI_DEFAULT_SERVER_MESSAGES.to_vec();
        expected.push("transfer-update");
        assert_eq!(patch["serverMessages"], json!(expected));

        // A list the clinic emptied on purpose stays theirs: only ours are added.
        let mut empty = assistant();
        empty["serverMessages"] = json!([]);
        let patch = link_patch(&empty, &[], &[], "u", "s").unwrap();
        assert_eq!(patch["serverMessages"], json!(SERVER_MESSAGES));
    }

    #[test]
    fn an_assistant_without_a_model_is_refused() {
        let bare = json!({"id": "a", "model": {"messages": []}});
        assert!(link_patch(&bare, &[], &[], "u", "s")
            .unwrap_err()
            .contains("no model"));
    }

    #[test]
    fn calendar_tools_are_spotted() {
        assert_eq!(
            inline_calendar_tools(&assistant()),
            vec!["google.calendar.event.create"]
        );
        assert_eq!(
            native_calendar_type(&json!({"type": "gohighlevel.calendar.availability.check"})),
            Some("gohighlevel.calendar.availability.check".into())
        );
        assert_eq!(native_calendar_type(&json!({"type": "function"})), None);
        assert_eq!(
            foreign_tool_ids(&assistant(), &["old-ours".into()]),
            vec!["theirs-1"]
        );
    }
}
