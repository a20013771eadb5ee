"""Hugging Face folders of a real model's shape with random weights, for timing and memory only
(nothing is downloaded), and PyTorch's speed on them:

    python benches/llama_hf_shape.py make smollm2-135m DIR   # DIR/bf16 and DIR/f32, 135 M parameters
    python benches/llama_hf_shape.py make qwen2.5-0.5b DIR   # DIR/bf16, 494 M parameters (0.99 GB)
    python benches/llama_hf_shape.py torch DIR/f32 [TOKENS]  # PyTorch eager, one thread

`make` writes config.json and model.safetensors with transformers' own save_pretrained, and the
lab's small test tokenizer (tests/fixtures/llama/tokenizer.json; its ids are all below V). The
f32 folder holds the very same values as the bf16 one (the bf16 weights widened), so both
compute the same logits. No end-of-text id is set, so that greedy generation never stops early.

`torch` loads the folder into transformers' LlamaForCausalLM (float32), feeds an 8-token prompt,
then generates TOKENS (default 64) greedy tokens one at a time with the KV cache (`use_cache`)
on one thread, and prints one JSON line: {"tokens_per_s": …}. Needs torch, transformers and
safetensors.
"""
import json
import os
import shutil
import sys
import time

import torch

SHAPES = {
    # SmolLM2-135M: 576 wide, 30 layers, 9 heads, 3 key/value heads, MLP 1536, V 49152.
    "smollm2-135m": dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=576,
                         num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         intermediate_size=1536, vocab_size=49152, rope_theta=1e5,
                         max_position_embeddings=8192, rms_norm_eps=1e-5, tie_word_embeddings=True),
    # Qwen2.5-0.5B: 896 wide, 24 layers, 14 heads, 2 key/value heads, MLP 4864, V 151936.
    "qwen2.5-0.5b": dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=896,
                         num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, rope_theta=1e6,
                         max_position_embeddings=32768, rms_norm_eps=1e-6, tie_word_embeddings=True,
                         use_sliding_window=False),
}
TOKENIZER = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "llama", "tokenizer.json")


def make(shape, out):
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(SHAPES[shape])
    model_type = fields.pop("model_type")
    config = AutoConfig.for_model(model_type, **fields, bos_token_id=None, eos_token_id=None,
                                  pad_token_id=None)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    dtypes = {"bf16": torch.bfloat16} if shape.startswith("qwen") else {
        "bf16": torch.bfloat16, "f32": torch.float32}
    for name, dtype in dtypes.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        model.to(dtype).save_pretrained(folder, safe_serialization=True, max_shard_size="20GB")
        for extra in ("generation_config.json",):
            if os.path.exists(os.path.join(folder, extra)):
                os.remove(os.path.join(folder, extra))
        shutil.copy(TOKENIZER, os.path.join(folder, "tokenizer.json"))
        size = os.path.getsize(os.path.join(folder, "model.safetensors"))
        print(f"{folder}: {shape} shape in {name}, {model.num_parameters() / 1e6:.0f} M parameters, "
              f"model.safetensors {size / 1e6:.0f} MB")


def time_torch(folder, tokens):
    from transformers import LlamaForCausalLM

    torch.set_num_threads(1)
    model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    prompt = torch.arange(1, 9).unsqueeze(0)
    with torch.inference_mode():
        def run(n):
            out = model(prompt, use_cache=True)
            past, logits = out.past_key_values, out.logits
            start = time.perf_counter()
            for _ in range(n):
                next_id = logits[:, -1].argmax(-1, keepdim=True)
                out = model(next_id, past_key_values=past, use_cache=True)
                past, logits = out.past_key_values, out.logits
            return time.perf_counter() - start
        run(4)  # warm-up
        secs = run(tokens)
    print(json.dumps({"tokens_per_s": tokens / secs, "torch": torch.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "torch":
        time_torch(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 64)
    else:
        sys.exit(__doc__)
