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
