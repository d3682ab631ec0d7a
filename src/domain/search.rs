//! What a person types into a search box, turned into a full-text query SQLite's FTS5 can only
//! read as words to find: every term is quoted, so operators (`AND`, `NEAR`, `*`, `:`, `^`,
//! parentheses) are plain text and bad syntax can never reach the database as an error.
//! Words in double quotes stay together as a phrase; all terms must match.

/// At most this many terms are kept; a longer query says nothing more useful.
const MAX_TERMS: usize = 12;
/// Characters of a query that are looked at.
const MAX_CHARS: usize = 200;

/// The FTS5 query for `input`, or `None` when it holds nothing to search for.
pub fn fts_query(input: &str) -> Option<String> {
    let input: String = input.chars().take(MAX_CHARS).collect();
    let mut terms = Vec::new();
    // Odd pieces of a split on '"' are inside quotes: phrases; even pieces are single words.
    for (i, piece) in input.split('"').enumerate() {
        if i % 2 == 1 {
            terms.push(piece.to_string());
        } else {
            terms.extend(piece.split_whitespace().map(str::to_string));
        }
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| t.trim())
        // A term without a letter or digit would be an empty phrase: nothing to find.
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .take(MAX_TERMS)
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    (!quoted.is_empty()).then(|| quoted.join(" "))
}

/// The E.164 number `input` is, when it is nothing but a phone number in some format —
/// `(415) 555-0188`, `415.555.0188`, `4155550188`, `+1 415 555 0188` — read in the clinic's
/// country; `None` for anything else (words, a short number, a date).
pub fn phone_query(input: &str, default_country: &str) -> Option<String> {
    let input = input.trim();
    let phone_like = input
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits = input.chars().filter(char::is_ascii_digit).count();
    if !phone_like || !(7..=15).contains(&digits) {
        return None;
    }
    super::phone::PhoneNumber::parse(input, default_country)
        .ok()
        .map(|p| p.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_in_any_format_is_one_number() {
        for typed in [
            "(415) 555-0188",
            "4155550188",
            "+14155550188",
            "415.555.0188",
            " +1 415 555 0188 ",
        ] {
            assert_eq!(
                phone_query(typed, "US").as_deref(),
                Some("+14155550188"),
                "{typed}"
            );
        }
        for not_a_number in ["botox", "555-01", "2026-06-15", "call 4155550188", ""] {
            assert_eq!(phone_query(not_a_number, "US"), None, "{not_a_number}");
        }
    }

    #[test]
    fn words_are_quoted_and_all_required() {
        assert_eq!(
            fts_query("botox price").as_deref(),
            Some("\"botox\" \"price\"")
        );
        assert_eq!(
            fts_query("  \"lip filler\" friday ").as_deref(),
            Some("\"lip filler\" \"friday\"")
        );
    }

    #[test]
    fn operators_and_junk_are_plain_text() {
        assert_eq!(
            fts_query("botox OR NEAR(a b) transcript:x *").as_deref(),
            Some("\"botox\" \"OR\" \"NEAR(a\" \"b)\" \"transcript:x\"")
        );
        assert_eq!(
            fts_query("<script>\"unclosed").as_deref(),
            Some("\"<script>\" \"unclosed\"")
        );
        assert_eq!(fts_query("\"\" * ( ) -"), None);
        assert_eq!(fts_query("   "), None);
    }

    #[test]
    fn long_queries_are_cut() {
        let many = "word ".repeat(100);
        assert_eq!(fts_query(&many).map(|q| q.matches('"').count()), Some(24));
    }
}
