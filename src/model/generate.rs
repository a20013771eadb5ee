//! Streaming generation on the plain-array [`Net`]: a prompt, the sampler chain, one token per
//! call.

use crate::error::{Error, Result};
use crate::limits::check_text_len;
use crate::model::{KvCache, Net, OutputMode};
use crate::rng::Rng;
use crate::sampling::{self, Sample, SampleOptions};

/// One generated token, as the page shows it.
#[derive(Debug, Clone)]
pub struct Generated {
    pub token: u32,
    /// The token's character.
    pub text: String,
    /// The draw: final distribution `probs` and the rest of the sampler's report.
    pub sample: Sample,
}

/// Streaming generation with a KV cache, one token per [`Generator::next_token`] call, on the
/// plain-array [`Net`].
///
/// One [`Rng`] is seeded once and advanced per token, so the same checkpoint, prompt, options
/// and seed give the same text natively and in wasm. When the context window is full the cache
/// is rebuilt from the last ⌊context_length / 2⌋ tokens (learned positions cannot be shifted),
/// which costs one prefill every context_length / 2 tokens.
#[derive(Debug, Clone)]
pub struct Generator {
    model: Net,
    mode: OutputMode,
    options: SampleOptions,
    rng: Rng,
    seed: u64,
    cache: KvCache,
    /// Every token so far: prompt, then generated.
    tokens: Vec<u32>,
    /// Tokens not yet fed to the cache.
    pending: Vec<u32>,
}

impl Generator {
    /// `prompt` must be non-empty and encodable. `options.input` is overridden to match `mode`
    /// (logits → Logits, logSoftmax → LogProbs); `options.seed = None` draws a fresh seed,
    /// reported by [`Generator::seed`].
    pub fn new(
        model: &Net,
        prompt: &str,
        mode: OutputMode,
        options: SampleOptions,
    ) -> Result<Self> {
        check_text_len("prompt", prompt)?;
        let tokens = model.encode(prompt)?;
        if tokens.is_empty() {
            return Err(Error::arg("prompt", "a non-empty string", "\"\""));
        }
        let mut options = options;
        options.input = mode.sample_input();
        options.validate()?;
        let seed = options.seed.unwrap_or_else(Rng::random_seed);
        Ok(Generator {
            model: model.clone(),
            mode,
            options,
            rng: Rng::new(seed),
            seed,
            cache: KvCache::new(),
            pending: tokens.clone(),
            tokens,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every token so far (prompt and generated).
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Generates one token.
    pub fn next_token(&mut self) -> Result<Generated> {
        let ctx = self.model.config().context_length;
        if self.cache.len() + self.pending.len() > ctx {
            // Window full: restart from the most recent tokens.
            let keep = (ctx / 2).max(1);
            self.cache.clear();
            self.pending = self.tokens[self.tokens.len() - keep..].to_vec();
        }
        let values = self
            .model
            .forward_cached(&mut self.cache, &self.pending, self.mode)?;
        let v = self.model.config().vocab_size;
        let last = &values[values.len() - v..];
        let mut sample = sampling::sample_with(last, &self.options, &mut self.rng)?;
        sample.seed = self.seed;
        let token = sample.token as u32;
        self.tokens.push(token);
        self.pending = vec![token];
        Ok(Generated {
            token,
            text: self.model.decode(&[token])?,
            sample,
        })
    }

    /// Generates `n` tokens and returns their text.
    pub fn generate(&mut self, n: usize) -> Result<String> {
        let mut out = String::new();
        for _ in 0..n {
            out.push_str(&self.next_token()?.text);
        }
        Ok(out)
    }
}
