//! Text ⇄ token ids. Today one tokenizer: characters ([`chars::Vocab`]), stored in the
//! checkpoint's metadata. Byte-level BPE (GPT-2) and sentencepiece (llama2.c) will sit next to it.

pub mod chars;

pub use chars::Vocab;
