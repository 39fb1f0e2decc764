//! Bounds on what an error answer repeats of a request: an echoed value is cut to
//! [`ECHO_MAX_CHARS`] characters, and a listing names the first [`LIST_MAX`] items and counts the
//! rest. A hostile body (100,000 bad keys, a 500 KB hotkey) thus gets an answer of a few KB, not
//! one many times its own size.

use std::fmt::Display;

/// Characters of a caller's value an error message repeats.
pub const ECHO_MAX_CHARS: usize = 64;
/// Items an error message lists before it only counts.
pub const LIST_MAX: usize = 10;

/// `text` as an error message repeats it: whole when short, else its first [`ECHO_MAX_CHARS`]
/// characters followed by `…(N chars)`.
pub fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_MAX_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…({} chars)", &text[..cut], text.chars().count()),
    }
}

/// The first [`LIST_MAX`] items joined by `separator`, then `… and N more` when there are more.
pub fn bounded_list<T: Display>(items: &[T], separator: &str) -> String {
    let mut out = items
        .iter()
        .take(LIST_MAX)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator);
    if items.len() > LIST_MAX {
        out.push_str(&format!(
            "{separator}… and {} more ({} in all)",
            items.len() - LIST_MAX,
            items.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_echoed_whole_and_long_ones_cut_with_their_length() {
        assert_eq!(echo("abc"), "abc");
        let exact = "x".repeat(ECHO_MAX_CHARS);
        assert_eq!(echo(&exact), exact);
        let long = "é".repeat(500_000);
        let shown = echo(&long);
        assert!(shown.starts_with(&"é".repeat(ECHO_MAX_CHARS)));
        assert!(shown.ends_with("…(500000 chars)"), "{shown}");
        assert!(shown.chars().count() < ECHO_MAX_CHARS + 20);
    }

    #[test]
    fn listings_name_the_first_few_and_count_the_rest() {
        let few: Vec<u32> = (0..3).collect();
        assert_eq!(bounded_list(&few, ", "), "0, 1, 2");
        let many: Vec<u32> = (0..100_000).collect();
        let shown = bounded_list(&many, ", ");
        assert!(shown.starts_with("0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … and 99990 more (100000 in all)"));
        assert_eq!(shown.matches(", ").count(), LIST_MAX);
    }
}
