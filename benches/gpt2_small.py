"""GPT-2 small for the speed benchmark (./build.sh bench-gpt2): makes a checkpoint of its shape
with random weights (transformers' GPT2LMHeadModel, seed 0) in OUT if it is not there yet, with
the test fixtures' tokenizer.json, then times PyTorch eager on one thread with the protocol the
lab's benchmarks use: an 8-token prompt, then 64 tokens one at a time with the KV cache.

    python benches/gpt2_small.py OUT
"""
import os
import shutil
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

out = sys.argv[1]
torch.manual_seed(0)
if not os.path.exists(os.path.join(out, "model.safetensors")):
    model = GPT2LMHeadModel(GPT2Config()).eval()  # 12 layers, 768 wide, 12 heads, 50 257 tokens
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(os.path.join(os.path.dirname(__file__), "../tests/fixtures/hf/tokenizer.json"), out)
model = GPT2LMHeadModel.from_pretrained(out).eval()
torch.set_num_threads(1)
ids = torch.tensor([[325, 26, 199, 488, 371, 915, 12, 470]])
n = 64
with torch.no_grad():
    step = model(ids, use_cache=True)
    cache, token = step.past_key_values, step.logits[:, -1:].argmax(-1)
    start = time.perf_counter()
    for _ in range(n):
        step = model(token, past_key_values=cache, use_cache=True)
        cache, token = step.past_key_values, step.logits[:, -1:].argmax(-1)
    secs = time.perf_counter() - start
print(f"PyTorch {torch.__version__} eager GPT-2 small (one thread): {n / secs:.1f} tokens/s "
      f"({secs * 1e3 / n:.1f} ms/token, {n} tokens with the KV cache)")
