//! Explainable lead scoring (0–100) for a finished call, plus the small text
//! heuristics that feed it.
//!
//! | factor key       | when                                                        | points |
//! |------------------|-------------------------------------------------------------|--------|
//! | `booking_intent` | caller wanted to book (a booked call counts as intent too)  | +25    |
//! | `booked`         | an appointment was booked on the call                       | +30    |
//! | `value`          | price of the service discussed: ≥ $5,000                    | +20    |
//! |                  | ≥ $1,000                                                    | +15    |
//! |                  | ≥ $300                                                      | +10    |
//! |                  | more than $0                                                | +5     |
//! | `duration`       | call lasted ≥ 3 min                                         | +10    |
//! |                  | ≥ 1 min                                                     | +5     |
//! |                  | under 20 s (hang-ups, wrong numbers)                        | −10    |
//! | `sentiment`      | positive / neutral / negative                               | +10 / 0 / −10 |
//! | `returning`      | the number has called before                                | +5     |
//!
//! The total is clamped to 0–100 (the maximum possible sum is exactly 100).
//! Tiers: **hot** ≥ 70, **warm** 40–69, **cold** < 40. Only factors worth
//! non-zero points are listed in the breakdown.
//!
//! [`booking_intent`] is true when the text contains any of these words:
//! book, booking, booked, rebook, appointment(s), appt, schedule, scheduled,
//! scheduling, reschedule, available, availability, opening(s), slot(s),
//! consult, consultation(s), reserve, reservation, price(s), pricing, cost(s),
//! quote, fee(s), afford; or phrases: "come in", "come by", "how much",
//! "sign up", "sign me up", "fit me in", "get me in", "next available". It
//! does not understand negation ("I don't want to book" still counts).
//!
//! [`sentiment_from_text`] counts positive words (happy, pleased, satisfied,
//! excited, great, …) against negative ones (angry, upset, frustrated, rude, …);
//! "not"/"no"/"never"/"…n't" up to two words before a positive word turns it
//! negative and cancels a negative word. No sentiment words at all gives `None`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

impl Sentiment {
    /// Parses a label such as Vapi's analysis output ("Positive", "neg", …).
    pub fn from_label(label: &str) -> Option<Sentiment> {
        match label.trim().to_ascii_lowercase().as_str() {
            "positive" | "pos" => Some(Sentiment::Positive),
            "neutral" | "mixed" => Some(Sentiment::Neutral),
            "negative" | "neg" => Some(Sentiment::Negative),
            _ => None,
        }
    }

    /// The score a bare label stands for when no finer score is known.
    pub fn nominal_score(self) -> f64 {
        match self {
            Sentiment::Positive => 1.0,
            Sentiment::Neutral => 0.0,
            Sentiment::Negative => -1.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Hot,
    Warm,
    Cold,
}

impl Tier {
    pub fn from_score(total: u8) -> Tier {
        match total {
            70.. => Tier::Hot,
            40..=69 => Tier::Warm,
            _ => Tier::Cold,
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "hot" => Some(Tier::Hot),
            "warm" => Some(Tier::Warm),
            "cold" => Some(Tier::Cold),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Hot => "hot",
            Tier::Warm => "warm",
            Tier::Cold => "cold",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadSignals {
    pub booking_intent: bool,
    pub booked: bool,
    pub value_cents: i64,
    pub duration_secs: u64,
    pub sentiment: Option<Sentiment>,
    pub returning_caller: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    pub key: &'static str,
    pub label: String,
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreBreakdown {
    pub total: u8,
    pub tier: Tier,
    pub factors: Vec<Factor>,
}

/// Scores a call; see the module table for the factors.
pub fn score(s: &LeadSignals) -> ScoreBreakdown {
    let mut factors = Vec::new();
    let mut add = |key: &'static str, label: String, points: i32| {
        if points != 0 {
            factors.push(Factor { key, label, points });
        }
    };
    if s.booking_intent {
        add("booking_intent", "Wanted to book".into(), 25);
    } else if s.booked {
        add("booking_intent", "Booked, so wanted to book".into(), 25);
    }
    if s.booked {
        add("booked", "Booked an appointment".into(), 30);
    }
    let value = s.value_cents.max(0);
    let value_points = match value {
        500_000.. => 20,
        100_000..=499_999 => 15,
        30_000..=99_999 => 10,
        1..=29_999 => 5,
        _ => 0,
    };
    add(
        "value",
        format!("Service worth {}", money(value)),
        value_points,
    );
    let d = s.duration_secs;
    let (duration_points, duration_label) = match d {
        180.. => (10, format!("Long call ({})", minutes(d))),
        60..=179 => (5, format!("Call over a minute ({})", minutes(d))),
        0..=19 => (-10, format!("Very short call ({d} s)")),
        _ => (0, String::new()),
    };
    add("duration", duration_label, duration_points);
    match s.sentiment {
        Some(Sentiment::Positive) => add("sentiment", "Positive tone".into(), 10),
        Some(Sentiment::Negative) => add("sentiment", "Negative tone".into(), -10),
        Some(Sentiment::Neutral) | None => {}
    }
    if s.returning_caller {
        add("returning", "Has called before".into(), 5);
    }
    let sum: i32 = factors.iter().map(|f| f.points).sum();
    let total = u8::try_from(sum.clamp(0, 100)).unwrap_or(0);
    ScoreBreakdown {
        total,
        tier: Tier::from_score(total),
        factors,
    }
}

fn money(cents: i64) -> String {
    let dollars = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match cents % 100 {
        0 => format!("${grouped}"),
        c => format!("${grouped}.{c:02}"),
    }
}

fn minutes(secs: u64) -> String {
    match secs % 60 {
        0 => format!("{} min", secs / 60),
        s => format!("{} min {s} s", secs / 60),
    }
}

/// Lowercase words; apostrophes (straight or curly) stay inside words.
fn words(text: &str) -> Vec<String> {
    raw_words(text)
        .map(|w| {
            let mut out = String::new();
            fold(w, &mut out);
            out
        })
        .collect()
}

const INTENT_WORDS: &[&str] = &[
    "book",
    "booking",
    "booked",
    "rebook",
    "appointment",
    "appointments",
    "appt",
    "schedule",
    "scheduled",
    "scheduling",
    "reschedule",
    "available",
    "availability",
    "opening",
    "openings",
    "slot",
    "slots",
    "consult",
    "consultation",
    "consultations",
    "reserve",
    "reservation",
    "price",
    "prices",
    "pricing",
    "cost",
    "costs",
    "quote",
    "fee",
    "fees",
    "afford",
];

const INTENT_PHRASES: &[&[&str]] = &[
    &["come", "in"],
    &["come", "by"],
    &["how", "much"],
    &["sign", "up"],
    &["sign", "me", "up"],
    &["fit", "me", "in"],
    &["get", "me", "in"],
    &["next", "available"],
];

/// True when the caller sounds like they want to book (see module doc). Reads the text once,
/// folding each word into one reused buffer, and stops at the first sign, since transcripts
/// run to tens of kilobytes.
pub fn booking_intent(text: &str) -> bool {
    // The current word and the two before it: enough for the longest phrase.
    let mut last: [String; 3] = Default::default();
    for (i, raw) in raw_words(text).enumerate() {
        let seen = i + 1;
        last.rotate_left(1);
        fold(raw, &mut last[2]);
        let word = last[2].as_str();
        if INTENT_WORDS.contains(&word) {
            return true;
        }
        let hit = INTENT_PHRASES.iter().any(|p| {
            p.len() <= seen.min(3)
                && p.iter()
                    .rev()
                    .zip(last.iter().rev())
                    .all(|(a, b)| *a == b.as_str())
        });
        if hit {
            return true;
        }
    }
    false
}

/// A raw word folded as [`words`] folds it, into `out`.
fn fold(raw: &str, out: &mut String) {
    out.clear();
    if raw.is_ascii() {
        out.push_str(raw);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&raw.replace('\u{2019}', "'").to_lowercase());
    }
}

/// The words of [`words`] as slices of the text, before case and apostrophe folding.
fn raw_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '\u{2019}'))
        .filter(|w| !w.is_empty())
}

const POSITIVE: &[&str] = &[
    "happy",
    "pleased",
    "satisfied",
    "excited",
    "great",
    "thrilled",
    "grateful",
    "thankful",
    "friendly",
    "positive",
    "interested",
    "eager",
    "enthusiastic",
    "delighted",
    "glad",
    "polite",
    "appreciative",
    "wonderful",
    "excellent",
    "love",
    "loved",
];

const NEGATIVE: &[&str] = &[
    "angry",
    "upset",
    "frustrated",
    "annoyed",
    "unhappy",
    "disappointed",
    "rude",
    "negative",
    "complained",
    "complaint",
    "complaining",
    "dissatisfied",
    "irritated",
    "hostile",
    "furious",
    "impatient",
    "hate",
    "hated",
    "uninterested",
];

fn is_negator(w: &str) -> bool {
    matches!(w, "not" | "no" | "never" | "hardly")
        || w.ends_with("n't")
        || matches!(w, "dont" | "didnt" | "wasnt" | "isnt")
}

/// Tiny keyword heuristic over a call summary or evaluation (see module doc).
pub fn sentiment_from_text(summary_or_eval: &str) -> Option<Sentiment> {
    sentiment_with_score(summary_or_eval).map(|(s, _)| s)
}

/// [`sentiment_from_text`] with a score from −1 (all negative words) to 1 (all positive):
/// (positive − negative) / sentiment words found.
pub fn sentiment_with_score(summary_or_eval: &str) -> Option<(Sentiment, f64)> {
    let w = words(summary_or_eval);
    let (mut pos, mut neg, mut hits) = (0i32, 0i32, 0u32);
    for (i, word) in w.iter().enumerate() {
        let negated = w[i.saturating_sub(2)..i].iter().any(|p| is_negator(p));
        if POSITIVE.contains(&word.as_str()) {
            hits += 1;
            if negated {
                neg += 1;
            } else {
                pos += 1;
            }
        } else if NEGATIVE.contains(&word.as_str()) {
            hits += 1;
            if !negated {
                neg += 1;
            }
        } else if word == "neutral" {
            hits += 1;
        }
    }
    if hits == 0 {
        return None;
    }
    let label = match pos.cmp(&neg) {
        std::cmp::Ordering::Greater => Sentiment::Positive,
        std::cmp::Ordering::Less => Sentiment::Negative,
        std::cmp::Ordering::Equal => Sentiment::Neutral,
    };
    Some((label, f64::from(pos - neg) / f64::from(hits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(b: &ScoreBreakdown) -> Vec<(&str, i32)> {
        b.factors.iter().map(|f| (f.key, f.points)).collect()
    }

    #[test]
    fn botox_three_minutes_booked_is_hot() {
        let s = LeadSignals {
            booking_intent: booking_intent("Hi, I'd like to book botox please"),
            booked: true,
            value_cents: 40_000,
            duration_secs: 180,
            sentiment: None,
            returning_caller: false,
        };
        let b = score(&s);
        assert_eq!(b.total, 75);
        assert_eq!(b.tier, Tier::Hot);
        assert_eq!(
            keys(&b),
            vec![
                ("booking_intent", 25),
                ("booked", 30),
                ("value", 10),
                ("duration", 10)
            ]
        );
        assert_eq!(b.factors[2].label, "Service worth $400");
        assert_eq!(b.factors[3].label, "Long call (3 min)");
        // Even if intent detection missed it, a booking implies intent.
        let b = score(&LeadSignals {
            booking_intent: false,
            ..s
        });
        assert_eq!((b.total, b.tier), (75, Tier::Hot));
    }

    #[test]
    fn all_factors_max_is_100_and_min_clamps_to_0() {
        let best = LeadSignals {
            booking_intent: true,
            booked: true,
            value_cents: 800_000,
            duration_secs: 600,
            sentiment: Some(Sentiment::Positive),
            returning_caller: true,
        };
        assert_eq!(score(&best).total, 100);
        let worst = LeadSignals {
            value_cents: -5,
            duration_secs: 3,
            sentiment: Some(Sentiment::Negative),
            ..LeadSignals::default()
        };
        let b = score(&worst);
        assert_eq!((b.total, b.tier), (0, Tier::Cold));
        assert_eq!(keys(&b), vec![("duration", -10), ("sentiment", -10)]);
        assert_eq!(b.factors[0].label, "Very short call (3 s)");
    }

    #[test]
    fn value_and_duration_tiers() {
        let v = |cents| {
            score(&LeadSignals {
                value_cents: cents,
                duration_secs: 30,
                ..Default::default()
            })
            .total
        };
        assert_eq!(
            [
                v(0),
                v(1),
                v(29_999),
                v(30_000),
                v(99_999),
                v(100_000),
                v(499_999),
                v(500_000)
            ],
            [0, 5, 5, 10, 10, 15, 15, 20]
        );
        assert_eq!(v(i64::MAX), 20);
        assert_eq!(v(i64::MIN), 0);
        let d = |secs| {
            score(&LeadSignals {
                duration_secs: secs,
                value_cents: 1_000_000,
                ..Default::default()
            })
            .total
        };
        assert_eq!(
            [
                d(0),
                d(19),
                d(20),
                d(59),
                d(60),
                d(179),
                d(180),
                d(u64::MAX)
            ],
            [10, 10, 20, 20, 25, 25, 30, 30]
        );
    }

    #[test]
    fn tiers() {
        assert_eq!(Tier::from_score(100), Tier::Hot);
        assert_eq!(Tier::from_score(70), Tier::Hot);
        assert_eq!(Tier::from_score(69), Tier::Warm);
        assert_eq!(Tier::from_score(40), Tier::Warm);
        assert_eq!(Tier::from_score(39), Tier::Cold);
        assert_eq!(Tier::from_score(0).as_str(), "cold");
        // Intent + $5,000 service + neutral 1-min call = warm.
        let b = score(&LeadSignals {
            booking_intent: true,
            value_cents: 500_000,
            duration_secs: 90,
            sentiment: Some(Sentiment::Neutral),
            ..Default::default()
        });
        assert_eq!((b.total, b.tier), (50, Tier::Warm));
    }

    #[test]
    fn breakdown_serializes() {
        let b = score(&LeadSignals {
            booked: true,
            returning_caller: true,
            ..Default::default()
        });
        let j = serde_json::to_value(&b).unwrap_or_default();
        assert_eq!(j["tier"], "warm");
        assert_eq!(j["total"], 50);
        assert_eq!(j["factors"][2]["key"], "duration");
        assert_eq!(j["factors"][3]["label"], "Has called before");
    }

    #[test]
    fn money_formatting() {
        assert_eq!(money(0), "$0");
        assert_eq!(money(40_000), "$400");
        assert_eq!(money(750_000), "$7,500");
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(1_050), "$10.50");
    }

    #[test]
    fn sentiment_labels() {
        assert_eq!(
            Sentiment::from_label(" Positive "),
            Some(Sentiment::Positive)
        );
        assert_eq!(Sentiment::from_label("NEGATIVE"), Some(Sentiment::Negative));
        assert_eq!(Sentiment::from_label("neutral"), Some(Sentiment::Neutral));
        assert_eq!(Sentiment::from_label("meh"), None);
        assert_eq!(Sentiment::Negative.as_str(), "negative");
    }

    #[test]
    fn sentiment_heuristic() {
        let f = sentiment_from_text;
        assert_eq!(
            f("The caller was excited and very polite."),
            Some(Sentiment::Positive)
        );
        assert_eq!(
            f("Caller was frustrated and rude about the wait."),
            Some(Sentiment::Negative)
        );
        assert_eq!(
            f("Caller was not happy with the price."),
            Some(Sentiment::Negative)
        );
        assert_eq!(f("She wasn’t upset at all."), Some(Sentiment::Neutral));
        assert_eq!(
            f("Happy, but annoyed by hold music."),
            Some(Sentiment::Neutral)
        );
        assert_eq!(f("Overall neutral."), Some(Sentiment::Neutral));
        assert_eq!(f("Asked about hours."), None);
        assert_eq!(f(""), None);
        let g = sentiment_with_score;
        assert_eq!(
            g("The caller was excited and very polite."),
            Some((Sentiment::Positive, 1.0))
        );
        assert_eq!(
            g("Happy, but annoyed by hold music."),
            Some((Sentiment::Neutral, 0.0))
        );
        assert_eq!(
            g("Pleased with the price, happy with the time, upset by parking."),
            Some((Sentiment::Positive, 1.0 / 3.0))
        );
        assert_eq!(Sentiment::Negative.nominal_score(), -1.0);
    }

    #[test]
    fn booking_intent_keywords() {
        // booking_intent keeps the last three words.
        assert!(INTENT_PHRASES.iter().all(|p| p.len() <= 3));
        for t in [
            "Can I book a facelift?",
            "What's your availability next week",
            "How much is lip filler?",
            "I'd like to come in for a consult",
            "Could you fit me in Friday?",
            "what does it cost",
            "Do you have any openings",
            "CAN YOU FIT ME IN",
            "ok. Next,\navailable?",
            "‘book’ it",
        ] {
            assert!(booking_intent(t), "{t}");
        }
        for t in [
            "",
            "What are your hours?",
            "Wrong number, sorry",
            "the facebook page",
            "bookshelf",
            "fit in, me",
            "how's much",
        ] {
            assert!(!booking_intent(t), "{t}");
        }
    }
}
