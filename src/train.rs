//! The training loop, in steps so that a page can drive it: random windows of the training ids,
//! forward, the chosen loss pipeline, backward, global-norm gradient clipping, AdamW with linear
//! warmup then cosine decay of the learning rate.
//!
//! The loss pipeline is a parameter, because the seed is about what goes wrong when the output
//! design and the loss disagree:
//!
//! | pipeline                | model output    | loss                         | result |
//! |-------------------------|-----------------|------------------------------|--------|
//! | `CrossEntropyOnLogits`  | z               | CE(z) = −log_softmax(z)[y]   | correct |
//! | `NllOnLogSoftmax`       | log_softmax(z)  | NLL = −out[y]                | correct, same numbers |
//! | `NllOnLogits`           | z               | −z[y]                        | unbounded below: pushes z[y] to +∞ |
//! | `CrossEntropyOnSoftmax` | softmax(z)      | −log_softmax(p)[y]           | bounded in [ln V − 1 + …]: tiny gradients |
//!
//! A student can instead be distilled from a teacher ([`Trainer::distill`]): one of the six
//! pipelines of [`crate::distill`] against the teacher's logits on the same batches. The loss
//! and its gradient with respect to the student's logits come from
//! [`crate::distill::distill_loss`], the function checked against PyTorch, and reach the
//! weights through candle's autograd as the gradient of Σ z ⊙ g (g held constant).
//!
//! Whatever the pipeline optimises, the report also gives the true cross-entropy of the model's
//! distribution softmax(z), in nats per character, so the mistakes can be seen for what they are.
//!
//! Weight init and batch sampling use our seeded [`Rng`] (separate streams), so the same seed
//! gives the same initial weights and the same batches for all four pipelines.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};

use candle_core::{Device, Tensor, Var, D};

use crate::data::Corpus;
use crate::distill::{distill_loss, DistillOptions};
use crate::error::{Code, Error, Result};
use crate::limits::{
    MAX_BATCH_SIZE, MAX_STEPS_PER_CALL, MAX_TRAIN_ACTIVATIONS, MAX_TRAIN_PARAMETERS,
};
use crate::model::{Config, Gpt, Net, OutputMode};
use crate::rng::Rng;

pub use crate::loss::Pipeline;

impl Pipeline {
    /// The model's output design in this pipeline.
    pub fn output_mode(self) -> OutputMode {
        match self {
            Pipeline::NllOnLogSoftmax => OutputMode::LogSoftmax,
            _ => OutputMode::Logits,
        }
    }
}

/// Mean of −values[n, targets[n]] over the batch: PyTorch's `nll_loss` (mean reduction).
/// `values` is (N, V), `targets` (N,) of u32.
pub fn nll(values: &Tensor, targets: &Tensor) -> Result<Tensor> {
    Ok(candle_nn::loss::nll(values, targets)?)
}

/// PyTorch's `cross_entropy` (mean reduction): nll(log_softmax(values)).
pub fn cross_entropy(values: &Tensor, targets: &Tensor) -> Result<Tensor> {
    nll(&candle_nn::ops::log_softmax(values, D::Minus1)?, targets)
}

/// The pipeline's loss and the true cross-entropy of softmax(z), for one batch.
/// `out` is the model's output in `pipeline.output_mode()`, shape (N, V).
fn pipeline_loss(pipeline: Pipeline, out: &Tensor, targets: &Tensor) -> Result<(Tensor, Tensor)> {
    let loss = match pipeline {
        Pipeline::CrossEntropyOnLogits => cross_entropy(out, targets)?,
        Pipeline::NllOnLogSoftmax => nll(out, targets)?,
        Pipeline::NllOnLogits => nll(out, targets)?,
        Pipeline::CrossEntropyOnSoftmax => {
            cross_entropy(&candle_nn::ops::softmax(out, D::Minus1)?, targets)?
        }
    };
    let out = out.detach();
    let true_ce = match pipeline.output_mode() {
        OutputMode::Logits => cross_entropy(&out, targets)?,
        OutputMode::LogSoftmax => nll(&out, targets)?,
    };
    Ok((loss, true_ce))
}

/// Optimiser and schedule settings. Defaults suit the default model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate, reached after `warmup_steps`.
    pub learning_rate: f64,
    /// Final learning rate of the cosine decay.
    pub min_learning_rate: f64,
    pub warmup_steps: usize,
    /// Length of the schedule; after it the rate stays at `min_learning_rate`.
    pub total_steps: usize,
    /// Decoupled weight decay λ, applied to matrices and embeddings only (not to biases or
    /// LayerNorm parameters), as in nanoGPT.
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    /// Gradients are rescaled so that their global L2 norm is at most this. 0 = off.
    pub grad_clip: f64,
    /// Validation batches per [`Trainer::step`] report (always the same ones). 0 = no estimate.
    pub eval_batches: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            batch_size: 32,
            learning_rate: 2e-3,
            min_learning_rate: 2e-4,
            warmup_steps: 100,
            total_steps: 5000,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            grad_clip: 1.0,
            eval_batches: 4,
        }
    }
}

impl TrainOptions {
    /// The defaults of live training in the page and of `new Trainer(…)` in JS, the one place
    /// they are set: batches of 8, a peak rate of 1e-2 reached after 20 steps and decayed (cosine)
    /// to a tenth of it over 3 000 steps, validation on 2 fixed batches. A rate given without a
    /// minimum gets a tenth of it ([`TrainOptions::with_learning_rate`]).
    pub fn page() -> TrainOptions {
        TrainOptions {
            batch_size: 8,
            warmup_steps: 20,
            total_steps: 3000,
            eval_batches: 2,
            ..TrainOptions::default()
        }
        .with_learning_rate(1e-2)
    }

    /// The peak learning rate, and a tenth of it as the minimum the cosine decays to.
    pub fn with_learning_rate(self, learning_rate: f64) -> TrainOptions {
        TrainOptions {
            learning_rate,
            min_learning_rate: learning_rate / 10.0,
            ..self
        }
    }

    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(Error::arg(
                "batchSize",
                &format!("an integer in [1, {MAX_BATCH_SIZE}]"),
                self.batch_size,
            ));
        }
        let finite_in = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(Error::arg(name, &format!("a number in [{lo}, {hi}]"), v))
            }
        };
        finite_in("learningRate", self.learning_rate, 0.0, 10.0)?;
        finite_in("minLearningRate", self.min_learning_rate, 0.0, 10.0)?;
        finite_in("weightDecay", self.weight_decay, 0.0, 10.0)?;
        finite_in("beta1", self.beta1, 0.0, 0.999_999)?;
        finite_in("beta2", self.beta2, 0.0, 0.999_999)?;
        finite_in("gradClip", self.grad_clip, 0.0, 1e6)?;
        if self.eval_batches > 1000 {
            return Err(Error::arg(
                "evalBatches",
                "an integer in [0, 1000]",
                self.eval_batches,
            ));
        }
        Ok(())
    }

    /// Linear warmup from 0, then cosine decay to `min_learning_rate` at `total_steps`.
    /// `step` counts from 0.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.learning_rate * (step + 1) as f64 / self.warmup_steps as f64;
        }
        if step >= self.total_steps {
            return self.min_learning_rate;
        }
        let progress = (step - self.warmup_steps) as f64
            / (self.total_steps - self.warmup_steps).max(1) as f64;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.min_learning_rate + cosine * (self.learning_rate - self.min_learning_rate)
    }
}

/// What [`Trainer::step`] reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Steps done so far, in total.
    pub step: usize,
    /// Learning rate of the last step.
    pub learning_rate: f64,
    /// The pipeline's own loss (what the optimiser minimises), mean over the steps of this call.
    pub loss: f32,
    /// True cross-entropy of softmax(z) on the same training batches (nats/char).
    pub train_ce: f32,
    /// True cross-entropy on `eval_batches` fixed validation batches; `None` if 0.
    pub val_ce: Option<f32>,
    /// Global gradient norm of the last step, before clipping.
    pub grad_norm: f32,
    /// A distilled student's soft term (T² included where its pipeline has it), mean over the
    /// steps of this call; `None` for the four pipelines.
    pub kl_term: Option<f32>,
    /// A distilled student's soft-term gradient with respect to its logits, its L2 norm at the
    /// last step (before the (1 − α) weight); `None` for the four pipelines.
    pub soft_grad_norm: Option<f32>,
}

/// What one batch's objective gives: the tensor to differentiate, the loss as the optimiser
/// sees it, the true cross-entropy, and a distilled student's soft term and its gradient norm.
struct BatchObjective {
    backward: Tensor,
    loss: f32,
    true_ce: f32,
    kl_term: Option<f32>,
    soft_grad_norm: Option<f32>,
}

/// The teacher of a distilled student, and how it teaches.
struct Teacher {
    options: DistillOptions,
    /// The teacher's network and its logits on recent batches, shared by every student of the
    /// same teacher.
    shared: Arc<SharedTeacher>,
    /// How many batches' teacher logits this student computed itself ([`Trainer::teacher_passes`]).
    passes: usize,
}

/// A teacher shared by its students. The page trains six students from the same seed, so on
/// the same batches, one after the other: the teacher's forward pass over a batch is computed
/// by the first student that needs it and read by the others. The logits are a function of the
/// teacher's weights and the batch's ids alone, so a student gets the same values either way.
struct SharedTeacher {
    net: Net,
    /// The logits of recent batches. An entry goes when every student has read it, or, oldest
    /// first, when the entries would take more than [`TEACHER_CACHE_BYTES`] (students whose
    /// batches differ, or far apart in steps).
    batches: Mutex<VecDeque<CachedBatch>>,
}

/// The teacher's logits on one batch, and how many students have read them.
struct CachedBatch {
    ids: Vec<u32>,
    logits: Arc<Vec<f32>>,
    reads: usize,
}

impl CachedBatch {
    fn bytes(&self) -> usize {
        4 * (self.ids.len() + self.logits.len())
    }
}

/// The most memory the cached teacher logits of one teacher take: 200 batches of the page's
/// (8 × 64 positions, V = 84), four times a round of 50 steps.
const TEACHER_CACHE_BYTES: usize = 32 << 20;

/// The live shared teachers, so that a new student finds the one its teacher's weights belong
/// to. Each goes with its last student.
static TEACHERS: Mutex<Vec<Weak<SharedTeacher>>> = Mutex::new(Vec::new());

impl SharedTeacher {
    /// The shared teacher of `net`'s weights, made if none is alive.
    fn of(net: Net) -> Arc<SharedTeacher> {
        let mut live = TEACHERS.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        if let Some(t) = live
            .iter()
            .filter_map(Weak::upgrade)
            .find(|t| t.net.shares_weights(&net))
        {
            return t;
        }
        let t = Arc::new(SharedTeacher {
            net,
            batches: Mutex::new(VecDeque::new()),
        });
        live.push(Arc::downgrade(&t));
        t
    }

    /// The teacher's logits for the rows of `ids` (each a window of `t` ids), (rows · t, V), and
    /// whether this call computed them.
    fn logits(self: &Arc<Self>, ids: &[u32], t: usize) -> Result<(Arc<Vec<f32>>, bool)> {
        let students = Arc::strong_count(self);
        {
            let mut batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = batches.iter().position(|b| b.ids == ids) {
                let entry = &mut batches[i];
                entry.reads += 1;
                let logits = Arc::clone(&entry.logits);
                if entry.reads >= students {
                    batches.remove(i);
                }
                return Ok((logits, false));
            }
        }
        let v = self.net.config().vocab_size;
        let mut logits = Vec::with_capacity(ids.len() * v);
        for row in ids.chunks_exact(t) {
            logits.extend(self.net.forward_ids(row, OutputMode::Logits)?);
        }
        let logits = Arc::new(logits);
        if students > 1 {
            let mut batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            batches.push_back(CachedBatch {
                ids: ids.to_vec(),
                logits: Arc::clone(&logits),
                reads: 1,
            });
            let mut bytes: usize = batches.iter().map(CachedBatch::bytes).sum();
            while bytes > TEACHER_CACHE_BYTES {
                bytes -= batches.pop_front().map_or(0, |b| b.bytes());
            }
        }
        Ok((logits, true))
    }
}

/// AdamW (Loshchilov & Hutter), with bias correction and decoupled weight decay.
///
/// The update runs as one loop over each parameter's values rather than a dozen tensor ops:
/// the small models of the page have many small parameters, and each candle op allocates a
/// tensor, which dominated a training step in wasm.
#[derive(Debug)]
struct AdamW {
    params: Vec<Moments>,
    t: i32,
}

#[derive(Debug)]
struct Moments {
    var: Var,
    /// Whether weight decay applies ([`crate::model::Param::decay`]).
    decay: bool,
    /// First moment m and second moment v, one entry per value of `var`.
    m: Vec<f32>,
    v: Vec<f32>,
}

impl AdamW {
    fn new(params: Vec<(Var, bool)>) -> Result<Self> {
        let params = params
            .into_iter()
            .map(|(var, decay)| {
                let n = var.as_tensor().elem_count();
                Moments {
                    var,
                    decay,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                }
            })
            .collect();
        Ok(AdamW { params, t: 0 })
    }

    /// θ ← θ·(1 − lr·λ) − lr · m̂ / (√v̂ + ε), with gradients g·`grad_scale`. `grads[i]` is the
    /// flattened gradient of parameter i (None: it got no gradient and is left alone).
    fn step(
        &mut self,
        grads: &[Option<Vec<f32>>],
        grad_scale: f64,
        lr: f64,
        o: &TrainOptions,
    ) -> Result<()> {
        const EPS: f32 = 1e-8;
        self.t += 1;
        let bc1 = (1.0 - o.beta1.powi(self.t)) as f32;
        let bc2 = (1.0 - o.beta2.powi(self.t)) as f32;
        let (b1, b2) = (o.beta1 as f32, o.beta2 as f32);
        let (scale, lr32) = (grad_scale as f32, lr as f32);
        for (p, g) in self.params.iter_mut().zip(grads) {
            let Some(g) = g else { continue };
            let theta = p.var.as_detached_tensor();
            let mut values = theta.flatten_all()?.to_vec1::<f32>()?;
            let shrink = if p.decay {
                (1.0 - lr * o.weight_decay) as f32
            } else {
                1.0
            };
            for (((x, &g), m), v) in values.iter_mut().zip(g).zip(&mut p.m).zip(&mut p.v) {
                let g = g * scale;
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let update = (*m / bc1) / ((*v / bc2).sqrt() + EPS);
                *x = *x * shrink - lr32 * update;
            }
            p.var
                .set(&Tensor::from_vec(values, theta.shape(), theta.device())?)?;
        }
        Ok(())
    }
}

/// A model being trained on a corpus with one pipeline.
pub struct Trainer {
    model: Gpt,
    vars: Vec<(String, Var)>,
    optimizer: AdamW,
    corpus: Corpus,
    pipeline: Pipeline,
    /// Some for a student distilled from a teacher ([`Trainer::distill`]).
    teacher: Option<Teacher>,
    options: TrainOptions,
    batch_rng: Rng,
    seed: u64,
    steps_done: usize,
}

/// Activation values one training step keeps for the backward pass, estimated per block as
/// 30·B·T·C (LayerNorms, q, k, v, the MLP, residuals) + 5·B·H·T² (attention scores, mask,
/// softmax), plus 4·B·T·V for the head and the loss. In u64, so no config can wrap it around.
pub fn activation_estimate(config: &Config, batch_size: usize) -> u64 {
    let [b, t, c, h, v, l] = [
        batch_size,
        config.context_length,
        config.embd,
        config.heads,
        config.vocab_size,
        config.layers,
    ]
    .map(|x| x as u64);
    l * b * t * (30 * c + 5 * h * t) + 4 * b * t * v
}

/// Added to the seed for the batch stream, so init and batches are independent streams.
const BATCH_STREAM: u64 = 0x5EED_BA7C_0000_0001;
/// Added to the seed for the (fixed) validation batches.
const VAL_STREAM: u64 = 0x5EED_7A1D_0000_0002;

impl Trainer {
    /// A fresh model of shape `config` (its `vocab_size` is taken from the corpus) initialised
    /// from `seed`. The corpus's training part must be longer than the context.
    pub fn new(
        corpus: Corpus,
        config: Config,
        pipeline: Pipeline,
        seed: u64,
        options: TrainOptions,
    ) -> Result<Trainer> {
        options.validate()?;
        let config = Config {
            vocab_size: corpus.tokenizer.len(),
            ..config
        };
        config.validate()?;
        // Memory caps, checked before anything is allocated (a junk config asks for ~50 GB).
        let parameters = config.parameter_count();
        if parameters > MAX_TRAIN_PARAMETERS as u64 {
            return Err(Error::new(format!(
                "config: {parameters} parameters (layers {}, embd {}, contextLength {}, \
                 vocabulary {}); training takes at most {MAX_TRAIN_PARAMETERS}",
                config.layers, config.embd, config.context_length, config.vocab_size
            ))
            .coded(Code::TrainTooLarge, []));
        }
        let activations = activation_estimate(&config, options.batch_size);
        if activations > MAX_TRAIN_ACTIVATIONS as u64 {
            return Err(Error::new(format!(
                "batchSize × contextLength too large for this config: a step would keep ~{} \
                 activation values, at most {MAX_TRAIN_ACTIVATIONS} are allowed; use a smaller \
                 batchSize, contextLength, embd or layers",
                activations
            ))
            .coded(Code::TrainTooLarge, []));
        }
        for (part, ids) in [("training", &corpus.train), ("validation", &corpus.val)] {
            if ids.len() <= config.context_length + 1 {
                return Err(Error::new(format!(
                    "text: the {part} part has {} characters, it needs more than \
                     contextLength + 1 = {}",
                    ids.len(),
                    config.context_length + 1
                ))
                .coded(
                    if part == "training" {
                        Code::TrainTextShort
                    } else {
                        Code::TrainValidationShort
                    },
                    [
                        ("chars", ids.len().into()),
                        ("needed", (config.context_length + 2).into()),
                    ],
                ));
            }
        }
        let init = Gpt::new(config, corpus.tokenizer.clone(), seed)?;
        let layout = config.layout();
        let vars = layout
            .iter()
            .zip(init.tensors())
            .map(|(p, t)| Ok((p.name.clone(), Var::from_tensor(t)?)))
            .collect::<Result<Vec<_>>>()?;
        let model = Gpt::from_layout(config, corpus.tokenizer.clone(), Self::tensors(&vars))?;
        let optimizer = AdamW::new(
            vars.iter()
                .zip(&layout)
                .map(|((_, v), p)| (v.clone(), p.decay))
                .collect(),
        )?;
        Ok(Trainer {
            model,
            vars,
            optimizer,
            corpus,
            pipeline,
            teacher: None,
            options,
            batch_rng: Rng::new(seed.wrapping_add(BATCH_STREAM)),
            seed,
            steps_done: 0,
        })
    }

    /// A student of shape `config` distilled from `teacher`: trained on `text` (its last 10%
    /// held out, as [`Corpus::from_text`]) spelt with the teacher's tokenizer, so that both
    /// have the teacher's vocabulary, with the distillation pipeline and settings of
    /// `distill`. The same seed gives the same initial weights and batches as any other
    /// student of the same shape and vocabulary. The student's context must fit the teacher's.
    pub fn distill(
        text: &str,
        config: Config,
        teacher: Net,
        distill: DistillOptions,
        seed: u64,
        options: TrainOptions,
    ) -> Result<Trainer> {
        let limit = teacher.config().context_length;
        if config.context_length > limit {
            return Err(Error::arg(
                "contextLength",
                &format!("at most the teacher's context length, {limit}"),
                config.context_length,
            ));
        }
        let corpus = Corpus::from_text_with(text, teacher.tokenizer().clone())?;
        let mut trainer = Trainer::new(
            corpus,
            config,
            Pipeline::CrossEntropyOnLogits,
            seed,
            options,
        )?;
        // Checked once here, so that a bad T or α fails before the first step.
        distill_loss(&[0.0], &[0.0], &[0], &distill)?;
        trainer.teacher = Some(Teacher {
            options: distill,
            shared: SharedTeacher::of(teacher),
            passes: 0,
        });
        Ok(trainer)
    }

    /// A distilled student's settings: its pipeline, T, α and reduction.
    pub fn distill_options(&self) -> Option<&DistillOptions> {
        self.teacher.as_ref().map(|t| &t.options)
    }

    /// How many batches' teacher logits this distilled student computed itself: the others it
    /// read from a student of the same teacher that had computed them. 0 for a student
    /// trained without a teacher.
    pub fn teacher_passes(&self) -> usize {
        self.teacher.as_ref().map_or(0, |t| t.passes)
    }

    /// The model, sharing storage with the trained parameters (so it reflects every step).
    pub fn model(&self) -> &Gpt {
        &self.model
    }

    pub fn pipeline(&self) -> Pipeline {
        self.pipeline
    }

    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// A detached copy of the current model, for evaluation and generation without autograd
    /// bookkeeping, and for saving.
    pub fn snapshot(&self) -> Result<Gpt> {
        let tensors = Self::tensors(&self.vars)
            .iter()
            .map(|t| Ok(t.detach().copy()?))
            .collect::<Result<_>>()?;
        Gpt::from_layout(
            *self.model.config(),
            self.model.tokenizer().clone(),
            tensors,
        )
    }

    /// The variables' tensors, sharing their storage, in layout order.
    fn tensors(vars: &[(String, Var)]) -> Vec<Tensor> {
        vars.iter().map(|(_, v)| v.as_tensor().clone()).collect()
    }

    /// B random windows of T + 1 ids: inputs x = w[..T], targets y = w[1..].
    fn batch(ids: &[u32], b: usize, t: usize, rng: &mut Rng) -> Result<(Tensor, Tensor)> {
        let mut x = Vec::with_capacity(b * t);
        let mut y = Vec::with_capacity(b * t);
        for _ in 0..b {
            let start = rng.below((ids.len() - t) as u64) as usize;
            x.extend_from_slice(&ids[start..start + t]);
            y.extend_from_slice(&ids[start + 1..start + t + 1]);
        }
        Ok((
            Tensor::from_vec(x, (b, t), &Device::Cpu)?,
            Tensor::from_vec(y, b * t, &Device::Cpu)?,
        ))
    }

    /// Forward + loss on one batch of `model`. Returns (pipeline loss, true CE), each a scalar.
    fn batch_loss(
        model: &Gpt,
        pipeline: Pipeline,
        x: &Tensor,
        y: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let out = model.forward(x, pipeline.output_mode())?;
        let v = model.config().vocab_size;
        let out = out.reshape(((), v))?;
        pipeline_loss(pipeline, &out, y)
    }

    /// The objective on one batch: the pipeline's loss, or for a distilled student the
    /// distillation loss of its logits against the teacher's on the same inputs.
    fn objective(&mut self, x: &Tensor, y: &Tensor) -> Result<BatchObjective> {
        let Some(teacher) = &mut self.teacher else {
            let (loss, true_ce) = Self::batch_loss(&self.model, self.pipeline, x, y)?;
            return Ok(BatchObjective {
                loss: loss.to_scalar::<f32>()?,
                true_ce: true_ce.to_scalar::<f32>()?,
                backward: loss,
                kl_term: None,
                soft_grad_norm: None,
            });
        };
        let v = self.model.config().vocab_size;
        let (b, t) = x.dims2()?;
        let logits = self
            .model
            .forward(x, OutputMode::Logits)?
            .reshape((b * t, v))?;
        let student = logits.detach().flatten_all()?.to_vec1::<f32>()?;
        let ids = x.flatten_all()?.to_vec1::<u32>()?;
        let (teacher_logits, computed) = teacher.shared.logits(&ids, t)?;
        teacher.passes += usize::from(computed);
        let targets: Vec<i32> = y.to_vec1::<u32>()?.iter().map(|&id| id as i32).collect();
        let r = distill_loss(&student, &teacher_logits, &targets, &teacher.options)?;
        let soft_norm = r
            .soft_grad
            .iter()
            .map(|&g| g as f64 * g as f64)
            .sum::<f64>()
            .sqrt();
        // d/dθ Σ z ⊙ g with g = d(loss)/dz held constant is d(loss)/dθ.
        let g = Tensor::from_vec(r.grad, (b * t, v), &Device::Cpu)?;
        Ok(BatchObjective {
            backward: (logits * g)?.sum_all()?,
            loss: r.loss as f32,
            true_ce: r.ce_term as f32,
            kl_term: Some(r.kl_term as f32),
            soft_grad_norm: Some(soft_norm as f32),
        })
    }

    /// The gradients of the pipeline's loss on one training batch, without updating anything.
    /// Exposed for the test that every parameter receives a gradient.
    pub fn gradients(&mut self) -> Result<Vec<(String, Option<Tensor>)>> {
        let t = self.model.config().context_length;
        let (x, y) = Self::batch(
            &self.corpus.train,
            self.options.batch_size,
            t,
            &mut self.batch_rng,
        )?;
        let grads = self.objective(&x, &y)?.backward.backward()?;
        Ok(self
            .vars
            .iter()
            .map(|(n, v)| (n.clone(), grads.get(v.as_tensor()).cloned()))
            .collect())
    }

    /// Runs `n` optimisation steps (1 ≤ n ≤ [`MAX_STEPS_PER_CALL`]) and reports the mean losses.
    pub fn step(&mut self, n: usize) -> Result<StepReport> {
        if n == 0 || n > MAX_STEPS_PER_CALL {
            return Err(Error::arg(
                "n",
                &format!("an integer in [1, {MAX_STEPS_PER_CALL}]"),
                n,
            ));
        }
        let t = self.model.config().context_length;
        let (mut loss_sum, mut ce_sum) = (0.0f64, 0.0f64);
        let (mut lr, mut grad_norm) = (0.0, 0.0f32);
        let (mut kl_sum, mut soft_grad_norm) = (0.0f64, None);
        for _ in 0..n {
            let (x, y) = Self::batch(
                &self.corpus.train,
                self.options.batch_size,
                t,
                &mut self.batch_rng,
            )?;
            let batch = self.objective(&x, &y)?;
            let loss_value = batch.loss;
            if !loss_value.is_finite() {
                return Err(Error::new(format!(
                    "training diverged at step {}: loss = {loss_value}",
                    self.steps_done
                ))
                .coded(Code::TrainDiverged, [("step", self.steps_done.into())]));
            }
            let grads = batch.backward.backward()?;
            // Each parameter's gradient as plain values, then the global L2 norm over all of
            // them and one scale factor for all.
            let mut flat = Vec::with_capacity(self.vars.len());
            let mut sq = 0.0f64;
            for (_, var) in &self.vars {
                let g = match grads.get(var.as_tensor()) {
                    Some(g) => Some(g.flatten_all()?.to_vec1::<f32>()?),
                    None => None,
                };
                if let Some(g) = &g {
                    sq += g.iter().map(|&x| x as f64 * x as f64).sum::<f64>();
                }
                flat.push(g);
            }
            let norm = sq.sqrt();
            let scale = if self.options.grad_clip > 0.0 && norm > self.options.grad_clip {
                self.options.grad_clip / norm
            } else {
                1.0
            };
            lr = self.options.learning_rate_at(self.steps_done);
            self.optimizer.step(&flat, scale, lr, &self.options)?;
            self.steps_done += 1;
            loss_sum += loss_value as f64;
            ce_sum += batch.true_ce as f64;
            grad_norm = norm as f32;
            if let Some(kl) = batch.kl_term {
                kl_sum += kl as f64;
            }
            soft_grad_norm = batch.soft_grad_norm;
        }
        let val_ce = if self.options.eval_batches > 0 {
            Some(self.validation_estimate()?)
        } else {
            None
        };
        Ok(StepReport {
            step: self.steps_done,
            learning_rate: lr,
            loss: (loss_sum / n as f64) as f32,
            train_ce: (ce_sum / n as f64) as f32,
            val_ce,
            grad_norm,
            kl_term: self.teacher.as_ref().map(|_| (kl_sum / n as f64) as f32),
            soft_grad_norm,
        })
    }

    /// True cross-entropy (nats/char) on `eval_batches` validation batches, the same batches at
    /// every call so successive estimates are comparable.
    pub fn validation_estimate(&self) -> Result<f32> {
        let model = self.snapshot()?;
        let t = model.config().context_length;
        let mut rng = Rng::new(self.seed.wrapping_add(VAL_STREAM));
        let mut sum = 0.0f64;
        for _ in 0..self.options.eval_batches {
            let (x, y) = Self::batch(&self.corpus.val, self.options.batch_size, t, &mut rng)?;
            let (_, ce) = Self::batch_loss(&model, Pipeline::CrossEntropyOnLogits, &x, &y)?;
            sum += ce.to_scalar::<f32>()? as f64;
        }
        Ok((sum / self.options.eval_batches.max(1) as f64) as f32)
    }
}

/// Cross-entropy (nats/token) of `model` on all of `ids`, cut into consecutive non-overlapping
/// windows of context_length + 1 (every position scored, as nanoGPT's estimate does; a
/// trailing piece shorter than 2 ids is skipped). `batch_size` windows per forward pass.
pub fn evaluate(model: &Gpt, ids: &[u32], batch_size: usize) -> Result<f64> {
    let (total, count) = total_nats(model, ids, batch_size)?;
    Ok(total / count as f64)
}

/// A model's validation figures on a text, per token and per character.
#[derive(Debug, Clone, Copy)]
pub struct TextEval {
    /// Tokens scored: every token of the text but the first of each window.
    pub tokens: usize,
    /// Characters of the scored tokens (a character counts where its first byte is).
    pub chars: usize,
    pub nats_per_token: f64,
    /// Total nats over characters, in bits: the figure that compares models with different
    /// tokenizers (for a character model it is nats_per_token / ln 2).
    pub bits_per_char: f64,
}

/// [`evaluate`] on `text` encoded by the model's own tokenizer, also reported per character.
pub fn evaluate_text(model: &Gpt, text: &str, batch_size: usize) -> Result<TextEval> {
    let ids = model.encode(text)?;
    let (total, tokens) = total_nats(model, &ids, batch_size)?;
    let t = model.config().context_length;
    let mut chars = 0;
    for w in ids.chunks(t + 1).filter(|w| w.len() >= 2) {
        for &id in &w[1..] {
            let bytes = model.tokenizer().token_bytes(id)?;
            chars += bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        }
    }
    Ok(TextEval {
        tokens,
        chars,
        nats_per_token: total / tokens as f64,
        bits_per_char: total / chars.max(1) as f64 / std::f64::consts::LN_2,
    })
}

/// The summed cross-entropy (nats) of [`evaluate`]'s windows and the number of positions scored.
fn total_nats(model: &Gpt, ids: &[u32], batch_size: usize) -> Result<(f64, usize)> {
    let t = model.config().context_length;
    let windows: Vec<&[u32]> = ids.chunks(t + 1).filter(|w| w.len() >= 2).collect();
    if windows.is_empty() {
        return Err(Error::arg("ids", "at least 2 token ids", ids.len()));
    }
    let v = model.config().vocab_size;
    let (mut total, mut count) = (0.0f64, 0usize);
    let mut full = Vec::new();
    for w in windows {
        if w.len() == t + 1 {
            full.push(w);
            continue;
        }
        // The shorter last window alone.
        let x = Tensor::from_slice(&w[..w.len() - 1], (1, w.len() - 1), &Device::Cpu)?;
        let y = Tensor::from_slice(&w[1..], w.len() - 1, &Device::Cpu)?;
        let logits = model.forward(&x, OutputMode::Logits)?.reshape(((), v))?;
        total += cross_entropy(&logits, &y)?.to_scalar::<f32>()? as f64 * (w.len() - 1) as f64;
        count += w.len() - 1;
    }
    for chunk in full.chunks(batch_size.max(1)) {
        let b = chunk.len();
        let x: Vec<u32> = chunk.iter().flat_map(|w| w[..t].iter().copied()).collect();
        let y: Vec<u32> = chunk.iter().flat_map(|w| w[1..].iter().copied()).collect();
        let x = Tensor::from_vec(x, (b, t), &Device::Cpu)?;
        let y = Tensor::from_vec(y, b * t, &Device::Cpu)?;
        let logits = model.forward(&x, OutputMode::Logits)?.reshape(((), v))?;
        total += cross_entropy(&logits, &y)?.to_scalar::<f32>()? as f64 * (b * t) as f64;
        count += b * t;
    }
    Ok((total, count))
}
