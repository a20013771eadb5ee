//! The sampler workbench on a model: the figures of the page's chain panel and generation
//! through a chain of [`Step`]s.
//!
//! - [`chain_panel`]: at one token, the three distributions every tool reports one of, side
//!   by side: the model's own p = softmax(z) at T = 1, p after the chain's penalty and bias
//!   steps only, and the final distribution the token is drawn from, with what each step kept
//!   and the mass it removed.
//! - [`ChainGenerator`]: streaming generation whose draw is a [`Sampler`]'s, the history (the
//!   ids so far, prompt and generated) passed to its repetition steps.
//! - [`order_matters`]: the same prompt and seed through two chains, and the first token at
//!   which their texts part.
//! - [`chain_draws`]: many draws through a chain, counted against its final distribution.

use crate::error::{Error, Result};
use crate::limits::MAX_HISTORY;
use crate::model::{Decoding, Net, OutputMode};
use crate::numerics;
use crate::sampling::chain::Step;
use crate::sampling::workbench::{Distribution, Draw, Sampler};
use crate::sampling::Input;

use super::{at, rest, Draws, Output, Rows, Top};
use crate::limits::{MAX_DRAWS, MAX_ORDER_TOKENS, MAX_SEED};

/// The chain panel of one token.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainPanel {
    /// The model's own distribution, softmax(z) at T = 1, before any step, at the [`Rows`]
    /// asked for.
    pub model: Vec<f32>,
    /// After the chain's penalty and bias steps alone ([`Step::penalises`]), in the chain's
    /// order, at the same rows; equal to `model` when the chain has none.
    pub penalised: Vec<f32>,
    /// The draw the chain would make next: its final distribution, each step's report, the
    /// token. The sampler's state is not changed.
    pub draw: Draw,
    /// The `top` ids under the model and what the others hold of the final distribution.
    pub top: Top,
}

/// The chain panel for `values` (holding `input`), the ids so far `history` and `sampler`,
/// naming the `top_n` most likely ids under the model; `model` and `penalised` hold `rows`.
/// The same as [`chain_panel_of`] on `Output::new(values, top_n)`.
pub fn chain_panel(
    values: &[f32],
    input: Input,
    history: &[u32],
    sampler: &Sampler,
    top_n: usize,
    rows: Rows,
) -> Result<ChainPanel> {
    chain_panel_of(
        &Output::new(values.to_vec(), top_n)?,
        input,
        history,
        sampler,
        rows,
    )
}

/// The chain panel for one model output (holding `input`): its values' log_softmax and top
/// ids are the [`Output`]'s, so a panel after a change of the chain runs only the chain.
pub fn chain_panel_of(
    output: &Output,
    input: Input,
    history: &[u32],
    sampler: &Sampler,
    rows: Rows,
) -> Result<ChainPanel> {
    let (values, log_probs) = (&output.values, &output.log_probs);
    let draw = sampler.clone().sample(values, history, input)?;
    let top = top_of(output.top_ids.clone(), values.len(), &draw.distribution);
    let model: Vec<f32> = match rows {
        Rows::All => log_probs.iter().map(|&l| l.exp()).collect(),
        Rows::Top => top
            .ids
            .iter()
            .map(|&i| log_probs[i as usize].exp())
            .collect(),
    };
    let penalties: Vec<Step> = (sampler.chain().iter())
        .filter(|s| s.penalises())
        .cloned()
        .collect();
    let penalised = if penalties.is_empty() {
        model.clone()
    } else {
        let p = Sampler::new(penalties, Some(sampler.seed()))?
            .distribution(values, history, input)?
            .probs;
        match rows {
            Rows::All => p,
            Rows::Top => at(&p, &top.ids),
        }
    };
    Ok(ChainPanel {
        model,
        penalised,
        draw,
        top,
    })
}

/// The shown `ids` (of V) and the final mass and cuts of the others.
fn top_of(ids: Vec<u32>, v: usize, d: &Distribution) -> Top {
    let (rest_mass, rest_cut) = rest(&ids, &d.probs, |i| d.cut[i] != 0);
    Top {
        rest: v - ids.len(),
        rest_mass,
        rest_cut,
        ids,
    }
}

/// `n` draws (in [1, [`MAX_DRAWS`]]) through `steps`, each by a fresh sampler seeded seed,
/// seed + 1, … (as [`super::draws`] seeds `sample`), counted against the final distribution.
pub fn chain_draws(
    values: &[f32],
    input: Input,
    history: &[u32],
    steps: &[Step],
    seed: u64,
    n: usize,
) -> Result<Draws> {
    if !(1..=MAX_DRAWS).contains(&n) {
        return Err(Error::arg(
            "n",
            &format!("an integer in [1, {MAX_DRAWS}]"),
            n,
        ));
    }
    let mut counts = vec![0u32; values.len()];
    let mut probs = Vec::new();
    for i in 0..n as u64 {
        let mut s = Sampler::new(steps.to_vec(), Some((seed + i) % (MAX_SEED + 1)))?;
        let d = s.sample(values, history, input)?;
        counts[d.token] += 1;
        if i == 0 {
            probs = d.distribution.probs;
        }
    }
    let expected = (probs.iter())
        .map(|&p| (p as f64 * n as f64) as f32)
        .collect();
    Ok(Draws {
        counts,
        probs,
        expected,
    })
}

/// One token of a [`ChainGenerator`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChainToken {
    pub token: u32,
    /// The text it completes (see [`crate::model::Generated::text`]).
    pub text: String,
    /// The draw: the final distribution and each step's report.
    pub draw: Draw,
    /// ln p(token) under the model at T = 1, before any step (−surprisal).
    pub model_log_prob: f32,
    /// The model ended the text (BOS or an end-of-text id); no further token follows.
    pub end: bool,
}

/// Streaming generation with a KV cache whose draws are a [`Sampler`]'s: the same model,
/// prompt, chain and seed give the same text natively and in wasm. The prompt, the full window
/// and the end are [`Decoding`]'s, as for [`crate::model::Generator`]. The history the
/// repetition steps read is every id so far, prompt included (its last [`MAX_HISTORY`]).
#[derive(Debug, Clone)]
pub struct ChainGenerator {
    decoding: Decoding,
    sampler: Sampler,
    /// What the model's output holds (logits or log-probabilities), for the sampler.
    input: Input,
}

impl ChainGenerator {
    /// `prompt` must be non-empty and encodable; `seed = None` draws a fresh seed.
    pub fn new(
        model: &Net,
        prompt: &str,
        mode: OutputMode,
        steps: Vec<Step>,
        seed: Option<u64>,
    ) -> Result<Self> {
        Ok(ChainGenerator {
            decoding: Decoding::new(model, prompt, mode)?,
            sampler: Sampler::new(steps, seed)?,
            input: mode.sample_input(),
        })
    }

    /// The seed of the sampler's generator.
    pub fn seed(&self) -> u64 {
        self.sampler.seed()
    }

    /// Every token so far: prompt, then generated.
    pub fn tokens(&self) -> &[u32] {
        self.decoding.tokens()
    }

    /// Generates one token. After the model has ended the text, an error.
    pub fn next_token(&mut self) -> Result<ChainToken> {
        let last = self.decoding.next_values()?;
        let tokens = self.decoding.tokens();
        let history = &tokens[tokens.len().saturating_sub(MAX_HISTORY)..];
        let draw = self.sampler.sample(&last, history, self.input)?;
        let model_log_prob = numerics::log_softmax(&last)?[draw.token];
        let (text, end) = self.decoding.accept(draw.token as u32)?;
        Ok(ChainToken {
            token: draw.token as u32,
            text,
            draw,
            model_log_prob,
            end,
        })
    }
}

/// The same prompt and seed through two chains.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderMatters {
    /// Each chain's tokens' texts, up to `n` each (fewer if the model ended the text).
    pub texts: [Vec<String>; 2],
    /// The index of the first generated token at which the two differ; `None` if they agree
    /// all along.
    pub parts_at: Option<usize>,
    /// How many ids each chain kept at that token.
    pub kept_at: Option<[usize; 2]>,
}

/// Generates `n` tokens (in [1, [`MAX_ORDER_TOKENS`]]) after `prompt` through each of `chains`
/// from the same `seed`, and finds the first token at which they differ.
pub fn order_matters(
    model: &Net,
    prompt: &str,
    mode: OutputMode,
    chains: [Vec<Step>; 2],
    seed: u64,
    n: usize,
) -> Result<OrderMatters> {
    if !(1..=MAX_ORDER_TOKENS).contains(&n) {
        return Err(Error::arg(
            "tokens",
            &format!("an integer in [1, {MAX_ORDER_TOKENS}]"),
            n,
        ));
    }
    let [a, b] = chains;
    let mut runs = [
        ChainGenerator::new(model, prompt, mode, a, Some(seed))?,
        ChainGenerator::new(model, prompt, mode, b, Some(seed))?,
    ];
    let mut texts: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let (mut parts_at, mut kept_at) = (None, None);
    let mut ended = [false, false];
    for i in 0..n {
        let mut step: [Option<ChainToken>; 2] = [None, None];
        for (r, run) in runs.iter_mut().enumerate() {
            if !ended[r] {
                let t = run.next_token()?;
                ended[r] = t.end;
                texts[r].push(t.text.clone());
                step[r] = Some(t);
            }
        }
        if parts_at.is_none() {
            let same = match (&step[0], &step[1]) {
                (Some(x), Some(y)) => x.token == y.token,
                (None, None) => true,
                _ => false,
            };
            if !same {
                parts_at = Some(i);
                let kept =
                    |t: &Option<ChainToken>| t.as_ref().map_or(0, |t| t.draw.distribution.kept);
                kept_at = Some([kept(&step[0]), kept(&step[1])]);
            }
        }
        if ended[0] && ended[1] {
            break;
        }
    }
    Ok(OrderMatters {
        texts,
        parts_at,
        kept_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::chain;

    /// The page's "the order matters" preset: z = (3, 2, 1), top-p 0.8 and T = 0.5. Hugging
    /// Face's order (temperature first) keeps {0}, llama.cpp's (temperature last) {0, 1}.
    #[test]
    fn the_order_matters_on_3_2_1() {
        let z = [3.0, 2.0, 1.0];
        let kept = |url: &str| {
            let s = Sampler::new(chain::from_url(url).unwrap(), Some(0)).unwrap();
            let d = s.distribution(&z, &[], Input::Logits).unwrap();
            (0..3).filter(|&i| d.cut[i] == 0).collect::<Vec<_>>()
        };
        assert_eq!(kept("t_0.5~p_0.8_1"), vec![0]);
        assert_eq!(kept("p_0.8_0~t_0.5"), vec![0, 1]);
    }

    /// Many draws through a chain: counts add to n and follow the final distribution; an id
    /// the chain cut is never drawn.
    #[test]
    fn chain_draws_follow_the_final_distribution() {
        let steps = chain::from_url("p_0.8_1").unwrap();
        let d = chain_draws(&[3.0, 2.0, 1.0], Input::Logits, &[], &steps, 5, 2000).unwrap();
        assert_eq!(d.counts.iter().sum::<u32>(), 2000);
        assert_eq!(d.counts[2], 0);
        // p = (0.731, 0.269): within 4 standard deviations (√(n p q) ≈ 20).
        assert!(
            (d.counts[0] as f64 - 2000.0 * 0.731).abs() < 80.0,
            "{:?}",
            d.counts
        );
        assert!((d.expected[0] - 2000.0 * d.probs[0]).abs() < 1e-3);
        assert!(chain_draws(&[1.0], Input::Logits, &[], &steps, 0, 0).is_err());
    }

    /// Greedily, generation through a chain gives `Generator`'s tokens, past a full context
    /// too (the default model's learned positions: the cache is rebuilt).
    #[test]
    fn greedy_chain_generation_is_generators() {
        use crate::model::Generator;
        use crate::sampling::SampleOptions;
        let net =
            Net::from_safetensors(include_bytes!("../../www/models/default.safetensors")).unwrap();
        let greedy = SampleOptions {
            temperature: 0.0,
            ..SampleOptions::default()
        };
        let mut g = Generator::new(&net, "ROMEO:\n", OutputMode::Logits, greedy).unwrap();
        let steps = chain::from_url("t_0").unwrap();
        let mut c =
            ChainGenerator::new(&net, "ROMEO:\n", OutputMode::Logits, steps, Some(3)).unwrap();
        for i in 0..net.config().context_length * 2 {
            let (a, b) = (g.next_token().unwrap(), c.next_token().unwrap());
            assert_eq!((a.token, &a.text), (b.token, &b.text), "token {i}");
        }
        assert_eq!(g.tokens(), c.tokens());
    }

    /// The penalised distribution applies only the penalty and bias steps, in order: a bias
    /// of −1 on id 0 then a top-k of 1, on z = (3, 2, 1).
    #[test]
    fn penalised_is_the_penalty_steps_alone() {
        let steps = chain::from_url("lb_0_-1~k_1_h").unwrap();
        let s = Sampler::new(steps, Some(1)).unwrap();
        let z = [3.0f32, 2.0, 1.0];
        let p = chain_panel(&z, Input::Logits, &[], &s, 2, Rows::All).unwrap();
        let sm = |v: &[f64]| {
            let m = v.iter().map(|x| x.exp()).sum::<f64>();
            v.iter().map(|x| x.exp() / m).collect::<Vec<_>>()
        };
        let want_model = sm(&[3.0, 2.0, 1.0]);
        let want_pen = sm(&[2.0, 2.0, 1.0]);
        for i in 0..3 {
            assert!((p.model[i] as f64 - want_model[i]).abs() < 1e-6);
            assert!((p.penalised[i] as f64 - want_pen[i]).abs() < 1e-6);
        }
        // After the bias, ids 0 and 1 tie at 2: Hugging Face's top-k keeps both.
        assert_eq!(p.draw.distribution.kept, 2);
        assert_eq!(p.top.ids, vec![0, 1]);
        assert_eq!((p.top.rest, p.top.rest_cut), (1, 1));
    }

    /// With [`Rows::Top`], `model` and `penalised` are the full vectors' entries at the top
    /// ids, bit for bit, and everything else is unchanged: with a penalty step and without.
    #[test]
    fn top_rows_are_the_full_vectors_at_the_top_ids() {
        let z: Vec<f32> = (0..300)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let history = [3, 5, 5, 280];
        for url in ["rp_1.3~lb_7_-2~p_0.9_1~t_0.8", "p_0.9_1~t_0.8"] {
            let s = Sampler::new(chain::from_url(url).unwrap(), Some(4)).unwrap();
            let full = chain_panel(&z, Input::Logits, &history, &s, 12, Rows::All).unwrap();
            let top = chain_panel(&z, Input::Logits, &history, &s, 12, Rows::Top).unwrap();
            assert_eq!(top.top, full.top);
            assert_eq!(top.top.ids.len(), 12);
            assert_eq!(top.model, at(&full.model, &full.top.ids));
            assert_eq!(top.penalised, at(&full.penalised, &full.top.ids));
            assert_eq!(top.draw, full.draw);
        }
    }

    /// One [`Output`] kept while the chain changes gives each chain's panel as
    /// [`chain_panel`] makes it from the values, bit for bit, at every rows.
    #[test]
    fn a_kept_output_gives_each_chains_panel() {
        let z: Vec<f32> = (0..300)
            .map(|i| ((i * 53 % 97) as f32 - 40.0) / 6.0)
            .collect();
        let history = [3, 5, 5, 280];
        let kept = Output::new(z.clone(), 12).unwrap();
        for url in [
            "rp_1.3~lb_7_-2~p_0.9_1~t_0.8",
            "p_0.9_1~t_0.8",
            "t_0.8~k_5_h",
        ] {
            let s = Sampler::new(chain::from_url(url).unwrap(), Some(4)).unwrap();
            for rows in [Rows::All, Rows::Top] {
                let fresh = chain_panel(&z, Input::Logits, &history, &s, 12, rows).unwrap();
                let of = chain_panel_of(&kept, Input::Logits, &history, &s, rows).unwrap();
                assert_eq!(of, fresh, "{url} {rows:?}");
            }
        }
    }
}
