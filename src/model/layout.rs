//! The network's parameters, described once. [`Config::layout`] lists every parameter with its
//! name, shape, initialisation and weight decay; checkpoint I/O, both forward passes, the
//! initialisation and AdamW all iterate it, as nanoGPT's `model.py` names each parameter once.
//! [`Weights`] is the same list as the tree the forward passes read.
//!
//! Layout convention: a linear layer stores its weight as (in, out) and computes `x · W + b`,
//! the way the maths is written, so no transpose sits on the hot path.

use crate::error::{Error, Result};
use crate::model::config::Llama;
use crate::model::{Config, Family};
use crate::rng::Rng;

impl Config {
    /// Number of trainable scalars. In u64: a config at the top of every range has ~1.3e10,
    /// which would wrap around wasm32's 32-bit usize.
    pub fn parameter_count(&self) -> u64 {
        self.layout()
            .iter()
            .map(|p| p.shape.iter().map(|&d| d as u64).product::<u64>())
            .sum()
    }

    /// The layout of this config, checked to be valid and to match `tensors` tensors offered
    /// for it (one per parameter): the start of assembling a model.
    pub fn layout_for(&self, tensors: usize) -> Result<Vec<Param>> {
        self.validate()?;
        let layout = self.layout();
        if tensors != layout.len() {
            return Err(Error::new(format!(
                "{tensors} tensors, the config needs {}",
                layout.len()
            )));
        }
        Ok(layout)
    }

    /// Every parameter of the network, in a fixed order: the order of initialisation, of a
    /// checkpoint's tensors and of [`Weights::from_layout_order`]. The names follow nanoGPT's
    /// `model.py`; this is the only place they are spelled.
    ///
    /// Initialisation as in GPT-2 / nanoGPT: weights ~ N(0, 0.02²), the residual projections
    /// (`c_proj`) scaled by 1/√(2·layers), biases 0, LayerNorm γ = 1.
    pub fn layout(&self) -> Vec<Param> {
        if let Family::Llama(llama) = self.arch.family {
            return self.llama_layout(&llama);
        }
        let (v, t, c) = (self.vocab_size, self.context_length, self.embd);
        let w = self.mlp_width();
        let normal = Init::Normal(0.02);
        let residual = Init::Normal(0.02 / ((2 * self.layers) as f64).sqrt());
        // A LayerNorm (γ, β) or a Linear (W, b) named `p`: its weight, then its bias.
        let weight_bias = |p: &str, weight: Vec<usize>, init: Init| {
            let n = weight[weight.len() - 1];
            let w = Param::new(format!("{p}.weight"), weight, init);
            [
                if w.shape.len() == 2 { w.linear() } else { w },
                Param::new(format!("{p}.bias"), vec![n], Init::Zeros),
            ]
        };
        let mut params = vec![
            Param::new("wte".into(), vec![v, c], normal).hf("wte.weight"),
            Param::new("wpe".into(), vec![t, c], normal).hf("wpe.weight"),
        ];
        for i in 0..self.layers {
            let p = |s: &str| format!("h.{i}.{s}");
            params.extend(weight_bias(&p("ln_1"), vec![c], Init::Ones));
            params.extend(weight_bias(&p("attn.c_attn"), vec![c, 3 * c], normal));
            params.extend(weight_bias(&p("attn.c_proj"), vec![c, c], residual));
            params.extend(weight_bias(&p("ln_2"), vec![c], Init::Ones));
            params.extend(weight_bias(&p("mlp.c_fc"), vec![c, w], normal));
            params.extend(weight_bias(&p("mlp.c_proj"), vec![w, c], residual));
        }
        params.extend(weight_bias("ln_f", vec![c], Init::Ones));
        if !self.arch.tied_head {
            // nn.Linear(C, V)'s weight, (out, in) = (V, C) like wte: z = x · lm_headᵀ.
            params.push(Param::new("lm_head.weight".into(), vec![v, c], normal));
        }
        params
    }
}

impl Config {
    /// The Llama family's layout ([`Family::Llama`]): Hugging Face's `LlamaForCausalLM` names
    /// without the `model.` prefix (which [`Param::hf_name`] has), no position embedding, every
    /// linear weight (in, out) like the GPT's (Hugging Face stores them (out, in):
    /// [`Param::hf_transposed`]). q is heads·hd wide, k and v kv_heads·hd (grouped-query);
    /// the biases and the per-head norms of q and k are there when `llama` says so.
    fn llama_layout(&self, llama: &Llama) -> Vec<Param> {
        let (v, c, hidden) = (self.vocab_size, self.embd, self.mlp_width());
        let hd = llama.head_dim;
        let (q, kv) = (self.heads * hd, llama.kv_heads * hd);
        let normal = Init::Normal(0.02);
        let hf = |p: Param| {
            let hf_name = format!("model.{}", p.name);
            p.hf(&hf_name)
        };
        let mut params = vec![hf(Param::new("embed_tokens".into(), vec![v, c], normal))
            .hf("model.embed_tokens.weight")];
        for i in 0..self.layers {
            let p = |s: &str| format!("layers.{i}.{s}");
            // A linear layer `s`, (in, out), and its bias if `bias`.
            let linear = |params: &mut Vec<Param>, s: &str, n_in: usize, n_out: usize, bias| {
                params.push(
                    hf(Param::new(
                        p(&format!("{s}.weight")),
                        vec![n_in, n_out],
                        normal,
                    ))
                    .linear()
                    .transposed(),
                );
                if bias {
                    params.push(hf(Param::new(
                        p(&format!("{s}.bias")),
                        vec![n_out],
                        Init::Zeros,
                    )));
                }
            };
            let gain =
                |s: &str, n: usize| hf(Param::new(p(&format!("{s}.weight")), vec![n], Init::Ones));
            params.push(gain("input_layernorm", c));
            linear(&mut params, "self_attn.q_proj", c, q, llama.qkv_bias);
            linear(&mut params, "self_attn.k_proj", c, kv, llama.qkv_bias);
            linear(&mut params, "self_attn.v_proj", c, kv, llama.qkv_bias);
            if llama.qk_norm {
                params.push(gain("self_attn.q_norm", hd));
                params.push(gain("self_attn.k_norm", hd));
            }
            linear(&mut params, "self_attn.o_proj", q, c, llama.o_bias);
            params.push(gain("post_attention_layernorm", c));
            linear(&mut params, "mlp.gate_proj", c, hidden, llama.mlp_bias);
            linear(&mut params, "mlp.up_proj", c, hidden, llama.mlp_bias);
            linear(&mut params, "mlp.down_proj", hidden, c, llama.mlp_bias);
        }
        params.push(hf(Param::new("norm.weight".into(), vec![c], Init::Ones)));
        if !self.arch.tied_head {
            params.push(Param::new("lm_head.weight".into(), vec![v, c], normal));
        }
        params
    }
}

/// How a parameter's initial values are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All 0 (biases, LayerNorm β).
    Zeros,
    /// All 1 (LayerNorm γ).
    Ones,
    /// Each value ~ N(0, std²), with this std.
    Normal(f64),
}

/// One parameter of the network: what checkpoint I/O, both forward passes, initialisation and
/// AdamW need to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name in a checkpoint, e.g. `h.0.attn.c_attn.weight`.
    pub name: String,
    /// Its name in a Hugging Face GPT-2 `model.safetensors` (there with or without a
    /// `transformer.` prefix): the same but for the embeddings, `wte.weight` and `wpe.weight`.
    pub hf_name: String,
    /// Row-major; a linear layer's weight is (in, out).
    pub shape: Vec<usize>,
    /// Whether a Hugging Face checkpoint stores this matrix transposed, (out, in) (PyTorch's
    /// `nn.Linear`; GPT-2's `Conv1D` stores (in, out)).
    pub hf_transposed: bool,
    /// Whether it is a linear layer's weight, (in, out), which computes x · W: its outputs are
    /// its columns (llama.cpp's rows). The other matrices (embeddings, a classifier) are
    /// (rows, C).
    pub linear: bool,
    pub init: Init,
    /// Whether AdamW's weight decay applies: to matrices and embeddings (rank ≥ 2), not to
    /// biases or LayerNorm parameters, as in nanoGPT.
    pub decay: bool,
}

impl Param {
    fn new(name: String, shape: Vec<usize>, init: Init) -> Param {
        Param {
            decay: shape.len() >= 2,
            hf_name: name.clone(),
            name,
            hf_transposed: false,
            linear: false,
            shape,
            init,
        }
    }

    fn hf(self, hf_name: &str) -> Param {
        Param {
            hf_name: hf_name.into(),
            ..self
        }
    }

    fn linear(self) -> Param {
        Param {
            linear: true,
            ..self
        }
    }

    /// Whether it is a learned position embedding (GPT-2's `wpe`), which llama.cpp's
    /// quantiser keeps as it is.
    pub fn is_position_embedding(&self) -> bool {
        self.name == "wpe"
    }

    fn transposed(self) -> Param {
        Param {
            hf_transposed: true,
            ..self
        }
    }

    /// The shape a Hugging Face checkpoint stores: [`Param::shape`], reversed if
    /// [`Param::hf_transposed`].
    pub fn hf_shape(&self) -> Vec<usize> {
        let mut shape = self.shape.clone();
        if self.hf_transposed {
            shape.reverse();
        }
        shape
    }

    /// Number of values.
    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }

    /// The error for a checkpoint that lacks this parameter.
    pub fn missing(&self) -> Error {
        Error::new(format!("checkpoint: missing tensor {:?}", self.name))
    }

    /// Checks the shape of the tensor offered for this parameter.
    pub fn check_shape(&self, shape: &[usize]) -> Result<()> {
        if shape != self.shape.as_slice() {
            return Err(Error::new(format!(
                "checkpoint: tensor {:?} has shape {shape:?}, the config needs {:?}",
                self.name, self.shape
            )));
        }
        Ok(())
    }

    /// Fresh values per [`Param::init`], drawn from `rng` (which only `Init::Normal` advances).
    pub fn initial_values(&self, rng: &mut Rng) -> Vec<f32> {
        let n = self.elem_count();
        match self.init {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Normal(std) => (0..n).map(|_| (rng.normal() * std) as f32).collect(),
        }
    }
}

/// The network's parameters as a tree, the way the forward passes read them (`h[i].attn.c_attn`).
/// A leaf `T` holds one parameter: a `Vec<f32>` in the plain-array [`crate::model::Net`], a
/// candle tensor in `Gpt`. Both are built from and flattened to [`Config::layout`] order, so the tree's order
/// is spelled here alone and the names in `layout` alone.
#[derive(Debug, Clone)]
pub struct Weights<T> {
    /// Token embedding (V, C); also the tied output head.
    pub wte: T,
    /// Learned position embedding (context_length, C).
    pub wpe: T,
    pub h: Vec<Block<T>>,
    pub ln_f: LayerNorm<T>,
    /// The output head (V, C) when it is not tied to `wte` ([`crate::model::Arch::tied_head`]).
    pub lm_head: Option<T>,
}

/// A pre-LayerNorm transformer block: x += attn(ln_1(x)); x += mlp(ln_2(x)).
#[derive(Debug, Clone)]
pub struct Block<T> {
    pub ln_1: LayerNorm<T>,
    pub attn: Attention<T>,
    pub ln_2: LayerNorm<T>,
    pub mlp: Mlp<T>,
}

/// y = (x − mean(x)) / sqrt(var(x) + ε) · γ + β over each row of C values.
#[derive(Debug, Clone)]
pub struct LayerNorm<T> {
    /// γ, (C,).
    pub weight: T,
    /// β, (C,).
    pub bias: T,
}

/// y = x · W + b, with W stored as (in, out).
#[derive(Debug, Clone)]
pub struct Linear<T> {
    pub weight: T,
    pub bias: T,
}

/// Causal multi-head self-attention: q, k, v = x · c_attn; y = softmax(q kᵀ / √hd + mask) v;
/// out = y · c_proj.
#[derive(Debug, Clone)]
pub struct Attention<T> {
    pub c_attn: Linear<T>,
    pub c_proj: Linear<T>,
}

/// The position-wise MLP: c_fc (C → 4C), GELU, c_proj (4C → C).
#[derive(Debug, Clone)]
pub struct Mlp<T> {
    pub c_fc: Linear<T>,
    pub c_proj: Linear<T>,
}

impl<T> Weights<T> {
    /// The tree of `config`'s parameters from one value per parameter, in [`Config::layout`]
    /// order. Panics if `values` holds fewer: callers check the count against the layout first.
    pub fn from_layout_order(config: &Config, values: Vec<T>) -> Weights<T> {
        let layers = config.layers;
        let mut values = values.into_iter();
        let mut next = move || {
            values
                .next()
                .expect("one value per parameter of the layout")
        };
        let wte = next();
        let wpe = next();
        let h = (0..layers)
            .map(|_| Block {
                ln_1: LayerNorm {
                    weight: next(),
                    bias: next(),
                },
                attn: Attention {
                    c_attn: Linear {
                        weight: next(),
                        bias: next(),
                    },
                    c_proj: Linear {
                        weight: next(),
                        bias: next(),
                    },
                },
                ln_2: LayerNorm {
                    weight: next(),
                    bias: next(),
                },
                mlp: Mlp {
                    c_fc: Linear {
                        weight: next(),
                        bias: next(),
                    },
                    c_proj: Linear {
                        weight: next(),
                        bias: next(),
                    },
                },
            })
            .collect();
        let ln_f = LayerNorm {
            weight: next(),
            bias: next(),
        };
        let lm_head = (!config.arch.tied_head).then(&mut next);
        Weights {
            wte,
            wpe,
            h,
            ln_f,
            lm_head,
        }
    }

    /// The matrices a token goes through: the token embedding, each linear layer's W and the
    /// classifier when it is not the embedding (the position embedding is left out, as
    /// llama.cpp's quantiser leaves it; the LayerNorms and the biases are vectors).
    pub fn matrices(&self) -> Vec<&T> {
        let mut m = vec![&self.wte];
        for b in &self.h {
            m.extend([&b.attn.c_attn.weight, &b.attn.c_proj.weight]);
            m.extend([&b.mlp.c_fc.weight, &b.mlp.c_proj.weight]);
        }
        m.extend(&self.lm_head);
        m
    }

    /// Every leaf in [`Config::layout`] order: the inverse of [`Weights::from_layout_order`].
    pub fn flatten(&self) -> Vec<&T> {
        let mut leaves = vec![&self.wte, &self.wpe];
        for b in &self.h {
            let (attn, mlp) = (&b.attn, &b.mlp);
            leaves.extend([&b.ln_1.weight, &b.ln_1.bias]);
            leaves.extend([&attn.c_attn.weight, &attn.c_attn.bias]);
            leaves.extend([&attn.c_proj.weight, &attn.c_proj.bias]);
            leaves.extend([&b.ln_2.weight, &b.ln_2.bias]);
            leaves.extend([&mlp.c_fc.weight, &mlp.c_fc.bias]);
            leaves.extend([&mlp.c_proj.weight, &mlp.c_proj.bias]);
        }
        leaves.extend([&self.ln_f.weight, &self.ln_f.bias]);
        leaves.extend(&self.lm_head);
        leaves
    }
}

/// A Llama's parameters as a tree ([`Family::Llama`]), in [`Config::layout`] order.
#[derive(Debug, Clone)]
pub struct LlamaWeights<T> {
    /// Token embedding (V, C); also the classifier when it is shared.
    pub embed_tokens: T,
    pub layers: Vec<LlamaBlock<T>>,
    /// The final RMSNorm's gain (C,).
    pub norm: T,
    /// The classifier (V, C) when it is not the embedding.
    pub lm_head: Option<T>,
}

/// x += o(attn(rope(q(n₁(x))), rope(k(n₁(x))), v(n₁(x)))); x += down(silu(gate(n₂(x))) ⊙ up(n₂(x))),
/// n₁ and n₂ RMSNorms (q and k each normed per head first when `q_norm` is there).
#[derive(Debug, Clone)]
pub struct LlamaBlock<T> {
    pub input_layernorm: T,
    pub q_proj: Proj<T>,
    pub k_proj: Proj<T>,
    pub v_proj: Proj<T>,
    /// The gains of the per-head RMSNorm of q (hd,), Qwen3's.
    pub q_norm: Option<T>,
    /// … and of k.
    pub k_norm: Option<T>,
    pub o_proj: Proj<T>,
    pub post_attention_layernorm: T,
    pub gate_proj: Proj<T>,
    pub up_proj: Proj<T>,
    pub down_proj: Proj<T>,
}

/// y = x · W (+ b): a linear layer of the Llama family, W (in, out), with a bias where the
/// architecture has one.
#[derive(Debug, Clone)]
pub struct Proj<T> {
    pub weight: T,
    pub bias: Option<T>,
}

impl<T> LlamaWeights<T> {
    /// The tree from one value per parameter in [`Config::layout`] order (see
    /// [`Weights::from_layout_order`]). Panics if `config` is not of the Llama family.
    pub fn from_layout_order(config: &Config, values: Vec<T>) -> LlamaWeights<T> {
        let llama = *config.llama().expect("a Llama config");
        let mut values = values.into_iter();
        let mut next = move || {
            values
                .next()
                .expect("one value per parameter of the layout")
        };
        let embed_tokens = next();
        let layers = (0..config.layers)
            .map(|_| {
                let mut proj = |bias: bool| Proj {
                    weight: next(),
                    bias: bias.then(&mut next),
                };
                let input_layernorm = proj(false).weight;
                let q_proj = proj(llama.qkv_bias);
                let k_proj = proj(llama.qkv_bias);
                let v_proj = proj(llama.qkv_bias);
                let (q_norm, k_norm) = if llama.qk_norm {
                    (Some(proj(false).weight), Some(proj(false).weight))
                } else {
                    (None, None)
                };
                LlamaBlock {
                    input_layernorm,
                    q_proj,
                    k_proj,
                    v_proj,
                    q_norm,
                    k_norm,
                    o_proj: proj(llama.o_bias),
                    post_attention_layernorm: proj(false).weight,
                    gate_proj: proj(llama.mlp_bias),
                    up_proj: proj(llama.mlp_bias),
                    down_proj: proj(llama.mlp_bias),
                }
            })
            .collect();
        let norm = next();
        let lm_head = (!config.arch.tied_head).then(&mut next);
        LlamaWeights {
            embed_tokens,
            layers,
            norm,
            lm_head,
        }
    }

    /// The weight matrices: the embedding, each projection's W and the classifier when it is
    /// not the embedding (the norms' gains and the biases are vectors).
    pub fn matrices(&self) -> Vec<&T> {
        let mut m = vec![&self.embed_tokens];
        for b in &self.layers {
            for p in [
                &b.q_proj,
                &b.k_proj,
                &b.v_proj,
                &b.o_proj,
                &b.gate_proj,
                &b.up_proj,
                &b.down_proj,
            ] {
                m.push(&p.weight);
            }
        }
        m.extend(&self.lm_head);
        m
    }

    /// Every leaf in [`Config::layout`] order.
    pub fn flatten(&self) -> Vec<&T> {
        let mut leaves = vec![&self.embed_tokens];
        for b in &self.layers {
            leaves.push(&b.input_layernorm);
            for p in [&b.q_proj, &b.k_proj, &b.v_proj] {
                leaves.push(&p.weight);
                leaves.extend(&p.bias);
            }
            leaves.extend(&b.q_norm);
            leaves.extend(&b.k_norm);
            leaves.push(&b.o_proj.weight);
            leaves.extend(&b.o_proj.bias);
            leaves.push(&b.post_attention_layernorm);
            for p in [&b.gate_proj, &b.up_proj, &b.down_proj] {
                leaves.push(&p.weight);
                leaves.extend(&p.bias);
            }
        }
        leaves.push(&self.norm);
        leaves.extend(&self.lm_head);
        leaves
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::Llama;

    /// The tree puts each parameter where its name says, and flattens back to layout order.
    #[test]
    fn weights_tree_matches_layout_names() {
        let config = Config::preset("small", 7).unwrap();
        let layout = config.layout();
        let tree = Weights::from_layout_order(&config, layout.clone());
        let names: Vec<&str> = tree.flatten().iter().map(|p| p.name.as_str()).collect();
        let want: Vec<&str> = layout.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, want);
        assert_eq!(tree.wpe.name, "wpe");
        assert_eq!(tree.h[1].attn.c_attn.bias.name, "h.1.attn.c_attn.bias");
        assert_eq!(tree.h[1].attn.c_proj.weight.name, "h.1.attn.c_proj.weight");
        assert_eq!(tree.h[0].ln_2.weight.name, "h.0.ln_2.weight");
        assert_eq!(tree.h[1].mlp.c_fc.weight.shape, [64, 256]);
        assert_eq!(tree.h[1].mlp.c_proj.weight.shape, [256, 64]);
        assert_eq!(tree.ln_f.bias.name, "ln_f.bias");
        assert_eq!(layout.len(), 4 + 12 * config.layers);
        // wte 7·64 + wpe 64·64 + 2 × 49 984 per block + ln_f 128.
        assert_eq!(config.parameter_count(), 104_640);
    }

    /// The Llama tree puts each parameter where its name says; k and v are kv_heads·hd wide.
    #[test]
    fn llama_tree_matches_layout_names() {
        let mut config = Config::preset("small", 7).unwrap();
        config.arch.family = Family::Llama(Llama::llama2c(2, 16));
        config.arch.tied_head = false;
        config.arch.mlp_width = Some(96);
        let layout = config.layout();
        let tree = LlamaWeights::from_layout_order(&config, layout.clone());
        let names: Vec<&str> = tree.flatten().iter().map(|p| p.name.as_str()).collect();
        let want: Vec<&str> = layout.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, want);
        assert_eq!(
            tree.layers[1].k_proj.weight.name,
            "layers.1.self_attn.k_proj.weight"
        );
        assert_eq!(tree.layers[1].k_proj.weight.shape, [64, 32]);
        assert_eq!(tree.layers[0].down_proj.weight.shape, [96, 64]);
        assert_eq!(tree.lm_head.as_ref().unwrap().shape, [7, 64]);
        // embed + lm_head 2·7·64, per block 2·64 + 2·64² + 2·64·32 + 3·64·96, norm 64.
        assert_eq!(config.parameter_count(), 896 + 2 * 30_848 + 64);
    }

    /// Biases and the per-head norms of q and k are where the family's details put them, with
    /// Hugging Face's names and stored shapes (linear weights (out, in)); heads · hd need not
    /// be the width.
    #[test]
    fn llama_options_add_their_parameters() {
        let mut config = Config::preset("small", 7).unwrap();
        let mut llama = Llama::llama2c(2, 32);
        llama.qkv_bias = true;
        llama.o_bias = true;
        llama.mlp_bias = true;
        llama.qk_norm = true;
        config.arch.family = Family::Llama(llama);
        config.arch.mlp_width = Some(96);
        let layout = config.layout();
        let tree = LlamaWeights::from_layout_order(&config, layout.clone());
        let names: Vec<&str> = tree.flatten().iter().map(|p| p.name.as_str()).collect();
        let want: Vec<&str> = layout.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, want);
        let b = &tree.layers[1];
        let q = &b.q_proj;
        assert_eq!(q.weight.shape, [64, 128]); // 4 heads × hd 32
        assert_eq!(q.weight.hf_shape(), [128, 64]);
        assert_eq!(q.weight.hf_name, "model.layers.1.self_attn.q_proj.weight");
        assert_eq!(q.bias.as_ref().unwrap().shape, [128]);
        assert_eq!(b.k_proj.bias.as_ref().unwrap().shape, [64]);
        assert_eq!(b.o_proj.weight.shape, [128, 64]);
        assert_eq!(
            b.o_proj.bias.as_ref().unwrap().name,
            "layers.1.self_attn.o_proj.bias"
        );
        assert_eq!(b.q_norm.as_ref().unwrap().shape, [32]);
        assert_eq!(
            b.k_norm.as_ref().unwrap().hf_name,
            "model.layers.1.self_attn.k_norm.weight"
        );
        assert_eq!(b.down_proj.bias.as_ref().unwrap().shape, [64]);
        assert!(!b.q_norm.as_ref().unwrap().hf_transposed);
        assert_eq!(tree.embed_tokens.hf_name, "model.embed_tokens.weight");
        assert_eq!(tree.norm.hf_name, "model.norm.weight");
        // Per block: 2 norms 2·64, q 64·128 + 128, k and v 2·(64·64 + 64), norms 2·32,
        // o 128·64 + 64, MLP 3·64·96 + 2·96 + 64; then embed 7·64 and the final norm 64.
        let block = 128 + 8192 + 128 + 2 * (4096 + 64) + 64 + 8192 + 64 + 18_432 + 192 + 64;
        assert_eq!(config.parameter_count(), 2 * block + 448 + 64);
    }

    /// Init and decay as in nanoGPT: matrices N(0, 0.02²) and decayed, c_proj scaled by
    /// 1/√(2·layers), biases 0 and LayerNorm γ 1 without decay.
    #[test]
    fn init_and_decay_follow_nanogpt() {
        let config = Config::preset("small", 7).unwrap();
        let tree = Weights::from_layout_order(&config, config.layout());
        let b = &tree.h[0];
        assert_eq!((tree.wte.init, tree.wte.decay), (Init::Normal(0.02), true));
        assert_eq!(
            (b.attn.c_attn.weight.init, b.attn.c_attn.weight.decay),
            (Init::Normal(0.02), true)
        );
        assert_eq!(b.mlp.c_proj.weight.init, Init::Normal(0.01));
        assert_eq!(
            (b.mlp.c_proj.bias.init, b.mlp.c_proj.bias.decay),
            (Init::Zeros, false)
        );
        assert_eq!(
            (b.ln_1.weight.init, b.ln_1.weight.decay),
            (Init::Ones, false)
        );
    }
}
