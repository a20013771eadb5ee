//! One error type for the whole crate. Every message names the argument that was wrong and the
//! range it takes, because the message is what a student sees in the browser console.

use std::fmt;

/// An error with a human-readable message, e.g.
/// `temperature must be a finite number >= 0 (0 = greedy), got -1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }

    /// `argument` must satisfy `range`, but was `got`.
    pub fn arg(argument: &str, range: &str, got: impl fmt::Display) -> Self {
        Error(format!("{argument} must be {range}, got {got}"))
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

#[cfg(feature = "train")]
impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How many characters of a wrong value an error message quotes.
pub const BRIEF_CHARS: usize = 60;

/// `value` as an error message quotes it: at most [`BRIEF_CHARS`] characters, then `…`, so
/// that a wrong value as large as the file it came from (a JSON subtree, a 1 MB token, a whole
/// text) does not become the message. Stops formatting there rather than formatting it all.
pub fn brief(value: &dyn fmt::Display) -> String {
    struct Capped {
        out: String,
        chars: usize,
        cut: bool,
    }
    impl fmt::Write for Capped {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.chars == BRIEF_CHARS {
                    self.cut = true;
                    return Err(fmt::Error);
                }
                self.out.push(c);
                self.chars += 1;
            }
            Ok(())
        }
    }
    let mut w = Capped {
        out: String::new(),
        chars: 0,
        cut: false,
    };
    let _ = fmt::write(&mut w, format_args!("{value}"));
    if w.cut {
        w.out.push('…');
    }
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_cuts_long_values() {
        assert_eq!(brief(&"short"), "short");
        assert_eq!(brief(&format_args!("{:?}", "é")), "\"é\"");
        let long = "é".repeat(100);
        assert_eq!(brief(&long), "é".repeat(BRIEF_CHARS) + "…");
        assert_eq!(brief(&"x".repeat(BRIEF_CHARS)), "x".repeat(BRIEF_CHARS));
    }
}
