"""Trains the subword model's byte-level BPE tokenizer on the training works.

    python runs/train_bpe_tokenizer.py TRAIN_TEXT VOCAB_SIZE OUT/tokenizer.json

TRAIN_TEXT is what `train --write-training-text` writes: the 38 training works joined as the
trainer joins them (the validation works are not in it). Hugging Face `tokenizers` (PyPI)
learns the merges; the lab's own Rust code reads the result and does all encoding.
The vocabulary is GPT-2's: the 256 byte tokens, the merges, and <|endoftext|>, the only special
token (never in the text; GPT-2's end-of-text id, kept so the config can name one).
"""
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers


def main():
    text_path, vocab_size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train([text_path], trainer)
    tok.save(out)
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    n = len(tok.encode(text).ids)
    print(f"{out}: {tok.get_vocab_size()} tokens; the training text is {len(text)} chars = "
          f"{n} tokens ({len(text) / n:.3f} chars/token)")


if __name__ == "__main__":
    main()
