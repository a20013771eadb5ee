//! The `sentencepiece` target: llama2.c's `tokenizer.bin`, edited, then the tokenizer contract.

use logitlab::model::tokenizer::SentencePiece;
use logitlab::model::Tokenizer;

use crate::contracts::{check_decoding, check_stream};
use crate::fixtures::LLAMA2C_TOKENIZER;
use crate::harness::Verdict::{Bug, Rejected};
use crate::harness::{check, count_from_here, given, stress, try_bug, Bytes, Target, Verdict, MB};
use crate::inputs::patch_bytes;

/// The fixture `tokenizer.bin` as (score, length, bytes) per id.
fn tokenizer_records() -> &'static [(f32, u32, Vec<u8>)] {
    static RECORDS: std::sync::OnceLock<Vec<(f32, u32, Vec<u8>)>> = std::sync::OnceLock::new();
    RECORDS.get_or_init(|| {
        let d = LLAMA2C_TOKENIZER;
        let word = |at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        let (mut out, mut at) = (Vec::new(), 4);
        while at < d.len() {
            let len = word(at + 4);
            out.push((
                f32::from_bits(word(at)),
                len,
                d[at + 8..at + 8 + len as usize].to_vec(),
            ));
            at += 8 + len as usize;
        }
        out
    })
}

/// Pieces for an edited tokenizer.bin: special and byte-fallback shapes, near misses of them,
/// invalid UTF-8, the empty piece.
const SP_PIECES: [&[u8]; 14] = [
    b"",
    b" ",
    b"<0x41>",
    b"<0x0A>",
    b"<0xe2>",
    b"<0x4>",
    b"<0xZZ>",
    b"\n<s>\n",
    b"<unk>",
    b"\xff",
    b"\xe2\x96",
    b" the",
    "😀".as_bytes(),
    b"\0",
];

/// An edited fixture `tokenizer.bin`: max_token_length, scores (NaN, ±∞, −1e10, junk), length
/// fields (negative, huge, off by one), pieces (another id's, the specials', invalid UTF-8,
/// empty), ids removed, kept only up to a count, or appended; then truncation and raw patches.
fn edited_tokenizer_bin(b: &mut Bytes, edits: u8) -> Vec<u8> {
    let mut records = tokenizer_records().to_vec();
    let mut max_len = u32::from_le_bytes(LLAMA2C_TOKENIZER[..4].try_into().unwrap());
    for _ in 0..edits {
        let n = records.len();
        let i = b.u32() as usize % n.max(1);
        match b.u8() % 9 {
            0 => {
                max_len = b.pick(&[
                    0,
                    1,
                    2,
                    max_len.wrapping_sub(1),
                    max_len.wrapping_add(1),
                    u32::MAX,
                    1 << 31,
                ])
            }
            1 if n > 0 => {
                records[i].0 = b.pick(&[
                    f32::NAN,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    -1e10,
                    -1e10 - 1e4,
                    f32::MAX,
                    0.0,
                    -0.0,
                ])
            }
            2 if n > 0 => records[i].0 = b.f32(),
            3 if n > 0 => {
                let len = records[i].1;
                records[i].1 = b.pick(&[
                    u32::MAX,
                    i32::MIN as u32,
                    i32::MAX as u32,
                    len.wrapping_add(1),
                    len.wrapping_sub(1),
                    0,
                    1 << 20,
                ])
            }
            4 if n > 0 => {
                let piece = if b.u8().is_multiple_of(2) {
                    records[b.u32() as usize % n].2.clone()
                } else {
                    b.pick(&SP_PIECES).to_vec()
                };
                records[i].1 = piece.len() as u32;
                records[i].2 = piece;
            }
            5 if n > 0 => {
                records.remove(i);
            }
            6 => records.truncate(b.pick(&[0, 1, 2, 3, 4, 35, 100, 258, 259, 260, 300])),
            7 => {
                let piece = b.pick(&SP_PIECES).to_vec();
                records.push((b.f32(), piece.len() as u32, piece));
            }
            _ => {}
        }
    }
    let mut bytes = max_len.to_le_bytes().to_vec();
    for (score, len, piece) in &records {
        bytes.extend(score.to_le_bytes());
        bytes.extend(len.to_le_bytes());
        bytes.extend(piece);
    }
    match b.u8() % 8 {
        0 => {
            let at = b.u32() as usize % (bytes.len() + 1);
            bytes.truncate(at);
        }
        1 => {
            let n = 1 + b.u8() % 2;
            patch_bytes(&mut bytes, b, n)
        }
        _ => {}
    }
    bytes
}

/// Text for SentencePiece: the fixture's kind of text, the specials' and byte pieces' spellings
/// (`<0x41>`, `\n<s>\n`, `<unk>`), whitespace runs and the mutator's text.
fn sp_text(b: &mut Bytes, max_bytes: usize) -> String {
    const PIECES: [&str; 16] = [
        "Romeo",
        " Juliet",
        "But soft, what light",
        " ",
        "   ",
        "\n",
        "\n\n",
        "<0x41>",
        "<0x0A>",
        "\n<s>\n",
        "<s>",
        "<unk>",
        "Tiếng Việt",
        "🦀😀",
        "\u{FFFD}",
        "▁",
    ];
    let mut s = String::new();
    for _ in 0..b.len(24) {
        if b.exhausted() && !s.is_empty() {
            break;
        }
        match b.u8() % 4 {
            0 | 1 => s.push_str(b.pick(&PIECES)),
            _ => s.push_str(&b.text(max_bytes.saturating_sub(s.len()))),
        }
        if s.len() >= max_bytes {
            break;
        }
    }
    s
}

/// `SentencePiece::from_bytes` on an edited fixture `tokenizer.bin` (one time in four unedited);
/// when it loads: encode of arbitrary text, decode of arbitrary ids, `token_text` of every id,
/// the stream decoder on arbitrary ids (its pieces must equal `decode`). Unedited, decode(encode
/// (text)) must be the text after the dummy-prefix space.
fn run_sentencepiece(data: &[u8]) -> Verdict {
    let mut b = Bytes::new(data);
    let edits = b.u8() % 8;
    let edits = if edits >= 4 { 0 } else { edits + 1 }; // unedited half the time
    let bytes = edited_tokenizer_bin(&mut b, edits);
    count_from_here();
    given(bytes.len());
    let sp = match SentencePiece::from_bytes(&bytes) {
        Ok(t) => t,
        Err(e) => return Rejected(e.to_string()),
    };
    let pristine = bytes == LLAMA2C_TOKENIZER;
    let t = Tokenizer::SentencePiece(sp);
    let v = t.len();
    // The size as a bucket: none, the specials only, some bytes, all bytes, the fixture's, more.
    let size = [0, 3, 259, 512, 513].iter().filter(|&&n| v >= n).count();
    let mut features = format!("{} V{size}", u8::from(pristine));
    let text = match b.u8() % 4 {
        0 => String::from_utf8_lossy(&data[b.pos.min(data.len())..]).into_owned(),
        _ => sp_text(&mut b, 1 << 14),
    };
    match t.encode(&text) {
        Ok(ids) => {
            check!(
                ids.iter().all(|&i| (i as usize) < v),
                "encode gave an id out of range"
            );
            match t.decode(&ids) {
                Ok(back) => {
                    // run.c's rules: the dummy-prefix space first; the piece after BOS (which
                    // the text "\n<s>\n" can merge into) loses its leading space.
                    let want = if text.is_empty() {
                        String::new()
                    } else {
                        format!(" {text}")
                    };
                    if pristine && back != want && !ids.contains(&1) {
                        return Bug(format!("decode(encode({text:?})) = {back:?}"));
                    }
                }
                Err(e) => return Bug(format!("decode of encoded ids failed: {e}")),
            }
            try_bug!(check_stream(&t, &ids));
            features.push_str(" enc");
            if pristine {
                // Which kinds of tokens: BOS, byte fallback, merged pieces.
                let bos = ids.contains(&1);
                let bytes = ids.iter().any(|&i| (3..259).contains(&i));
                let merged = ids.len() < text.chars().count();
                features.push_str(&format!(" bos{bos} bytes{bytes} merged{merged}"));
            }
        }
        Err(e) => {
            let m = e.to_string();
            check!(!pristine, "the fixture tokenizer failed to encode: {m}");
            check!(
                m.starts_with("encode: "),
                "encode error does not say encode: {m}"
            );
            features.push_str(" unk");
        }
    }
    try_bug!(check_decoding(&t, &mut b, &mut features));
    Verdict::Ok(features)
}

fn seeds_sentencepiece() -> Vec<Vec<u8>> {
    let mut prompt = vec![7, 0, 1];
    prompt.extend_from_slice("Romeo:\nBut soft, what light \n<s>\n <0x41>é😀".as_bytes());
    vec![
        vec![],
        prompt,
        vec![0, 0, 0, 0, 0, 1, 2, 3],
        vec![3, 5, 0, 1, 2, 3],
    ]
}

pub const TARGET: Target = Target {
    name: "sentencepiece",
    budget: 6_000,
    max_input: 1024,
    alloc_cap: 4 * MB,
    names: &["tokenizer.bin: "],
    prefix: true,
    seeds: seeds_sentencepiece,
    run: run_sentencepiece,
};

#[test]
fn stress_sentencepiece() {
    stress(&TARGET);
}
