"""GGUF files of SmolLM2-135M's shape with random weights, for timing only (nothing is
downloaded):

    python benches/smollm2_gguf.py make DIR          # DIR/f32.gguf, q8_0, q4_0 and q4_k_m.gguf
    python benches/smollm2_gguf.py llama-cpp FILE [TOKENS]   # llama.cpp natively, one thread

576 wide, 30 layers, 9 heads, 3 key/value heads, MLP 1 536, V = 49 152, θ = 1e5, tied, as
`benches/llama_hf_shape.py` makes it for the Hugging Face folders. The weights are normal with
standard deviation 0.02 (transformers' initialiser), written as llama.cpp's converter writes a
`llama` model (its tensor names, ne = the PyTorch shape reversed) by the `gguf` package, first
in f32, then quantised by llama.cpp's own quantiser through llama-cpp-python
(`llama_model_quantize`, one thread): Q8_0, Q4_0 (its token embedding in Q8_0) and Q4_K_M. At
this width (576, not a multiple of 256) llama.cpp's Q4_K_M holds only 16 Q4_K and 14 Q6_K
matrices: the rest fall back to Q5_0 and Q8_0. The q and k rows are random, so llama.cpp's RoPE permutation is left out: it would only reorder
random values.

The tokenizer is a byte-level BPE (`gpt2`, pre-tokenizer `smollm`): the 256 byte tokens, a few
merges, and filler tokens up to V that no text produces. No end-of-text id is written (llama.cpp
then takes its default, which the benchmark tells it to ignore), so greedy generation never
stops early.

`llama-cpp` loads FILE into llama.cpp (llama-cpp-python, one thread, the KV cache in f32 as the
lab keeps it, weight repacking off), feeds the prompt "Once upon a", then generates TOKENS (default 64) greedy tokens
one at a time (the id of the largest logit, fed back), and prints one JSON line:
{"tokens_per_s": …, "prompt_tokens": …}.

Needs numpy, gguf and llama-cpp-python.
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import gguf
import llama_cpp

SHAPE = dict(embd=576, layers=30, heads=9, kv=3, mlp=1536, vocab=49152, theta=1e5, ctx=8192)


def bytes_to_unicode():
    """GPT-2's byte → character map (the spelling of byte-level BPE tokens)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def vocab(n):
    byte = bytes_to_unicode()
    tokens = [byte[b] for b in range(256)]
    merges = ["Ġ t", "h e", "Ġ a", "i n", "Ġt h", "e r", "o n", "Ġ u", "p o", "n c"]
    tokens += ["".join(m.split(" ")) for m in merges]
    tokens += [f"<filler {i}>" for i in range(n - len(tokens))]
    return tokens, merges


def write_f32(path):
    s = SHAPE
    hd = s["embd"] // s["heads"]
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(s["ctx"])
    w.add_embedding_length(s["embd"])
    w.add_block_count(s["layers"])
    w.add_feed_forward_length(s["mlp"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(s["theta"])
    w.add_rope_dimension_count(hd)
    w.add_file_type(0)
    tokens, merges = vocab(s["vocab"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_merges(merges)
    w.add_token_list(tokens)
    w.add_token_types([1] * len(tokens))

    def matrix(name, rows, cols):
        w.add_tensor(name, (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02))

    def gain(name, n):
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    matrix("token_embd.weight", s["vocab"], s["embd"])
    gain("output_norm.weight", s["embd"])
    kv = s["kv"] * hd
    for i in range(s["layers"]):
        gain(f"blk.{i}.attn_norm.weight", s["embd"])
        gain(f"blk.{i}.ffn_norm.weight", s["embd"])
        matrix(f"blk.{i}.attn_q.weight", s["embd"], s["embd"])
        matrix(f"blk.{i}.attn_k.weight", kv, s["embd"])
        matrix(f"blk.{i}.attn_v.weight", kv, s["embd"])
        matrix(f"blk.{i}.attn_output.weight", s["embd"], s["embd"])
        matrix(f"blk.{i}.ffn_gate.weight", s["mlp"], s["embd"])
        matrix(f"blk.{i}.ffn_up.weight", s["mlp"], s["embd"])
        matrix(f"blk.{i}.ffn_down.weight", s["embd"], s["mlp"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantize(src, dst, ftype):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 1
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(),
                                        llama_cpp.byref(params))
    assert rc == 0, f"llama_model_quantize returned {rc}"


def no_repacking():
    """Model params with llama.cpp's weight repacking (extra buffer types) off: on this kind of
    machine its repacked kernels (AMX) crash (SIGSEGV), as in tests/fixtures/make_gguf_fixtures.py."""
    default = llama_cpp.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    llama_cpp.llama_model_default_params = params
    llama_cpp.llama.llama_cpp.llama_model_default_params = params


def llama_cpp_speed(path, tokens):
    no_repacking()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_batch=64, n_threads=1,
                          n_threads_batch=1, logits_all=True, verbose=False,
                          type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    prompt = llm.tokenize(b"Once upon a", add_bos=False)
    llm.eval(prompt)
    step = lambda: llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
    step()  # the first generated token, as the other benchmarks leave it out
    start = time.perf_counter()
    for _ in range(tokens):
        step()
    secs = time.perf_counter() - start
    print(json.dumps({"tokens_per_s": tokens / secs, "prompt_tokens": len(prompt)}))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "llama-cpp":
        llama_cpp_speed(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 64)
        return
    if len(sys.argv) != 3 or sys.argv[1] != "make":
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    f32 = out / "f32.gguf"
    write_f32(f32)
    print(f32, os.path.getsize(f32), "bytes")
    for name, ftype in [("q8_0", llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0),
                        ("q4_0", llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0),
                        ("q4_k_m", llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M)]:
        quantize(f32, out / f"{name}.gguf", ftype)
        print(out / f"{name}.gguf", os.path.getsize(out / f"{name}.gguf"), "bytes")


if __name__ == "__main__":
    main()
