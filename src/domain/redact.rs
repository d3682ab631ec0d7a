//! Redaction of identity and payment data from transcripts before they are stored.
//!
//! What is replaced:
//! * **SSN** → `[redacted SSN]`: `123-45-6789` or `123 45 6789` anywhere, and any
//!   9-digit number (`123456789`, `1 2 3 4 5 6 7 8 9`) when "social" or "SSN" appears
//!   in the 40 characters before it with no other number in between.
//! * **Card** → `[redacted card]`: 13–19 digits that pass the Luhn check, written
//!   together or in groups split by spaces or dashes (`4111 1111 1111 1111`,
//!   `4-1-1-1…`, `4 1 1 1 …`). When a whole digit stretch is not a card (e.g. a
//!   card followed by its CVV) only card-shaped parts of it are tried: one block,
//!   4-4-4-4(+1..4 digits), Amex/Diners 4-6-5 / 4-6-4, and single spoken digits
//!   (these only in stretches longer than 19 digits).
//! * **Date of birth** → `[redacted date of birth]`: a date right after "date of
//!   birth", "birth date", "DOB", "born" or "birthday" (small words like "is", "on",
//!   "the" may sit between). Dates: `04/12/1985`, `1985-04-12`, `12 April 1985`,
//!   `12th of April, 1985`, `April 12, 1985`, `Apr 12`, `April 1985`.
//!
//! What is left alone: numbers touching a letter or `+` (phone numbers in E.164),
//! decimals and times (`4111.5`, `10:30`), and digit stretches that fail Luhn.
//!
//! `redact` is idempotent: labels contain no digits, a label ends every lookback,
//! and intro words inside a label are ignored.

use serde_json::Value;

const SSN_LABEL: &str = "[redacted SSN]";
const CARD_LABEL: &str = "[redacted card]";
const DOB_LABEL: &str = "[redacted date of birth]";

/// How far back (in characters) "social"/"SSN" may introduce a bare 9-digit number.
const SSN_INTRO_WINDOW: usize = 40;

/// A cheap, conservative test run before the real scan: `false` only when no pattern can
/// match. A card or SSN needs at least nine digits in one stretch (digit groups joined by up
/// to three spaces, dashes, tabs or no-break spaces), and a date of birth needs an introduction,
/// every one of which contains "birth", "dob", "d.o.b" or "born" (matched ASCII
/// case-insensitively, as `word_at` does). Most transcripts hold neither and skip the scan.
fn may_hold_pattern(text: &str) -> bool {
    let b = text.as_bytes();
    // One pass: digits counted across joiner bytes (' ', '-', '\t' and the two bytes of
    // U+00A0; three joiner characters are at most six bytes, and allowing six of any joiner
    // byte only makes the test looser); any other byte ends the stretch. A byte-class table
    // keeps the common case (a letter that is not b or d) to one load and one compare.
    let (mut digits, mut gap) = (0usize, 0usize);
    for (i, &c) in b.iter().enumerate() {
        match BYTE_CLASS[c as usize] {
            OTHER => (digits, gap) = (0, 0),
            DIGIT => {
                digits = if gap > 6 { 1 } else { digits + 1 };
                gap = 0;
                if digits >= 9 {
                    return true;
                }
            }
            JOINER => gap += 1,
            _ => {
                (digits, gap) = (0, 0);
                if intro_word_at(&b[i..]) {
                    return true;
                }
            }
        }
    }
    false
}

const OTHER: u8 = 0;
const DIGIT: u8 = 1;
const JOINER: u8 = 2;
/// b, B, d or D: where an introduction ("birth", "dob", "d.o.b", "born") may start.
const INTRO: u8 = 3;

const BYTE_CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = DIGIT;
        d += 1;
    }
    t[b' ' as usize] = JOINER;
    t[b'-' as usize] = JOINER;
    t[b'\t' as usize] = JOINER;
    t[0xC2] = JOINER;
    t[0xA0] = JOINER;
    t[b'b' as usize] = INTRO;
    t[b'B' as usize] = INTRO;
    t[b'd' as usize] = INTRO;
    t[b'D' as usize] = INTRO;
    t
};

fn intro_word_at(b: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 4] = [b"birth", b"dob", b"d.o.b", b"born"];
    NEEDLES
        .iter()
        .any(|n| b.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n)))
}

/// Replaces SSNs, card numbers and introduced dates of birth with labels.
pub fn redact(text: &str) -> String {
    if !may_hold_pattern(text) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let spans = find(&chars);
    let mut out = String::with_capacity(text.len() + 16 * spans.len());
    let mut at = 0;
    for s in spans {
        out.extend(&chars[at..s.start]);
        out.push_str(s.label);
        at = s.end;
    }
    out.extend(&chars[at..]);
    out
}

/// True when `redact` would change something.
pub fn contains_sensitive(text: &str) -> bool {
    if !may_hold_pattern(text) {
        return false;
    }
    let chars: Vec<char> = text.chars().collect();
    !find(&chars).is_empty()
}

/// Redacts every string value in place (object keys are left as they are).
pub fn redact_json(v: &mut Value) {
    match v {
        Value::String(s) if contains_sensitive(s) => *s = redact(s),
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

/// Half-open range of char indices and the label that replaces it.
struct Span {
    start: usize,
    end: usize,
    label: &'static str,
}

fn find(c: &[char]) -> Vec<Span> {
    let mut in_label = vec![false; c.len()];
    for i in (0..c.len()).filter(|&i| c[i] == '[') {
        for l in [SSN_LABEL, CARD_LABEL, DOB_LABEL] {
            let n = l.chars().count();
            if c[i..].iter().take(n).copied().eq(l.chars()) {
                in_label[i..i + n].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let mut spans = find_dob(c, &in_label);
    // Date digits are off limits to the number scanner, exactly as a label's
    // `]` would be on a second pass.
    let mut masked = vec![false; c.len()];
    for s in &spans {
        masked[s.start..s.end].iter_mut().for_each(|m| *m = true);
    }
    spans.extend(find_numbers(c, &masked));
    spans.sort_by_key(|s| s.start);
    spans
}

// ---------------------------------------------------------------- numbers

/// A block of digits: char range, plus where its digits start in the run.
struct Group {
    start: usize,
    end: usize,
    at: usize,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// A stretch of digit groups joined by up to three spaces/dashes.
struct Run<'a> {
    c: &'a [char],
    masked: &'a [bool],
    groups: Vec<Group>,
    digits: Vec<u8>,
    /// Whether the gap after group k is a single '-' or ' ' (SSN style).
    ssn_gap: Vec<bool>,
}

fn digit_at(c: &[char], masked: &[bool], i: usize) -> bool {
    i < c.len() && c[i].is_ascii_digit() && !masked[i]
}

fn find_numbers(c: &[char], masked: &[bool]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !digit_at(c, masked, i) {
            i += 1;
            continue;
        }
        let mut run = Run {
            c,
            masked,
            groups: Vec::new(),
            digits: Vec::new(),
            ssn_gap: Vec::new(),
        };
        let mut j = i;
        loop {
            let (start, at) = (j, run.digits.len());
            while digit_at(c, masked, j) {
                run.digits.push(c[j].to_digit(10).map_or(0, |d| d as u8));
                j += 1;
            }
            run.groups.push(Group { start, end: j, at });
            let mut k = j;
            while k < c.len()
                && k - j < 3
                && !masked[k]
                && matches!(c[k], ' ' | '-' | '\t' | '\u{a0}')
            {
                k += 1;
            }
            if k == j || !digit_at(c, masked, k) {
                break;
            }
            run.ssn_gap.push(k - j == 1 && matches!(c[j], ' ' | '-'));
            j = k;
        }
        if standalone(c, masked, i, j) {
            run.eval(&mut out);
        }
        i = j;
    }
    out
}

/// Rejects runs glued to letters, to a leading `+` (E.164 phones) or to
/// decimal/time/date punctuation that continues with more digits.
fn standalone(c: &[char], masked: &[bool], start: usize, end: usize) -> bool {
    let glued = |p: usize, q: Option<usize>| {
        !masked[p]
            && (c[p].is_alphanumeric()
                || (matches!(c[p], '.' | ',' | '/' | ':')
                    && q.is_some_and(|q| digit_at(c, masked, q))))
    };
    let before = start
        .checked_sub(1)
        .is_some_and(|p| glued(p, p.checked_sub(1)) || (!masked[p] && c[p] == '+'));
    let after = end < c.len() && glued(end, Some(end + 1));
    !before && !after
}

impl Run<'_> {
    /// After carving out a card, what is left on each side is judged as a run
    /// of its own, which is exactly how a second pass will see it.
    fn eval(&self, out: &mut Vec<Span>) {
        let n = self.groups.len();
        let mut a = 0;
        while a < n {
            if let Some(label) = self.whole(a, n) {
                out.push(self.span(a, n, label));
                return;
            }
            let Some((s, e)) = self.card_window(a) else {
                return;
            };
            if let Some(label) = self.whole(a, s) {
                out.push(self.span(a, s, label));
            }
            out.push(self.span(s, e, CARD_LABEL));
            a = e;
        }
    }

    fn span(&self, a: usize, b: usize, label: &'static str) -> Span {
        Span {
            start: self.groups[a].start,
            end: self.groups[b - 1].end,
            label,
        }
    }

    fn digits(&self, a: usize, b: usize) -> &[u8] {
        let g = &self.groups[b - 1];
        &self.digits[self.groups[a].at..g.at + g.len()]
    }

    fn whole(&self, a: usize, b: usize) -> Option<&'static str> {
        if a >= b {
            return None;
        }
        let d = self.digits(a, b);
        if (13..=19).contains(&d.len()) && luhn(d) {
            Some(CARD_LABEL)
        } else if d.len() == 9 && self.ssn_introduced(self.groups[a].start) {
            Some(SSN_LABEL)
        } else if let [x, y, z] = &self.groups[a..b] {
            let shape = x.len() == 3 && y.len() == 2 && z.len() == 4;
            (shape && self.ssn_gap[a] && self.ssn_gap[a + 1]).then_some(SSN_LABEL)
        } else {
            None
        }
    }

    /// First (then longest) card-shaped, Luhn-valid window of a run that failed
    /// as a whole. Single-digit windows are only tried in runs longer than any
    /// card, or a spoken non-Luhn 16-digit number could lose a lucky prefix.
    fn card_window(&self, a: usize) -> Option<(usize, usize)> {
        let singles_ok = self.digits.len() - self.groups[a].at > 19;
        (a..self.groups.len()).find_map(|s| {
            (s + 1..=self.groups.len())
                .take_while(|&e| self.digits(s, e).len() <= 19)
                .filter(|&e| self.digits(s, e).len() >= 13)
                .filter(|&e| card_shaped(&self.groups[s..e], singles_ok) && luhn(self.digits(s, e)))
                .last()
                .map(|e| (s, e))
        })
    }

    /// Looks back over text no redaction can change (it stops at any digit,
    /// `]` or date) for "social" or "ssn" as a word.
    fn ssn_introduced(&self, start: usize) -> bool {
        let c = self.c;
        let mut from = start;
        while from > 0 && start - from < SSN_INTRO_WINDOW {
            let p = from - 1;
            if self.masked[p] || c[p].is_ascii_digit() || c[p] == ']' {
                break;
            }
            from = p;
        }
        let tail = &c[from..start];
        (0..tail.len()).any(|i| {
            (i == 0 || !tail[i - 1].is_alphanumeric())
                && (word_at(tail, i, "social").is_some() || word_at(tail, i, "ssn").is_some())
        })
    }
}

fn card_shaped(g: &[Group], singles_ok: bool) -> bool {
    match g {
        [_] => true,
        [a, b, c] if a.len() == 4 && b.len() == 6 && matches!(c.len(), 4 | 5) => true,
        _ if g.iter().all(|x| x.len() == 1) => singles_ok,
        [init @ .., last] if init.len() >= 3 => {
            init.iter().all(|x| x.len() == 4) && last.len() <= 4
        }
        _ => false,
    }
}

fn luhn(d: &[u8]) -> bool {
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                DOUBLED.get(usize::from(x)).copied().unwrap_or(0)
            } else {
                u32::from(x)
            }
        })
        .sum();
    !d.is_empty() && sum.is_multiple_of(10)
}

/// Case-insensitive `w` at `i`, ending on a word boundary; returns its end.
fn word_at(c: &[char], i: usize, w: &str) -> Option<usize> {
    let n = w.chars().count();
    let hit = c
        .get(i..i + n)?
        .iter()
        .zip(w.chars())
        .all(|(a, b)| a.eq_ignore_ascii_case(&b));
    (hit && boundary(c, i + n)).then_some(i + n)
}

// ---------------------------------------------------------------- dates of birth

/// Each starts with "d" or "b" (`find_dob` relies on it).
const DOB_INTROS: &str = "date of birth|birth date|birthdate|birthday|dob|d.o.b|born";

const FILLER: &str = "is was on the it its it's it\u{2019}s in be my";

const MONTHS: &str = concat!(
    "january february march april may june july august september october november december ",
    "jan feb mar apr jun jul aug sep sept oct nov dec",
);

fn find_dob(c: &[char], in_label: &[bool]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let at_word = c[i].is_alphabetic() && (i == 0 || !c[i - 1].is_alphanumeric());
        // Every introduction starts with "d" or "b": most words are ruled out by one compare.
        if at_word && matches!(c[i], 'd' | 'D' | 'b' | 'B') && !in_label[i] {
            if let Some((s, e)) = DOB_INTROS
                .split('|')
                .find_map(|p| phrase_at(c, i, p))
                .and_then(|after| date_after_intro(c, after))
            {
                out.push(Span {
                    start: s,
                    end: e,
                    label: DOB_LABEL,
                });
                i = e;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn phrase_at(c: &[char], i: usize, phrase: &str) -> Option<usize> {
    let mut j = i;
    for (n, w) in phrase.split(' ').enumerate() {
        if n > 0 {
            let k = j;
            while j < c.len() && (c[j].is_whitespace() || c[j] == '-') {
                j += 1;
            }
            if j == k {
                return None;
            }
        }
        j = word_at(c, j, w)?;
    }
    Some(j)
}

/// Skips punctuation and small words, then parses a date; returns its span.
fn date_after_intro(c: &[char], mut i: usize) -> Option<(usize, usize)> {
    let limit = i + 40;
    let mut words = 0;
    while i < c.len() && i < limit {
        let ch = c[i];
        if ch.is_whitespace() || matches!(ch, ':' | '-' | '=' | ',' | '.') {
            i += 1;
        } else if ch.is_alphabetic() && words < 4 {
            let mut j = i;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '\'' || c[j] == '\u{2019}') {
                j += 1;
            }
            let w: String = c[i..j].iter().flat_map(|x| x.to_lowercase()).collect();
            if !FILLER.split(' ').any(|f| f == w) {
                break;
            }
            words += 1;
            i = j;
        } else {
            break;
        }
    }
    let end = parse_date(c, i)?;
    Some((i, end))
}

/// Reads up to `max` ASCII digits; fails if more digits follow.
fn number(c: &[char], i: usize, max: usize) -> Option<(u32, usize, usize)> {
    let mut j = i;
    let mut v: u32 = 0;
    while j < c.len() && c[j].is_ascii_digit() {
        if j - i == max {
            return None;
        }
        v = v * 10 + c[j].to_digit(10).unwrap_or(0);
        j += 1;
    }
    (j > i).then_some((v, j - i, j))
}

fn boundary(c: &[char], i: usize) -> bool {
    i >= c.len() || !c[i].is_alphanumeric()
}

fn parse_date(c: &[char], i: usize) -> Option<usize> {
    if c.get(i)?.is_ascii_digit() {
        numeric_date(c, i).or_else(|| day_month_date(c, i))
    } else {
        month_first_date(c, i)
    }
}

/// `04/12/1985`, `4-12-85`, `1985-04-12`, `12.04.1985`.
fn numeric_date(c: &[char], i: usize) -> Option<usize> {
    let (a, alen, j) = number(c, i, 4)?;
    let sep = *c.get(j)?;
    if !matches!(sep, '/' | '-' | '.') {
        return None;
    }
    let (b, _, j) = number(c, j + 1, 2)?;
    if c.get(j) != Some(&sep) {
        return None;
    }
    let (y, ylen, end) = number(c, j + 1, 4)?;
    let trailing = end < c.len()
        && matches!(c[end], '/' | '-' | '.')
        && c.get(end + 1).is_some_and(char::is_ascii_digit);
    if !boundary(c, end) || trailing {
        return None;
    }
    let ok = if alen == 4 {
        (1..=12).contains(&b) && (1..=31).contains(&y) && ylen <= 2
    } else {
        alen <= 2
            && (1..=31).contains(&a)
            && (1..=31).contains(&b)
            && (a <= 12 || b <= 12)
            && (ylen == 2 || ylen == 4)
    };
    ok.then_some(end)
}

/// Day with optional ordinal suffix; returns its end.
fn day(c: &[char], i: usize) -> Option<usize> {
    let (d, _, mut j) = number(c, i, 2)?;
    if !(1..=31).contains(&d) {
        return None;
    }
    for suf in ["st", "nd", "rd", "th"] {
        if let Some(k) = word_at(c, j, suf) {
            j = k;
            break;
        }
    }
    boundary(c, j).then_some(j)
}

fn month(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && c[i - 1].is_alphanumeric() {
        return None;
    }
    let j = MONTHS.split_whitespace().find_map(|m| word_at(c, i, m))?;
    Some(if c.get(j) == Some(&'.') { j + 1 } else { j })
}

fn spaces(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    while j < c.len() && (c[j] == ' ' || c[j] == '\t' || c[j] == '\u{a0}') {
        j += 1;
    }
    (j > i).then_some(j)
}

/// `, 1985` / ` 1985` after a date part; returns the new end if present.
fn year_after(c: &[char], i: usize) -> Option<usize> {
    let j = if c.get(i) == Some(&',') { i + 1 } else { i };
    let j = spaces(c, j).or((j > i).then_some(j))?;
    let (_, len, end) = number(c, j, 4)?;
    (len == 4 && boundary(c, end)).then_some(end)
}

/// `12 April 1985`, `12th of April, 1985`, `12 April`.
fn day_month_date(c: &[char], i: usize) -> Option<usize> {
    let j = spaces(c, day(c, i)?)?;
    let j = match word_at(c, j, "of") {
        Some(k) => spaces(c, k)?,
        None => j,
    };
    let m = month(c, j)?;
    Some(year_after(c, m).unwrap_or(m))
}

/// `April 12, 1985`, `Apr. 12th 1985`, `April 12`, `April 1985`.
fn month_first_date(c: &[char], i: usize) -> Option<usize> {
    let m = month(c, i)?;
    let j = spaces(c, m)?;
    if let Some(d) = day(c, j) {
        return Some(year_after(c, d).unwrap_or(d));
    }
    let (_, len, end) = number(c, j, 4)?;
    (len == 4 && boundary(c, end)).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<S:…>`, `<C:…>` and `<D:…>` mark text that must become the SSN, card
    /// or date-of-birth label; everything else must survive unchanged.
    fn check(case: &str) {
        let (mut input, mut want, mut rest) = (String::new(), String::new(), case);
        while let Some(i) = rest.find('<') {
            let end = i + rest[i..].find('>').expect("closing >");
            input.push_str(&rest[..i]);
            want.push_str(&rest[..i]);
            input.push_str(&rest[i + 3..end]);
            want.push_str(match &rest[i + 1..i + 2] {
                "S" => SSN_LABEL,
                "C" => CARD_LABEL,
                _ => DOB_LABEL,
            });
            rest = &rest[end + 1..];
        }
        input.push_str(rest);
        want.push_str(rest);
        assert_eq!(redact(&input), want, "{input}");
        assert_eq!(redact(&want), want, "idempotent: {input}");
        assert_eq!(contains_sensitive(&input), want != input, "{input}");
        assert!(!contains_sensitive(&want), "{input}");
    }

    /// The prefilter never hides a match: in random texts built from digit groups, joiners,
    /// intro words and filler, wherever the full scan finds something the prefilter says "maybe".
    #[test]
    fn the_prefilter_never_hides_a_match() {
        const PIECES: [&str; 27] = [
            "1",
            "4",
            "9",
            "0",
            "123",
            "45",
            "6789",
            "4111",
            " ",
            "-",
            "\t",
            "\u{a0}",
            "/",
            ".",
            ":",
            "born ",
            "DOB: ",
            "date of birth ",
            "Birthday ",
            "social ",
            "SSN ",
            "April ",
            "12th of ",
            "1985",
            "a",
            "+",
            ", ",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let (mut found, mut skipped) = (0, 0);
        for _ in 0..30_000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) as usize + 1 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            }
            let chars: Vec<char> = text.chars().collect();
            if !find(&chars).is_empty() {
                found += 1;
                assert!(may_hold_pattern(&text), "prefilter hid a match in {text:?}");
            }
            if !may_hold_pattern(&text) {
                skipped += 1;
            }
        }
        // The generator must produce both kinds, or the test proves nothing.
        assert!(
            found > 100 && skipped > 100,
            "found {found}, skipped {skipped}"
        );
    }

    #[test]
    fn the_quick_checks_hold() {
        // find_dob only tries words starting with d or b.
        for intro in DOB_INTROS.split('|') {
            assert!(matches!(intro.chars().next(), Some('d' | 'b')), "{intro}");
        }
        // No digit, nothing to redact, whatever the words.
        let words = "born on the fourth of July, my social is one two three, date of birth April";
        assert_eq!(redact(words), words);
        assert!(!contains_sensitive(words));
    }

    #[test]
    fn ssns() {
        for case in [
            "my ssn is <S:123-45-6789>.",
            "it's <S:123 45 6789> ok",
            "Social Security number: <S:123456789>",
            "my social is <S:1 2 3 4 5 6 7 8 9>",
            "SSN <S:123456789>",
            "order 123456789",               // no introduction
            "social, 5 kids, 123456789",     // another number ends the introduction
            "my socialite friend 123456789", // not the word "social"
            "123-45-6789x",
        ] {
            check(case);
        }
    }

    #[test]
    fn cards() {
        for case in [
            "card <C:4111 1111 1111 1111> thanks",
            "<C:4111-1111-1111-1111>",
            "<C:4111111111111111>",
            "<C:4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1>",
            "amex <C:3782 822463 10005>.",
            "<C:5555 5555 5555 4444> cvv 123",
            "<C:4111 1111 1111 1111> 123", // CVV in the same stretch
            "<C:4111 1111 1111 1111> <S:123-45-6789>", // card then SSN in one stretch
            "<C:4111 1111 1111 1111> <C:5555-5555-5555-4444>",
            "pay with <C:4111111111111111>, thanks",
        ] {
            check(case);
        }
    }

    #[test]
    fn ordinary_numbers_kept() {
        for case in [
            "call +1 415 555 0123 please",
            "call (415) 555-0123",
            "415-555-0123",
            "1 800 555 0199",
            "it costs $8,000 or $7,500.00",
            "see you at 10:30 on 3/4",
            "1234 5678 9012 3456",
            "1234567812345678",
            "1 2 3 4 5 6 7 8 1 2 3 4 5 6 7 8",
            "pi is 3.1415926535897932384",
            "+86 138 0013 8000",
            "ref A4111111111111111",
            "order 4111111111111111x",
        ] {
            check(case);
        }
    }

    #[test]
    fn dates_of_birth() {
        for case in [
            "my date of birth is <D:04/12/1985>",
            "DOB: <D:12 April 1985>.",
            "I was born on <D:April 12, 1985> in Ohio",
            "my birthday is the <D:12th of April>",
            "Birth date <D:1985-04-12>",
            "d.o.b. <D:4.12.85>",
            "birthday: <D:Apr. 12th, 1985>!",
            "born in <D:April 1985>",
            "Date-of-birth - <D:Sept 3>",
            "DOB <D:4/12/1985>, social <S:123456789>, card <C:4111 1111 1111 1111>, call +1 415 555 0123.",
        ] {
            check(case);
        }
    }

    #[test]
    fn dates_not_introduced_or_not_dates() {
        for case in [
            "appointment on 04/12/2025",
            "April 12, 2025 works",
            "my birthday is coming up",
            "born 13/13/1985",
            "birthday party at 10:30",
            "stubborn 04/12/1985",
            "dob 04/12/19851",
        ] {
            check(case);
        }
    }

    #[test]
    fn tricky_idempotence() {
        for s in [
            "123-45-6789 and 987654321",
            "4111111111111111-123-45-6789",
            "born on 12 April ssn 123456789",
            "born 12th ssn 123456789",
            "social 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 then 123456789",
            "[redacted SSN] 123456789",
            "[redacted date of birth] 04/12/1985",
            "date of birth [redacted card] 1 2 3",
            "DOB 4/12/1985-4111111111111111",
            "DOB 04/12/19854111111111111111",
        ] {
            let once = redact(s);
            assert_eq!(redact(&once), once, "{s} -> {once}");
        }
    }

    #[test]
    fn fuzz_total_and_idempotent() {
        let pieces: Vec<&str> = "4|1| |-|111|4111|social |ssn|DOB |born |April |12|/|1985|,|.|:|+|\
                                 [redacted SSN]|]|é|🙂|th| of |45|6789|\u{a0}|x"
            .split('|')
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(seed % 40) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                s.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            seed = seed.wrapping_add(7);
            let once = redact(&s);
            assert_eq!(redact(&once), once, "input {s:?}");
            assert!(!contains_sensitive(&once), "input {s:?}");
        }
    }

    #[test]
    fn json_strings_redacted() {
        let mut v = serde_json::json!({
            "transcript": "my ssn is 123-45-6789",
            "messages": [{"text": "card 4111111111111111"}, 5, null, true],
            "123-45-6789": "key kept",
            "n": 4111111111111111u64,
        });
        redact_json(&mut v);
        assert_eq!(v["transcript"], "my ssn is [redacted SSN]");
        assert_eq!(v["messages"][0]["text"], "card [redacted card]");
        assert_eq!(v["123-45-6789"], "key kept");
        assert_eq!(v["n"], 4111111111111111u64);
    }

    #[test]
    fn luhn_and_edges() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn(&d("4111111111111111")) && luhn(&d("378282246310005")));
        assert!(!luhn(&d("4111111111111112")) && !luhn(&[]));
        check("");
        check("café 🙂 ١٢٣ [redacted");
    }
}
