//! Matching what a caller said to the clinic's services catalogue.
//!
//! Owns keyword normalisation for the service editor, "which service did they
//! mean" for a short query, and "which services came up" for a whole transcript.
//!
//! # Matching rules (shown to staff)
//!
//! * Every service is matched by its **name** and by each of its **keywords**
//!   (together: its *terms*).
//! * Text is compared **word by word**, ignoring case, accents (é → e) and
//!   punctuation: "Botox®", "BOTOX" and "botox," all read as `botox`, and
//!   "anti-wrinkle" reads the same as "anti wrinkle". A term never matches
//!   inside a longer word: "lipo" does not match "tulipop".
//! * Simple plurals match the singular: "fillers", "facelifts",
//!   "breast augmentations" and "nose jobs" match "filler", "facelift",
//!   "breast augmentation" and "nose job".
//! * A multi-word term matches only when its words appear together, in order.
//! * **The most specific term wins**: more words beats fewer words; with the same
//!   number of words, more letters wins. If two services still tie, the one
//!   listed first in the catalogue wins.
//! * In a transcript, each matched term **uses up its words**. The most
//!   specific matches are taken first, and a less specific term cannot reuse a
//!   word that is already used. So "breast augmentation consultation" counts
//!   as Breast Augmentation *and* Consultation, because "consultation" is a
//!   word of its own that no more specific term used; but "lip augmentation"
//!   counts only as Fillers, because its word "augmentation" is used up and
//!   does not also count for Breast Augmentation's keyword "augmentation".
//!   Each service is listed once, in the order of its first counted mention.

use std::collections::{HashMap, HashSet};

/// One catalogue entry as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceTerms<'a> {
    pub name: &'a str,
    pub keywords: &'a [String],
}

/// Splits the staff-entered keyword box into clean keywords.
pub fn normalise_keywords(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in raw.split([',', '\n', '\r']) {
        let kw = piece
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if !kw.is_empty() && !out.contains(&kw) {
            out.push(kw);
        }
    }
    out
}

/// A service as staff typed it, checked: a name of 1–80 characters, a price of at least zero
/// (whole cents), a duration of 5–720 minutes and at most 30 normalised keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDraft {
    pub name: String,
    pub price_cents: i64,
    pub duration_minutes: u32,
    pub keywords: Vec<String>,
}

impl ServiceDraft {
    pub fn parse(name: &str, price: &str, duration: &str, keywords: &str) -> Result<Self, String> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() || name.chars().count() > 80 {
            return Err("The service name must be 1 to 80 characters".into());
        }
        let price_cents = parse_price_cents(price)
            .ok_or_else(|| format!("“{}” is not a price like 400 or 1,250.50", price.trim()))?;
        let duration_minutes = match duration.trim().parse::<u32>() {
            Ok(m) if (5..=720).contains(&m) => m,
            _ => return Err("The duration must be a whole number of minutes from 5 to 720".into()),
        };
        let keywords = normalise_keywords(keywords);
        if keywords.len() > 30 || keywords.iter().any(|k| k.chars().count() > 60) {
            return Err("Use at most 30 keywords of up to 60 characters each".into());
        }
        Ok(Self {
            name,
            price_cents,
            duration_minutes,
            keywords,
        })
    }
}

/// "400", "$1,250.50", "99.9" → cents; None for anything negative, malformed or absurd
/// (above $10,000,000).
pub fn parse_price_cents(raw: &str) -> Option<i64> {
    let t = raw.trim().trim_start_matches('$').replace(',', "");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || whole.len() > 8
    {
        return None;
    }
    let dollars: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let total = dollars.checked_mul(100)?.checked_add(cents)?;
    (total <= 1_000_000_000).then_some(total)
}

/// The service the query most specifically names, if any.
pub fn best_match(query: &str, services: &[ServiceTerms]) -> Option<usize> {
    let words = tokenize(query);
    if words.is_empty() {
        return None;
    }
    // A query is a few words (and this runs on every booking call), so each term is looked
    // for in it directly: building the first-word index `mentioned` uses for transcripts
    // would cost more than it saves. A term can only match where its first word does, and a
    // word's stem keeps its first letter, so a term whose first letter starts no query word
    // is passed over without tokenizing it.
    let firsts: Vec<char> = words.iter().filter_map(|w| w.stem.chars().next()).collect();
    let mut best: Option<(Spec, usize)> = None;
    for (service, s) in services.iter().enumerate() {
        for raw in std::iter::once(s.name).chain(s.keywords.iter().map(String::as_str)) {
            if first_letter(raw).is_none_or(|c| !firsts.contains(&c)) {
                continue;
            }
            let term = tokenize(raw);
            let found = !term.is_empty()
                && words
                    .windows(term.len())
                    .any(|at| at.iter().zip(&term).all(|(w, t)| w.stem == t.stem));
            if !found {
                continue;
            }
            let spec = (term.len(), term.iter().map(|t| t.letters).sum());
            // Services are visited in catalogue order, so on a tie the earlier one stays.
            if best.is_none_or(|(b, _)| spec > b) {
                best = Some((spec, service));
            }
        }
    }
    best.map(|(_, svc)| svc)
}

/// Every service mentioned in `text`, once each, in order of first mention.
pub fn mentioned(text: &str, services: &[ServiceTerms]) -> Vec<usize> {
    let index = TermIndex::build(services);
    // A transcript is long and most of its words cannot be part of any term: those are kept
    // only as placeholders (they still separate the words around them).
    let words = tokenize_keeping(text, Some(&index.first_letters));
    // (spec, start, len, service)
    let mut hits: Vec<(Spec, usize, usize, usize)> = Vec::new();
    for start in 0..words.len() {
        if words[start].stem.is_empty() {
            continue; // a placeholder: no term starts here
        }
        for term in index.candidates(&words, start) {
            hits.push((term.spec, start, term.words.len(), term.service));
        }
    }
    // Most specific first; earlier position, then earlier service, breaks ties.
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.3.cmp(&b.3)));
    let mut used = vec![false; words.len()];
    let mut first_seen: Vec<Option<usize>> = vec![None; services.len()];
    for (_, start, len, svc) in hits {
        let span = start..start + len;
        if used[span.clone()].iter().any(|u| *u) {
            continue;
        }
        used[span].iter_mut().for_each(|u| *u = true);
        if let Some(slot) = first_seen.get_mut(svc) {
            if slot.is_none_or(|p| start < p) {
                *slot = Some(start);
            }
        }
    }
    let mut order: Vec<(usize, usize)> = first_seen
        .iter()
        .enumerate()
        .filter_map(|(svc, pos)| pos.map(|p| (p, svc)))
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, svc)| svc).collect()
}

/// Term specificity: (word count, letter count). Larger is more specific.
type Spec = (usize, usize);

struct Term {
    words: Vec<String>,
    spec: Spec,
    service: usize,
}

/// Terms bucketed by first word so a transcript is scanned once.
struct TermIndex {
    by_first: HashMap<String, Vec<Term>>,
    /// The first letter of every word of every term.
    first_letters: Letters,
}

impl TermIndex {
    fn build(services: &[ServiceTerms]) -> Self {
        let mut by_first: HashMap<String, Vec<Term>> = HashMap::new();
        let mut first_letters = Letters::default();
        for (service, s) in services.iter().enumerate() {
            let terms = std::iter::once(s.name).chain(s.keywords.iter().map(String::as_str));
            for raw in terms {
                let toks = tokenize(raw);
                let Some(first) = toks.first() else { continue };
                let key = first.stem.clone();
                let spec = (toks.len(), toks.iter().map(|t| t.letters).sum());
                let words: Vec<String> = toks.into_iter().map(|t| t.stem).collect();
                words
                    .iter()
                    .filter_map(|w| w.chars().next())
                    .for_each(|c| first_letters.insert(c));
                let bucket = by_first.entry(key).or_default();
                if !bucket
                    .iter()
                    .any(|t| t.service == service && t.words == words)
                {
                    bucket.push(Term {
                        words,
                        spec,
                        service,
                    });
                }
            }
        }
        TermIndex {
            by_first,
            first_letters,
        }
    }

    /// Terms that match `words` starting at `start`.
    fn candidates<'s>(
        &'s self,
        words: &'s [Token],
        start: usize,
    ) -> impl Iterator<Item = &'s Term> {
        let bucket = words
            .get(start)
            .and_then(|w| self.by_first.get(&w.stem))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        bucket.iter().filter(move |t| {
            words
                .get(start..start + t.words.len())
                .is_some_and(|ws| ws.iter().zip(&t.words).all(|(w, tw)| &w.stem == tw))
        })
    }
}

struct Token {
    stem: String,
    letters: usize,
}

/// Splits into lowercase, accent-folded words; apostrophes join ("don't"),
/// a possessive "'s" is dropped, everything else separates.
fn tokenize(text: &str) -> Vec<Token> {
    tokenize_keeping(text, None)
}

/// The first letter of the first word [`tokenize`] would find in `text`, as it appears in
/// that word's stem.
fn first_letter(text: &str) -> Option<char> {
    folded(text.chars().find(|c| c.is_alphanumeric())?)
}

/// [`tokenize`]; with `keep`, a word whose first letter is not in it becomes a placeholder
/// token (empty stem, which matches no term word) without being stemmed.
/// A set of letters with a table for ASCII, which is nearly every word of a transcript.
struct Letters {
    ascii: [bool; 128],
    other: HashSet<char>,
}

impl Default for Letters {
    fn default() -> Self {
        Letters {
            ascii: [false; 128],
            other: HashSet::new(),
        }
    }
}

impl Letters {
    fn insert(&mut self, c: char) {
        match self.ascii.get_mut(c as usize) {
            Some(slot) => *slot = true,
            None => {
                self.other.insert(c);
            }
        }
    }

    fn contains(&self, c: char) -> bool {
        self.ascii
            .get(c as usize)
            .copied()
            .unwrap_or_else(|| self.other.contains(&c))
    }
}

fn tokenize_keeping(text: &str, keep: Option<&Letters>) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    // Inside a word; `skipping` when its first letter rules it out, so its letters are not
    // even collected (most of a long transcript).
    let (mut in_word, mut skipping) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if !in_word {
                in_word = true;
                skipping = keep.is_some_and(|k| folded(c).is_some_and(|f| !k.contains(f)));
            }
            if !skipping {
                push_folded(&mut cur, c);
            }
        } else if (c == '\'' || c == '\u{2019}')
            && in_word
            && chars.peek().is_some_and(|n| n.is_alphanumeric())
        {
            // Apostrophe inside a word: keep joining, but mark possessives.
            if !skipping {
                cur.push('\'');
            }
        } else {
            end_word(&mut cur, &mut out, skipping);
            (in_word, skipping) = (false, false);
        }
    }
    end_word(&mut cur, &mut out, skipping);
    out
}

/// The first char `c` contributes to a stem: lowercased, accent-folded.
fn folded(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c.to_ascii_lowercase());
    }
    c.to_lowercase().next().map(fold_accent)
}

fn push_folded(cur: &mut String, c: char) {
    if c.is_ascii() {
        cur.push(c.to_ascii_lowercase());
    } else {
        for l in c.to_lowercase() {
            cur.push(fold_accent(l));
        }
    }
}

/// Ends the current word: a placeholder for a skipped word, else the word itself.
fn end_word(cur: &mut String, out: &mut Vec<Token>, skipping: bool) {
    if skipping {
        out.push(Token {
            stem: String::new(),
            letters: 0,
        });
    } else {
        flush(cur, out);
    }
}

fn flush(cur: &mut String, out: &mut Vec<Token>) {
    if cur.is_empty() {
        return;
    }
    let mut word = std::mem::take(cur);
    if word.ends_with("'s") {
        word.truncate(word.len() - 2);
    }
    word.retain(|c| c != '\'');
    if word.is_empty() {
        return;
    }
    let letters = word.chars().count();
    out.push(Token {
        stem: stem(&word),
        letters,
    });
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        _ => c,
    }
}

/// Reduces singular and plural to one key. Both sides of every comparison go
/// through this, so the stem only has to be consistent, not a real word
/// ("nose" and "noses" both become "nos").
fn stem(word: &str) -> String {
    let n = word.len();
    let mut w: &str = word;
    let owned;
    if n >= 5 && w.ends_with("ies") {
        owned = format!("{}y", &w[..n - 3]);
        w = &owned;
    } else if n >= 4
        && w.ends_with("es")
        && ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|s| w[..n - 2].ends_with(s))
    {
        w = &w[..n - 2];
    } else if n >= 4
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        w = &w[..n - 1];
    }
    if w.len() >= 4 && w.ends_with('e') {
        w = &w[..w.len() - 1];
    }
    w.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn prices_and_service_drafts() {
        use super::{parse_price_cents, ServiceDraft};
        assert_eq!(parse_price_cents("400"), Some(40_000));
        assert_eq!(parse_price_cents("$1,250.50"), Some(125_050));
        assert_eq!(parse_price_cents("99.9"), Some(9_990));
        assert_eq!(parse_price_cents(".5"), Some(50));
        assert_eq!(parse_price_cents("0"), Some(0));
        for bad in ["", "-5", "abc", "1.234", "1e3", "$", ".", "99999999999"] {
            assert_eq!(parse_price_cents(bad), None, "{bad}");
        }
        let d =
            ServiceDraft::parse("  Lip   Filler ", "650", "45", "Lips, LIP filler,lips").unwrap();
        assert_eq!(d.name, "Lip Filler");
        assert_eq!(d.price_cents, 65_000);
        assert_eq!(d.keywords, vec!["lips", "lip filler"]);
        assert!(ServiceDraft::parse("", "1", "30", "").is_err());
        assert!(ServiceDraft::parse("X", "-1", "30", "").is_err());
        assert!(ServiceDraft::parse("X", "1", "4", "").is_err());
        assert!(ServiceDraft::parse("X", "1", "721", "").is_err());
    }

    use super::*;
    use crate::domain::clinic_type::{ClinicType, StartingService};

    type Owned<'a> = Vec<(&'a str, Vec<String>)>;

    fn kw(list: &str) -> Vec<String> {
        list.split('|').map(str::to_string).collect()
    }

    fn defaults() -> Owned<'static> {
        let own = |d: StartingService| (d.name, d.keywords.iter().map(|k| k.to_string()).collect());
        ClinicType::PlasticSurgery
            .starting_services()
            .into_iter()
            .map(own)
            .collect()
    }

    fn terms<'a>(o: &'a Owned) -> Vec<ServiceTerms<'a>> {
        let t = |(name, keywords): &'a (&str, Vec<String>)| ServiceTerms { name, keywords };
        o.iter().map(t).collect()
    }

    fn best(q: &str) -> Option<&'static str> {
        let d = defaults();
        best_match(q, &terms(&d)).map(|i| d[i].0)
    }

    fn ments(text: &str) -> Vec<&'static str> {
        let d = defaults();
        mentioned(text, &terms(&d))
            .into_iter()
            .map(|i| d[i].0)
            .collect()
    }

    #[test]
    fn normalise_keywords_cleans_and_dedupes() {
        let got = normalise_keywords(" Botox , ANTI   wrinkle\n\r\n,botox,  ,Dysport\tPen,");
        assert_eq!(got, vec!["botox", "anti wrinkle", "dysport pen"]);
        assert!(normalise_keywords("").is_empty());
        assert!(normalise_keywords(",,\n , ").is_empty());
    }

    #[test]
    fn best_match_case_punctuation_and_boundaries() {
        for (q, want) in [
            ("I want BOTOX please", Some("Botox")),
            ("Botox®", Some("Botox")),
            ("botox's price?", Some("Botox")),
            ("anti wrinkle", Some("Botox")),
            ("a Juvéderm top-up", Some("Fillers")),
            ("lipo-suction", Some("Liposuction")),
            ("tulipop", None),
            ("filleroo", None),
            ("", None),
            ("what are your hours", None),
        ] {
            assert_eq!(best(q), want, "{q}");
        }
    }

    #[test]
    fn plurals() {
        for (q, want) in [
            ("fillers", "Fillers"),
            ("facelifts", "Facelift"),
            ("liposuctions", "Liposuction"),
            ("breast augmentations", "Breast Augmentation"),
            ("nose jobs", "Rhinoplasty"),
            ("consultations", "Consultation"),
            ("assessments", "Consultation"),
            ("breast implant", "Breast Augmentation"),
        ] {
            assert_eq!(best(q), Some(want), "{q}");
        }
    }

    #[test]
    fn most_specific_wins_and_ties_go_first() {
        assert_eq!(
            best("breast augmentation consultation"),
            Some("Breast Augmentation")
        );
        assert_eq!(best("lip augmentation"), Some("Fillers"));
        assert_eq!(best("consult about a nose job"), Some("Rhinoplasty"));
        let same: Owned = vec![("A", kw("peel")), ("B", kw("peel"))];
        assert_eq!(best_match("a peel", &terms(&same)), Some(0));
        // Same word count: more letters wins, even over an earlier service.
        let letters: Owned = vec![("Hair", kw("hair")), ("Laser", kw("laser"))];
        assert_eq!(best_match("laser hair removal", &terms(&letters)), Some(1));
    }

    #[test]
    fn name_counts_as_term_and_empty_terms_ignored() {
        let s: Owned = vec![("Hydrafacial", kw("| |®"))];
        assert_eq!(best_match("book a hydrafacial", &terms(&s)), Some(0));
        assert_eq!(best_match("anything", &terms(&s)), None);
        let empty: Owned = vec![("", kw("| |®"))];
        assert_eq!(best_match("", &terms(&empty)), None);
        assert!(mentioned("x", &terms(&empty)).is_empty());
        assert!(mentioned("x", &[]).is_empty());
    }

    #[test]
    fn mentioned_consumes_words() {
        for (text, want) in [
            (
                "breast augmentation consultation",
                vec!["Breast Augmentation", "Consultation"],
            ),
            (
                "I'd like a breast augmentation",
                vec!["Breast Augmentation"],
            ),
            ("lip filler", vec!["Fillers"]),
            ("lip augmentation", vec!["Fillers"]),
            (
                "augmentation, and later lip augmentation",
                vec!["Breast Augmentation", "Fillers"],
            ),
            ("tulipop tulipop", vec![]),
            ("", vec![]),
        ] {
            assert_eq!(ments(text), want, "{text}");
        }
    }

    #[test]
    fn mentioned_order_and_dedupe() {
        let t = "Hi, I'm asking about Dysport. Also lipo? And botox again, plus a nose job \
                 and maybe fillers. Botox botox.";
        assert_eq!(
            ments(t),
            vec!["Botox", "Liposuction", "Rhinoplasty", "Fillers"]
        );
        let shared: Owned = vec![("Chemical", kw("peel")), ("Other", kw("peel"))];
        assert_eq!(mentioned("a peel", &terms(&shared)), vec![0]);
        // Words that can start no term still keep the others apart.
        assert_eq!(ments("my nose, the surgery was fine"), Vec::<&str>::new());
        assert_eq!(
            ments("a nose surgery and a boob job"),
            vec!["Rhinoplasty", "Breast Augmentation"]
        );
    }

    #[test]
    fn mentioned_large_transcript_is_fast() {
        let chunk = "caller: hi there I was wondering about the price of a facelift and whether \
                     you have availability next week for a consult. ";
        let text = chunk.repeat(20_000 / chunk.len() + 1);
        let t0 = std::time::Instant::now();
        assert_eq!(ments(&text), vec!["Facelift", "Consultation"]);
        assert!(t0.elapsed().as_secs() < 2);
    }

    #[test]
    fn first_letter_is_the_first_letter_of_the_first_stem() {
        let d = defaults();
        let mut texts: Vec<&str> = d.iter().map(|(n, _)| *n).collect();
        texts.extend(d.iter().flat_map(|(_, k)| k.iter().map(String::as_str)));
        texts.extend([
            "Juvéderm",
            "  ®Botox",
            "'s peel",
            "ÉCLAT",
            "İnce",
            "O'Brien's",
            "42 lasers",
        ]);
        for t in texts {
            let stem = tokenize(t).first().and_then(|w| w.stem.chars().next());
            assert_eq!(first_letter(t), stem, "{t}");
        }
        assert_eq!(first_letter(" ®- "), None);
    }

    #[test]
    fn stem_is_symmetric_for_common_plurals() {
        for (a, b) in [
            ("nose", "noses"),
            ("face", "faces"),
            ("glass", "glasses"),
            ("box", "boxes"),
            ("surgery", "surgeries"),
            ("lash", "lashes"),
            ("implant", "implants"),
        ] {
            assert_eq!(stem(a), stem(b), "{a}/{b}");
        }
        assert_eq!(stem("botox"), "botox");
        assert_eq!(stem("is"), "is");
    }

    #[test]
    fn the_plastic_surgery_catalogue_is_the_original_seven() {
        let d = ClinicType::PlasticSurgery.starting_services();
        let summary: Vec<_> = d
            .iter()
            .map(|s| (s.name, s.duration_minutes, s.price_cents))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Botox", 30, 40_000),
                ("Facelift", 180, 800_000),
                ("Rhinoplasty", 150, 600_000),
                ("Breast Augmentation", 120, 750_000),
                ("Liposuction", 120, 500_000),
                ("Fillers", 45, 50_000),
                ("Consultation", 30, 15_000),
            ]
        );
        for svc in &d {
            // Already normalised: the keyword editor would keep them as they are.
            assert_eq!(normalise_keywords(&svc.keywords.join(",")), svc.keywords);
        }
    }

    #[test]
    fn total_on_odd_input() {
        for t in [
            "'",
            "''s",
            "'s botox",
            "\u{0}\u{ffff}𝔹otox",
            "ßs",
            "İstanbul lipo",
            "a'",
            "ies",
            "ses",
        ] {
            let _ = best(t);
            let _ = ments(t);
            let _ = normalise_keywords(t);
        }
    }
}
