//! Text ⇄ token ids. Three tokenizers behind one type, [`Tokenizer`]:
//!
//! - [`chars::Vocab`]: one token per character, the lab's own models (stored in the checkpoint);
//! - [`hf::HfTokenizer`] (also named [`ByteLevelBpe`]): a Hugging Face `tokenizer.json` with a
//!   BPE model: GPT-2's byte-level BPE, SmolLM2, Llama 2 / TinyLlama, Llama 3, Qwen2 / Qwen3;
//! - [`sentencepiece::SentencePiece`]: Llama 2's SentencePiece BPE as llama2.c stores it
//!   (`tokenizer.bin`).
//!
//! Why our own pipeline rather than the `tokenizers` crate: the parts these models use are a
//! byte map, three regexes, a few normalizers and decoders and a merge loop, code a student can
//! read; `tokenizers` brings onig or fancy-regex (about 1.2 MB of wasm), rayon and serde models
//! for every tokenizer family into the page's wasm. The tests check our ids and texts against
//! `tokenizers`' own on reference cases (tests/fixtures/tokenizers/).

pub mod bpe;
pub mod chars;
pub mod hf;
pub mod nfc;
mod nfc_tables;
pub mod sentencepiece;
mod unicode_tables;

use std::borrow::Cow;

pub use bpe::ByteLevelBpe;
pub use chars::Vocab;
pub use sentencepiece::SentencePiece;

use crate::error::{Error, Result};
use crate::limits::MAX_TEXT_BYTES;
use crate::model::Config;

/// A model's tokenizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tokenizer {
    /// One token per character (the lab's models).
    Chars(Vocab),
    /// A Hugging Face `tokenizer.json` with a BPE model (GPT-2's byte-level BPE, Llama's,
    /// Qwen's).
    Bpe(ByteLevelBpe),
    /// Llama 2's SentencePiece BPE (llama2.c checkpoints).
    SentencePiece(SentencePiece),
}

impl From<Vocab> for Tokenizer {
    fn from(v: Vocab) -> Tokenizer {
        Tokenizer::Chars(v)
    }
}

impl From<ByteLevelBpe> for Tokenizer {
    fn from(t: ByteLevelBpe) -> Tokenizer {
        Tokenizer::Bpe(t)
    }
}

impl Tokenizer {
    /// Number of token ids, V.
    pub fn len(&self) -> usize {
        match self {
            Tokenizer::Chars(v) => v.len(),
            Tokenizer::Bpe(t) => t.len(),
            Tokenizer::SentencePiece(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id that begins every sequence the model was trained on, if the tokenizer has one:
    /// `<s>` (id 1) for llama2.c's SentencePiece, which run.c puts before every prompt; for a
    /// `tokenizer.json`, the id its post-processor puts first (`<s>`, `<|begin_of_text|>`);
    /// none for the lab's characters, GPT-2 (whose `<|endoftext|>` only separates documents) or
    /// Qwen2.
    pub fn bos(&self) -> Option<u32> {
        match self {
            Tokenizer::SentencePiece(_) => Some(sentencepiece::BOS),
            Tokenizer::Bpe(t) => t.bos(),
            Tokenizer::Chars(_) => None,
        }
    }

    /// The character vocabulary, for a character-level tokenizer.
    pub fn chars(&self) -> Option<&Vocab> {
        match self {
            Tokenizer::Chars(v) => Some(v),
            Tokenizer::Bpe(_) | Tokenizer::SentencePiece(_) => None,
        }
    }

    /// A model's tokenizer must have exactly `config.vocab_size` ids.
    pub fn check_size(&self, config: &Config) -> Result<()> {
        match self {
            Tokenizer::Chars(v) => v.check_size(config),
            t if t.len() != config.vocab_size => Err(Error::new(format!(
                "tokenizer has {} ids but vocab_size is {}",
                t.len(),
                config.vocab_size
            ))),
            Tokenizer::Bpe(_) | Tokenizer::SentencePiece(_) => Ok(()),
        }
    }

    /// Text → ids (no special token added). Characters: an unknown character is an error
    /// naming it. Byte-level BPE: every text encodes.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Tokenizer::Chars(v) => v.encode(text),
            Tokenizer::Bpe(t) => t.encode(text),
            Tokenizer::SentencePiece(t) => t.encode(text),
        }
    }

    /// Text → ids with the special tokens the model's sequences begin (and end) with:
    /// transformers' `tokenizer(text).input_ids` for a `tokenizer.json`, BOS then the text for
    /// llama2.c's SentencePiece (as run.c encodes a prompt), the text alone for characters.
    pub fn encode_with_special(&self, text: &str) -> Result<Vec<u32>> {
        match self {
            Tokenizer::Bpe(t) => t.encode_with_special(text),
            Tokenizer::SentencePiece(t) => {
                let mut ids = vec![sentencepiece::BOS];
                ids.extend(t.encode(text)?);
                Ok(ids)
            }
            Tokenizer::Chars(v) => v.encode(text),
        }
    }

    /// Ids → text. An id ≥ V is an error, and so are more than [`MAX_TEXT_BYTES`] ids. A
    /// `tokenizer.json`'s text is its decoder's, special tokens kept (`tokenizer.decode(ids)`);
    /// with GPT-2's, bytes that do not form UTF-8 (a character cut at the end) become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        match self {
            Tokenizer::Chars(v) => v.decode(ids),
            Tokenizer::Bpe(t) => {
                check_ids_len(ids)?;
                t.decode(ids)
            }
            Tokenizer::SentencePiece(t) => {
                check_ids_len(ids)?;
                Ok(String::from_utf8_lossy(&t.decode_bytes(ids)?).into_owned())
            }
        }
    }

    /// One id's bytes (a character's UTF-8, or a BPE token's bytes).
    pub fn token_bytes(&self, id: u32) -> Result<Cow<'_, [u8]>> {
        match self {
            Tokenizer::Chars(v) => {
                let text = v.decode(&[id])?;
                Ok(Cow::Owned(text.into_bytes()))
            }
            Tokenizer::Bpe(t) => Ok(Cow::Borrowed(t.token_bytes(id)?)),
            Tokenizer::SentencePiece(t) => Ok(Cow::Borrowed(t.token_bytes(id)?)),
        }
    }

    /// The bytes `id` adds to a text after the id `prev`: [`Tokenizer::token_bytes`], except
    /// that SentencePiece drops the leading space of the piece after BOS (as run.c does).
    pub fn piece_bytes(&self, prev: Option<u32>, id: u32) -> Result<Cow<'_, [u8]>> {
        match self {
            Tokenizer::SentencePiece(t) => Ok(Cow::Borrowed(t.piece_bytes(prev, id)?)),
            _ => self.token_bytes(id),
        }
    }

    /// How the page shows one token: its text with visible space `␣`, newline `↵` and tab `⇥`,
    /// other control characters and the bytes of a BPE token that are not a whole character
    /// as `<0xE2>`.
    pub fn token_text(&self, id: u32) -> Result<String> {
        match self {
            Tokenizer::Chars(v) => Ok(visible(&v.decode(&[id])?)),
            Tokenizer::Bpe(t) => t.token_text(id),
            Tokenizer::SentencePiece(t) => t.token_text(id),
        }
    }

    /// A decoder for ids that arrive one at a time, from the start of a text.
    pub fn stream(&self) -> StreamDecoder {
        StreamDecoder::default()
    }

    /// A decoder for ids that continue a text (generation after a prompt): what the rules for
    /// a text's start remove (Llama 2's Strip of the first space, Metaspace's first `▁`) stays,
    /// so the pieces are what `decode(prompt + ids)` adds to `decode(prompt)`.
    pub fn stream_continuing(&self) -> StreamDecoder {
        StreamDecoder {
            continuing: true,
            ..StreamDecoder::default()
        }
    }
}

/// A token's bytes as the page shows them: whole UTF-8 characters through [`visible`], other
/// bytes as `<0xE2>`.
pub(crate) fn visible_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&visible(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("<0x{b:02X}>"));
        }
    }
    out
}

/// Text as the page shows a token: whitespace made visible, control characters as bytes.
pub(crate) fn visible(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        match ch {
            ' ' => out.push('␣'),
            '\n' => out.push('↵'),
            '\t' => out.push('⇥'),
            c if c.is_control() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("<0x{b:02X}>"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn check_ids_len(ids: &[u32]) -> Result<()> {
    if ids.len() > MAX_TEXT_BYTES {
        return Err(Error::arg(
            "ids",
            &format!("at most {MAX_TEXT_BYTES} token ids"),
            ids.len(),
        ));
    }
    Ok(())
}

/// Decodes ids one at a time and returns only whole UTF-8 characters: the bytes of a character
/// split over two BPE tokens wait for the second. Bytes that can never form a character become
/// U+FFFD, so all the pieces together equal [`Tokenizer::decode`] of all the ids (after
/// [`StreamDecoder::finish`]). A `tokenizer.json` whose decoder is more than GPT-2's byte map
/// (Llama 2's `<0xNN>` bytes, `▁`, Strip) is decoded by parts: the ids since the last token
/// that is not a `<0xNN>` byte wait, then go through the decoder together; a decoder whose
/// text cannot be cut so (a Replace after a Fuse) gives its text at the end.
#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
    /// The id pushed last (SentencePiece strips the space after BOS).
    prev: Option<u32>,
    /// Decoding by parts: the ids of the part not yet given, and whether an earlier part was
    /// given (this one does not start the text).
    part: Vec<u32>,
    closed: bool,
    /// The open part's text as it stands (given by `finish` if no id closes the part).
    waiting: String,
    /// The ids continue a text ([`Tokenizer::stream_continuing`]).
    continuing: bool,
}

impl StreamDecoder {
    /// The text that `id` completes (possibly empty). An id ≥ V is an error.
    pub fn push(&mut self, tokenizer: &Tokenizer, id: u32) -> Result<String> {
        if let Tokenizer::Bpe(t) = tokenizer {
            if !t.decodes_bytes() {
                return self.push_part(t, id);
            }
        }
        self.pending
            .extend_from_slice(&tokenizer.piece_bytes(self.prev, id)?);
        self.prev = Some(id);
        let mut out = String::new();
        let mut rest = &self.pending[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.push_str(&String::from_utf8_lossy(valid));
                    match e.error_len() {
                        // An incomplete character at the end: wait for its next bytes.
                        None => {
                            rest = after;
                            break;
                        }
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[n..];
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        Ok(out)
    }

    /// [`StreamDecoder::push`] for a decoder run by parts, or, if the decoder cannot be, at
    /// the end.
    fn push_part(&mut self, t: &ByteLevelBpe, id: u32) -> Result<String> {
        t.token_bytes(id)?;
        self.part.push(id);
        let text = t.decode_part(&self.part, !self.closed && !self.continuing)?;
        if !t.decodes_in_parts() || t.is_byte_token(id) {
            // Its text may still change with the next ids: wait, keeping what it is now.
            self.waiting = text;
            return Ok(String::new());
        }
        // Unused model rows are no tokens: the text has not started after them alone.
        self.closed |= self.part.iter().any(|&i| (i as usize) < t.defined());
        self.part.clear();
        self.waiting.clear();
        Ok(text)
    }

    /// Whatever is still waiting (an unfinished character, `<0xNN>` bytes) as text; the
    /// decoder is then empty.
    pub fn finish(&mut self) -> String {
        let mut out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out.push_str(&self.waiting);
        self.part.clear();
        self.waiting.clear();
        self.closed = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "é€" as byte tokens, one id per byte: the stream gives each character once it is whole,
    /// and a stray continuation byte becomes U+FFFD, as `decode` does.
    #[test]
    fn stream_decoder_gives_whole_characters() {
        let mut vocab = serde_json::Map::new();
        for b in 0..=255u8 {
            vocab.insert(bpe::byte_char(b).to_string(), (b as u32).into());
        }
        let json = serde_json::json!({
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
            "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": vocab, "merges": []}
        });
        let t = Tokenizer::Bpe(ByteLevelBpe::from_json(json.to_string().as_bytes()).unwrap());
        let ids = t.encode("é€").unwrap();
        assert_eq!(ids, [0xC3, 0xA9, 0xE2, 0x82, 0xAC]);
        let mut s = t.stream();
        let pieces: Vec<String> = ids.iter().map(|&id| s.push(&t, id).unwrap()).collect();
        assert_eq!(pieces, ["", "é", "", "", "€"]);
        let ids = [b'a' as u32, 0xA9, 0xE2, 0x82];
        let mut s = t.stream();
        let mut text: String = ids.iter().map(|&id| s.push(&t, id).unwrap()).collect();
        assert_eq!(text, "a\u{FFFD}");
        text.push_str(&s.finish());
        assert_eq!(text, t.decode(&ids).unwrap());
        assert_eq!(t.token_text(0xE2).unwrap(), "<0xE2>");
        assert_eq!(t.token_text(b'\n' as u32).unwrap(), "↵");
    }
}
