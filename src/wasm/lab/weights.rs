//! The binding of [`crate::lab::weights`]: a model against its quantised copy
//! (`compareModels`), the figures of the card "Weights in low precision".

use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::lab::weights as lab;
use crate::limits::MAX_CONTEXT_LENGTH;
use crate::wasm::convert::{ids_arg, js_err, to_js};
use crate::wasm::model::Model;

/// One position of `compareModels`.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ComparedPosition {
    /// KL(a ‖ b) in nats between the next-token distributions after ids[0..=t].
    pub kl: f64,
    /// a's greedy (top-1) id.
    pub top1_a: u32,
    /// b's greedy (top-1) id.
    pub top1_b: u32,
}

/// One id at the last position, in both distributions.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ComparedId {
    pub id: u32,
    /// Its probability under a, and under b.
    pub p_a: f64,
    pub p_b: f64,
    /// Its rank under a and under b (1 = the most probable; ties: the lower id first).
    pub rank_a: u32,
    pub rank_b: u32,
}

/// Each model's perplexity on ids[1..].
#[derive(Serialize, Tsify)]
pub struct PerplexityPair {
    pub a: f64,
    pub b: f64,
}

/// `compareModels`' result.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ModelComparison {
    /// One per id, teacher-forced.
    pub positions: Vec<ComparedPosition>,
    /// Mean KL(a ‖ b) over the positions, in nats.
    pub kl: f64,
    /// Share of positions where the greedy ids agree, in [0, 1].
    pub top1_agreement: f64,
    /// Whether the greedy ids agree at the last position (the page's context).
    pub same_top1: bool,
    /// KL at the last position, in nats.
    pub last_kl: f64,
    /// Each model's perplexity on ids[1..]; absent for one id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub perplexity: Option<PerplexityPair>,
    /// At the last position: the ids in either's top 8, by a's rank.
    pub last: Vec<ComparedId>,
    /// Of those, up to 5 whose rank moved, the largest move first.
    pub most_changed: Vec<ComparedId>,
}

fn id_of(r: &lab::Ranked) -> ComparedId {
    ComparedId {
        id: r.id,
        p_a: r.p_original,
        p_b: r.p_quantized,
        rank_a: r.rank_original as u32,
        rank_b: r.rank_quantized as u32,
    }
}

/// `a` (a model) against `b` (its quantised copy, `a.quantize(type)`) on `ids`, teacher-forced:
/// at each position KL(a ‖ b) in nats and the two greedy ids; over the ids the mean KL, the
/// share of positions whose greedy ids agree and each model's perplexity; at the last position
/// the two distributions' top ids side by side and the ids whose rank changed most. The two
/// must share a vocabulary; `ids`: 1 to the context length token ids.
#[wasm_bindgen(js_name = compareModels, unchecked_return_type = "ModelComparison")]
pub fn compare_models(
    a: &Model,
    b: &Model,
    #[wasm_bindgen(unchecked_param_type = "TokenIds")] ids: JsValue,
) -> Result<JsValue, JsError> {
    let ids = ids_arg("ids", &ids, MAX_CONTEXT_LENGTH)?;
    let c = lab::compare(&a.inner, &b.inner, &ids).map_err(js_err)?;
    let last = c.positions.last().expect("at least one position");
    Ok(to_js(&ModelComparison {
        same_top1: last.top1.0 == last.top1.1,
        last_kl: last.kl,
        positions: c
            .positions
            .iter()
            .map(|p| ComparedPosition {
                kl: p.kl,
                top1_a: p.top1.0,
                top1_b: p.top1.1,
            })
            .collect(),
        kl: c.mean_kl,
        top1_agreement: c.top1_agreement,
        perplexity: c.perplexity.map(|(a, b)| PerplexityPair { a, b }),
        last: c.last.iter().map(id_of).collect(),
        most_changed: c.most_changed.iter().map(id_of).collect(),
    }))
}
