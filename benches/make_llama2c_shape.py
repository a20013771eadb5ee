"""A llama2.c model of one of the TinyStories shapes with random weights (legacy format), and a
32 000-token tokenizer.bin, for timing and memory only (nothing is downloaded):

    python3 benches/make_llama2c_shape.py 15M|110M DIR

15M: dim 288, 6 layers, 6 heads, hidden 768, seq_len 256 (60.8 MB); 110M: dim 768, 12 layers,
12 heads, hidden 2048, seq_len 1024 (438 MB). Both: vocabulary 32 000, shared classifier.
Needs numpy.
"""
import os
import struct
import sys

import numpy as np

SHAPES = {"15M": (288, 768, 6, 6, 256), "110M": (768, 2048, 12, 12, 1024)}
V = 32000


def main():
    shape, out = sys.argv[1], sys.argv[2]
    dim, hidden, layers, heads, seq_len = SHAPES[shape]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    hs = dim // heads
    with open(os.path.join(out, "model.bin"), "wb") as f:
        f.write(struct.pack("7i", dim, hidden, layers, heads, heads, V, seq_len))

        def w(*shape, std=0.02):
            f.write((rng.standard_normal(shape, dtype=np.float32) * std).tobytes())

        w(V, dim)
        f.write(np.ones((layers, dim), np.float32).tobytes())
        for _ in range(4):  # wq, wk, wv, wo
            w(layers, dim, dim)
        f.write(np.ones((layers, dim), np.float32).tobytes())
        w(layers, hidden, dim)  # w1
        w(layers, dim, hidden)  # w2
        w(layers, hidden, dim)  # w3
        f.write(np.ones(dim, np.float32).tobytes())
        freqs = 1.0 / (10000 ** (np.arange(0, hs, 2)[: hs // 2] / hs))
        angles = np.outer(np.arange(seq_len), freqs)
        f.write(np.cos(angles).astype(np.float32).tobytes())
        f.write(np.sin(angles).astype(np.float32).tobytes())
    tokens = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)]
    tokens += [bytes([c]) for c in range(32, 127)]
    i = 0
    while len(tokens) < V:
        tokens.append(b" t%d" % i)
        i += 1
    with open(os.path.join(out, "tokenizer.bin"), "wb") as f:
        f.write(struct.pack("i", max(len(t) for t in tokens)))
        for k, t in enumerate(tokens):
            f.write(struct.pack("fi", -float(k), len(t)))
            f.write(t)
    size = os.path.getsize(os.path.join(out, "model.bin"))
    print(f"{out}/model.bin: stories{shape} shape, {size} bytes; tokenizer.bin: {len(tokens)} tokens")


if __name__ == "__main__":
    main()
