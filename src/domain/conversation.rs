//! A call's conversation as turns of speech (assistant or caller), read from Vapi's message
//! list when it was kept, else from the plain transcript ("AI: …" / "User: …" lines); and the
//! plain-text transcript staff download.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Assistant,
    Caller,
}

impl Speaker {
    pub fn label(self) -> &'static str {
        match self {
            Speaker::Assistant => "Assistant",
            Speaker::Caller => "Caller",
        }
    }

    /// For the chat's CSS class.
    pub fn css(self) -> &'static str {
        match self {
            Speaker::Assistant => "assistant",
            Speaker::Caller => "caller",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
    /// Seconds from the start of the call, when Vapi said.
    pub at_secs: Option<f64>,
}

/// Vapi roles that are speech; `system`, `tool_calls` and `tool_call_result` are not.
fn speaker_of_role(role: &str) -> Option<Speaker> {
    match role {
        "bot" | "assistant" => Some(Speaker::Assistant),
        "user" | "customer" => Some(Speaker::Caller),
        _ => None,
    }
}

/// Transcript line prefixes Vapi and older reports use.
fn speaker_of_prefix(prefix: &str) -> Option<Speaker> {
    match prefix.trim().to_ascii_lowercase().as_str() {
        "ai" | "bot" | "assistant" | "agent" => Some(Speaker::Assistant),
        "user" | "customer" | "caller" | "human" => Some(Speaker::Caller),
        _ => None,
    }
}

fn from_messages(json: &str) -> Vec<Turn> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|m| {
            let speaker = speaker_of_role(m.get("role")?.as_str()?)?;
            let text = m
                .get("message")
                .or_else(|| m.get("content"))?
                .as_str()?
                .trim();
            (!text.is_empty()).then(|| Turn {
                speaker,
                text: text.to_string(),
                at_secs: m.get("secondsFromStart").and_then(Value::as_f64),
            })
        })
        .collect()
}

fn from_transcript(transcript: &str) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for line in transcript.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let split = line
            .split_once(':')
            .and_then(|(p, rest)| speaker_of_prefix(p).map(|s| (s, rest.trim())));
        match (split, turns.last_mut()) {
            (Some((speaker, text)), _) => turns.push(Turn {
                speaker,
                text: text.to_string(),
                at_secs: None,
            }),
            // A line without a speaker continues the previous turn.
            (None, Some(last)) => {
                last.text.push('\n');
                last.text.push_str(line);
            }
            (None, None) => turns.push(Turn {
                speaker: Speaker::Caller,
                text: line.to_string(),
                at_secs: None,
            }),
        }
    }
    turns
}

/// The turns of a call: from its messages when they hold any speech, else its transcript.
pub fn turns(messages_json: Option<&str>, transcript: Option<&str>) -> Vec<Turn> {
    let from_list = messages_json.map(from_messages).unwrap_or_default();
    if !from_list.is_empty() {
        return from_list;
    }
    transcript.map(from_transcript).unwrap_or_default()
}

/// The downloadable transcript: a header of `(label, value)` lines, then one paragraph per turn
/// ("Caller: …"), or the raw transcript when it has no turns.
pub fn transcript_file(header: &[(&str, String)], turns: &[Turn], raw: Option<&str>) -> String {
    let mut out = String::new();
    for (label, value) in header {
        out.push_str(&format!("{label}: {value}\n"));
    }
    out.push('\n');
    if turns.is_empty() {
        out.push_str(raw.unwrap_or("(no transcript)"));
        out.push('\n');
    }
    for t in turns {
        out.push_str(&format!("{}: {}\n\n", t.speaker.label(), t.text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_give_the_speech_in_order() {
        let json = r#"[{"role":"system","message":"You are…"},
            {"role":"bot","message":"Hello, Alpha Clinic.","secondsFromStart":0.5},
            {"role":"tool_calls","toolCalls":[]},
            {"role":"user","message":" I'd like botox. "}]"#;
        let t = turns(Some(json), Some("ignored"));
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].speaker, Speaker::Assistant);
        assert_eq!(t[0].at_secs, Some(0.5));
        assert_eq!(t[1].speaker, Speaker::Caller);
        assert_eq!(t[1].text, "I'd like botox.");
    }

    #[test]
    fn the_transcript_is_the_fallback() {
        let t = turns(
            Some("not json"),
            Some("AI: Hello.\nUser: Price of botox?\nand fillers\nBot: $400."),
        );
        let said: Vec<_> = t.iter().map(|t| (t.speaker, t.text.as_str())).collect();
        assert_eq!(
            said,
            vec![
                (Speaker::Assistant, "Hello."),
                (Speaker::Caller, "Price of botox?\nand fillers"),
                (Speaker::Assistant, "$400."),
            ]
        );
        assert!(turns(None, None).is_empty());
    }

    #[test]
    fn the_file_has_a_header_and_one_paragraph_per_turn() {
        let t = turns(None, Some("AI: Hi.\nUser: Bye."));
        let file = transcript_file(&[("Call", "7".into())], &t, None);
        assert_eq!(file, "Call: 7\n\nAssistant: Hi.\n\nCaller: Bye.\n\n");
        assert!(transcript_file(&[], &[], None).contains("(no transcript)"));
    }
}
