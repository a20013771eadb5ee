//! Every number a sentence on the page or in the README quotes, computed: if the code changes
//! what the page would show, the sentence's test fails. (The figures of the maths alone, such
//! as the zero thresholds and the floor of crossEntropy(softmax), are tested in `src/lab.rs`.)

use logitlab::data::Corpus;
use logitlab::lab::{self, ZERO_THRESHOLDS};
use logitlab::loss::{self, LossOptions};
use logitlab::model::{Config, Generator, Net, OutputMode};
use logitlab::numerics;

use logitlab::sampling::SampleOptions;
use logitlab::train::{Pipeline, TrainOptions, Trainer};

const ROMEO: &str = include_str!("../www/texts/romeo-and-juliet.txt");
/// The page's message catalogues, English and Vietnamese: the page's words and figures.
const CATALOGUES: [(&str, &str); 2] = [
    ("en", include_str!("../www/i18n/en.js")),
    ("vi", include_str!("../www/i18n/vi.js")),
];

/// The message `key` of a catalogue, e.g. `"precision.defaultMin": "−25.9"` → "−25.9".
fn message(catalogue: &str, key: &str) -> String {
    let start = catalogue.find(&format!("\"{key}\": \"")).expect(key) + key.len() + 4;
    let mut de = serde_json::Deserializer::from_str(&catalogue[start..]);
    serde::Deserialize::deserialize(&mut de).expect(key)
}

/// Whether `key` exists in a catalogue.
fn has(catalogue: &str, key: &str) -> bool {
    catalogue.contains(&format!("\"{key}\": \""))
}

/// A figure as a catalogue writes it: U+2212 for minus, and a decimal comma in Vietnamese.
fn written(lang: &str, x: &str) -> String {
    let x = x.replace('-', "−");
    if lang == "vi" {
        x.replace('.', ",")
    } else {
        x
    }
}

/// A vector as a catalogue writes it: "(0, 1e-9)" in English, "(0; 1e-9)" in Vietnamese.
fn vector(lang: &str, items: &[&str]) -> String {
    let sep = if lang == "vi" { "; " } else { ", " };
    format!("({})", items.join(sep))
}

#[test]
fn at_t1_only_float16_loses_ids_of_the_default_model() {
    let net = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let ids = net.encode(ROMEO).unwrap();
    let (c, v) = (net.config().context_length, net.config().vocab_size);
    let (mut min_lp, mut f16_lost, mut contexts) = (f64::INFINITY, 0usize, 0usize);
    // 32 windows of 128 characters, every position of each: 4 096 next-character predictions.
    for w in 0..32 {
        let window = &ids[w * 4000..w * 4000 + c];
        let all = net.forward_ids(window, OutputMode::Logits).unwrap();
        for z in all.chunks_exact(v) {
            let p = lab::precision(z, 1.0, 3.0).unwrap();
            min_lp = min_lp.min(p.min_log_prob);
            let [f32_, bf16, f16, logs] = p.rows;
            assert_eq!(
                (f32_.stored_zeros, bf16.stored_zeros, logs.stored_zeros),
                (0, 0, 0)
            );
            f16_lost += f16.stored_zeros;
            contexts += 1;
        }
    }
    assert_eq!(contexts, 4096);
    for (lang, catalogue) in CATALOGUES {
        // Vietnamese writes a decimal comma.
        let figure = message(catalogue, "precision.defaultMin").replace(',', ".");
        assert_eq!(figure, format!("{min_lp:.1}").replace('-', "−"), "{lang}");
    }
    assert!(
        min_lp > ZERO_THRESHOLDS[1].ln_p(),
        "{min_lp} vs bfloat16's threshold"
    );
    assert!(f16_lost > 0, "float16 should lose some ids");
}

/// crossEntropy(softmax) trained on `corpus` as the page's training view does: the tiny preset,
/// the page's training options, seed 1.
fn page_run(corpus: Corpus) -> Trainer {
    let config = Config::preset("tiny", corpus.tokenizer.len()).unwrap();
    Trainer::new(
        corpus,
        config,
        Pipeline::CrossEntropyOnSoftmax,
        1,
        TrainOptions::page(),
    )
    .unwrap()
}

/// The page's training view, as its worker sets it up (the tiny preset, the page's training
/// options, seed 1, Romeo and Juliet): crossEntropy(softmax(z)) stalls for hundreds of steps on
/// the space, the most frequent character, so "Sample text from each run" prints only spaces.
/// Its loss stays near ln(e + C − 1) − f1, above what one-hots on each previous character's
/// successor reach: the stall is not the optimum.
#[test]
fn ce_on_softmax_stalls_on_the_most_frequent_character() {
    let corpus = Corpus::from_text(ROMEO).unwrap();
    let c = corpus.tokenizer.len();
    let figures = lab::ce_on_softmax_text(ROMEO).unwrap();
    assert_eq!(
        (figures.top[0].0, figures.top[1].0, c),
        (' ', 'e', figures.ce.classes)
    );
    assert!(figures.leads);
    assert_eq!(
        format!(
            "{:.3} {:.3} {:.4}",
            figures.previous_char_loss,
            figures.one_hot_loss,
            figures.ce.one_hot_margin()
        ),
        "3.980 4.107 0.0243"
    );
    let mut t = page_run(corpus);
    // "Stalls for hundreds of steps": still there at step 600.
    t.step(580).unwrap();
    let r = t.step(20).unwrap();
    assert_eq!(r.step, 600);
    assert!(
        (r.loss as f64 - figures.one_hot_loss).abs() < 0.01,
        "{} vs {}",
        r.loss,
        figures.one_hot_loss
    );
    // The stall is above the one-hots that use the previous character.
    assert!(figures.previous_char_loss < r.loss as f64 - 0.1);
    assert!(r.loss as f64 > figures.ce.floor());
    // Its true cross-entropy is high: every other character has p ≈ 0.
    assert!(r.train_ce as f64 > 2.0 * (c as f64).ln(), "{}", r.train_ce);
    let net = t.model().to_net().unwrap();
    let opts = SampleOptions {
        temperature: 0.8,
        seed: Some(42),
        ..SampleOptions::default()
    };
    let text = Generator::new(&net, "ROMEO:\n", OutputMode::Logits, opts)
        .unwrap()
        .generate(200)
        .unwrap();
    assert!(text.chars().all(|ch| ch == ' '), "{text:?}");
}

/// On 'abc' × 1000 no character leads, and the same run reaches the floor: each character
/// predicts the next with certainty, so the true cross-entropy goes to 0.
#[test]
fn ce_on_softmax_reaches_the_floor_where_the_context_decides() {
    let text = "abc".repeat(1000);
    let figures = lab::ce_on_softmax_text(&text).unwrap();
    assert!(!figures.leads);
    let mut t = page_run(Corpus::from_text(&text).unwrap());
    t.step(200).unwrap();
    let r = t.step(20).unwrap();
    let floor = figures.ce.floor();
    assert!(
        (r.loss as f64 - floor).abs() < 0.01,
        "{} vs {floor}",
        r.loss
    );
    assert!(r.train_ce < 0.05, "{}", r.train_ce);
}

/// The training note states the lead over the runner-up only where the text has one: the
/// unconditional sentence names no character, and the lead and its absence are separate
/// messages that the wasm's `leads` chooses between.
#[test]
fn the_training_note_states_a_lead_only_where_it_holds() {
    for (lang, cat) in CATALOGUES {
        let note = message(cat, "train.ceSoftmaxNote");
        for p in ["{top}", "{second}", "{f1}", "{f2}", "{oneHot}"] {
            assert!(!note.contains(p), "{lang}: {p} in {note}");
        }
        assert!(
            note.contains("{previous}") && note.contains("{floor}"),
            "{lang}"
        );
        let leads = message(cat, "train.ceSoftmaxLeads");
        assert!(
            leads.contains("{margin}") && leads.contains("{oneHot}"),
            "{lang}"
        );
        let no_lead = message(cat, "train.ceSoftmaxNoLead");
        assert!(
            no_lead.contains("{margin}") && !no_lead.contains("{oneHot}"),
            "{lang}"
        );
    }
}

/// The training build's size comes from the build (pkg-train/size.json), never a typed figure.
#[test]
fn the_training_builds_size_is_not_typed_by_hand() {
    for (lang, cat) in CATALOGUES {
        let m = message(cat, "train.loadingBuild");
        assert!(
            m.contains("{mb} MB") && m.contains("{gzipMb} MB"),
            "{lang}: {m}"
        );
        assert!(!m.chars().any(|c| c.is_ascii_digit()), "{lang}: {m}");
        assert!(has(cat, "train.loadingBuildUnsized"), "{lang}");
    }
}

/// The stable log_softmax is −∞ at z = (3e38, −3e38), where z − max z overflows; the naive
/// one is −∞ where the sum overflows though no term does, at (88, 88, 88) in float32 and
/// (11, 11) in float16. The thresholds the text gives, computed.
#[test]
fn the_stability_text_states_where_each_version_breaks() {
    let s = lab::stability(&[3e38, -3e38]).unwrap();
    assert_eq!(s.stable_infinities.of_overflow, 1);
    let s = lab::stability(&[88.0, 88.0, 88.0]).unwrap();
    assert_eq!(lab::Stability::broken(&s.naive_f32), (0, 3));
    assert!(88f32.exp().is_finite());
    let s = lab::stability(&[11.0, 11.0]).unwrap();
    assert_eq!(lab::Stability::broken(&s.naive_f16), (0, 2));
    // A term that overflows makes the sum overflow too: the other entry is −∞.
    let s = lab::stability(&[89.0, 80.0]).unwrap();
    assert!(s.naive_f32[0].is_nan() && s.naive_f32[1] == f32::NEG_INFINITY);
    // Every exp underflows: 0 / 0 is NaN at every entry.
    let s = lab::stability(&[-1000.0, -1000.0]).unwrap();
    assert_eq!(lab::Stability::broken(&s.naive_f32), (2, 0));
    assert_eq!(lab::Stability::broken(&s.naive_f16), (2, 0));
    let ln2 = std::f64::consts::LN_2;
    let figures = [
        format!("{:.2}", 128.0 * ln2),
        format!("{:.2}", -150.0 * ln2),
    ];
    assert_eq!(figures, ["88.72", "-103.97"]);
    // float32: the first z_i whose exp overflows is just above 128 ln 2, the last whose exp is
    // not 0 just above −150 ln 2.
    let naive32 = |z: f32| lab::stability(&[z, 0.0]).unwrap().naive_f32[0];
    assert!(naive32(88.7228).is_finite() && naive32(88.72284).is_nan());
    assert!(naive32(-103.97).is_finite() && naive32(-103.973) == f32::NEG_INFINITY);
    // float16 rounds z_i first: NaN from 11.09 (not yet at 11.08), −∞ from −17.34, and
    // z = (−17.33, 0) still finite.
    let naive16 = |z: f32| lab::stability(&[z, 0.0]).unwrap().naive_f16[0];
    // float16's ratio limit: −10 is above −17.34 and the sum fits, yet the ratio ≤ 2^−25.
    assert_eq!(
        lab::stability(&[-10.0, 8.0]).unwrap().naive_f16[0],
        f32::NEG_INFINITY
    );
    assert!(naive16(11.08).is_finite() && naive16(11.09).is_nan());
    assert!(naive16(-17.33).is_finite() && naive16(-17.34) == f32::NEG_INFINITY);
    for (lang, cat) in CATALOGUES {
        let m = message(cat, "stability.text");
        let at = |what: &str| assert!(m.contains(what), "{lang}: {what}");
        at(&format!("128 ln 2 ≈ {}", written(lang, &figures[0])));
        at(&format!("−150 ln 2 ≈ {}", written(lang, &figures[1])));
        at(&written(lang, "11.09"));
        at(&written(lang, "-17.34"));
        at(&format!("({}; 0)", written(lang, "-17.33"))
            .replace("; ", if lang == "vi" { "; " } else { ", " }));
        for v in [
            vector(lang, &["3e38", "−3e38"]),
            vector(lang, &["88", "88", "88"]),
            vector(lang, &["11", "11"]),
            vector(lang, &["89", "80"]),
            vector(lang, &["−10", "8"]),
        ] {
            at(&v);
        }
        at("0 / 0");
        at("2^−25");
        assert!(!has(cat, "stability.finiteWhereZ"), "{lang}");
    }
}

/// The zero thresholds as the catalogues write them are rounded down, so "ln p ≤ x → 0" holds.
#[test]
fn the_catalogues_thresholds_are_rounded_to_the_safe_side() {
    let bf16 = format!("{:.2}", ZERO_THRESHOLDS[1].ln_p_shown());
    let flush = format!("{:.2}", lab::bf16_flush_ln_p_shown());
    assert_eq!((bf16.as_str(), flush.as_str()), ("-92.89", "-87.34"));
    for (lang, cat) in CATALOGUES {
        let m = message(cat, "precision.defaultModel");
        assert!(m.contains(&written(lang, &bf16)), "{lang}: {m}");
        let m = message(cat, "precision.text");
        assert!(
            m.contains(&format!("ln p < {}", written(lang, &flush))),
            "{lang}: {m}"
        );
        assert!(m.contains("2^−126") && m.contains("2^−133"), "{lang}");
    }
}

/// z = (0, 1e-9): distinct logits in float32, but their float32 log-probs tie, so T = 0 picks
/// id 1 from z and id 0 from log_softmax(z). z = (1, 1.001) ties in bfloat16 probabilities, not
/// in float16 ones (which tie closer pairs, such as (1, 1.0001)).
#[test]
fn near_ties_below_float32_resolution_are_stated_as_they_are() {
    let rows = lab::classify(&[0.0, 1e-9], 1.0).unwrap();
    assert_eq!((rows[0].argmax, rows[1].argmax), (1, 0));
    let argmax = |z: &[f32]| -> Vec<usize> {
        lab::classify(z, 1.0)
            .unwrap()
            .iter()
            .map(|r| r.argmax)
            .collect()
    };
    assert_eq!(argmax(&[1.0, 1.001]), [1, 1, 1, 0, 1]);
    assert_eq!(argmax(&[1.0, 1.0001]), [1, 1, 1, 0, 0]);
    for (lang, cat) in CATALOGUES {
        let tie = vector(lang, &["0", "1e-9"]);
        for key in ["verdict1.text", "identity.greedy", "classify.text"] {
            assert!(message(cat, key).contains(&tie), "{lang} {key}");
        }
    }
}

/// crossEntropy on log-probs trains as well as on logits: log_softmax(log_softmax(z)) =
/// log_softmax(z), so the loss and its gradient are the same. The two pairings that break
/// training are nll on logits and crossEntropy on probabilities.
#[test]
fn cross_entropy_on_log_probs_is_cross_entropy_on_logits() {
    let z = [2.0f32, 1.0, 0.5, -1.0, -3.0];
    let lp = numerics::log_softmax(&z).unwrap();
    let opts = LossOptions::new(5);
    let on_z = loss::loss(&z, &[2], &opts).unwrap();
    let on_lp = loss::loss(&lp, &[2], &opts).unwrap();
    assert!((on_z.loss - on_lp.loss).abs() < 1e-6);
    for (a, b) in on_z.grad.iter().zip(&on_lp.grad) {
        assert!((a - b).abs() < 1e-6);
    }
    for (lang, cat) in CATALOGUES {
        let m = message(cat, "verdict5.text");
        let lp_word = if lang == "vi" {
            "crossEntropy với log-xác suất"
        } else {
            "crossEntropy on log-probs"
        };
        assert!(m.contains(lp_word), "{lang}: {m}");
    }
}

/// With label smoothing, descent lowers the target once softmax(z)_y > 1 − ε + ε/C: at
/// z = (5, 0, 0), ε = 0.3 the target's gradient is positive.
#[test]
fn smoothed_cross_entropy_can_lower_the_target() {
    let z = [5.0f32, 0.0, 0.0];
    let mut opts = LossOptions::new(3);
    opts.label_smoothing = 0.3;
    let r = loss::pipeline_loss(&z, &[0], Pipeline::CrossEntropyOnLogits, &opts).unwrap();
    let p = numerics::softmax(&z, 1.0).unwrap();
    let t_y = 1.0 - 0.3 + 0.3 / 3.0;
    assert!(p[0] > t_y);
    assert!((r.grad_logits[0] - (p[0] - t_y)).abs() < 1e-6);
    assert!(r.grad_logits[0] > 0.0);
    // At ε = 0 the target is always raised.
    opts.label_smoothing = 0.0;
    let r = loss::pipeline_loss(&z, &[0], Pipeline::CrossEntropyOnLogits, &opts).unwrap();
    assert!(r.grad_logits[0] < 0.0 && r.grad_logits[1] > 0.0);
    for (_, cat) in CATALOGUES {
        let m = message(cat, "pipeline.note.crossEntropyOnLogits");
        assert!(m.contains("softmax(z)_y > 1 − ε + ε/C"));
    }
}

/// At T = 0.05 the default model's next-token distribution underflows float32 in every row,
/// logits included, while no representation but float16 has lost an id: the classification
/// table's two columns separate the two.
#[test]
fn classify_at_a_low_temperature_underflows_without_losing_ids() {
    let net = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let ids = net.encode("ROMEO:\n").unwrap();
    let all = net.forward_ids(&ids, OutputMode::Logits).unwrap();
    let v = net.config().vocab_size;
    let z = &all[all.len() - v..];
    let rows = lab::classify(z, 0.05).unwrap();
    for r in &rows {
        assert!(r.zeros_at_t > r.lost, "{r:?}");
    }
    assert_eq!((rows[0].lost, rows[1].lost, rows[2].lost), (0, 0, 0));
}

/// What an explanation's example claims: the ids kept, or the final probabilities to 2 decimals.
enum Shows {
    Kept,
    Probs,
}

/// An explanation's example: the step's kind, its chain (URL form), z, the history, and what
/// the sentence shows.
type Example = (&'static str, &'static str, [f32; 3], &'static [u32], Shows);

/// Every step's explanation (`explain.<kind>`) is one sentence of maths with an example on
/// z = (3, 2, 1) (top-k: z = (3, 2, 2)): the example's chain, history and result, computed by
/// the sampler workbench, in both catalogues' notation.
#[test]
fn each_sampler_explanation_states_its_example() {
    use logitlab::sampling::{chain, workbench::Sampler, Input};
    // kind, the example's chain (URL form), z, history, what the sentence shows.
    let examples: [Example; 18] = [
        ("temperature", "t_0.5", [3.0, 2.0, 1.0], &[], Shows::Probs),
        (
            "dynamicTemperature",
            "dt_1_0.5_1",
            [3.0, 2.0, 1.0],
            &[],
            Shows::Probs,
        ),
        ("topK", "k_2_h", [3.0, 2.0, 2.0], &[], Shows::Kept),
        ("topK", "k_2_l", [3.0, 2.0, 2.0], &[], Shows::Kept),
        ("topP", "p_0.8_1", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("minP", "m_0.2_1", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("typical", "y_0.9_1_h", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("epsilon", "e_0.1", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("eta", "eta_0.1", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("topNSigma", "s_1.5", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("xtc", "x_1_0.2_1", [3.0, 2.0, 1.0], &[], Shows::Kept),
        (
            "repetitionPenalty",
            "rp_2",
            [3.0, 2.0, 1.0],
            &[0],
            Shows::Probs,
        ),
        (
            "penalties",
            "pen_-1_1_0.5_0.5",
            [3.0, 2.0, 1.0],
            &[0, 0],
            Shows::Probs,
        ),
        (
            "noRepeatNgram",
            "ng_2",
            [3.0, 2.0, 1.0],
            &[0, 1, 0],
            Shows::Kept,
        ),
        (
            "dry",
            "dry_1_2_2_-1",
            [3.0, 2.0, 1.0],
            &[0, 1, 2, 0, 1],
            Shows::Probs,
        ),
        ("logitBias", "lb_0_-inf", [3.0, 2.0, 1.0], &[], Shows::Kept),
        ("mirostat", "mi_1_0.1_3", [3.0, 2.0, 1.0], &[], Shows::Kept),
        (
            "mirostatV2",
            "mi2_1.5_0.1",
            [3.0, 2.0, 1.0],
            &[],
            Shows::Kept,
        ),
    ];
    for (kind, url, z, history, shows) in examples {
        let steps = chain::from_url(url).unwrap();
        assert_eq!(steps[0].kind(), kind);
        let d = Sampler::new(steps, Some(0))
            .unwrap()
            .distribution(&z, history, Input::Logits)
            .unwrap();
        for (lang, catalogue) in CATALOGUES {
            let sentence = message(catalogue, &format!("explain.{kind}"));
            let shown = match shows {
                Shows::Kept => {
                    let ids: Vec<String> = (0..3)
                        .filter(|&i| d.cut[i] == 0)
                        .map(|i| i.to_string())
                        .collect();
                    let sep = if lang == "vi" { "; " } else { ", " };
                    format!("{{{}}}", ids.join(sep))
                }
                Shows::Probs => {
                    let p: Vec<String> = d
                        .probs
                        .iter()
                        .map(|p| written(lang, &format!("{p:.2}")))
                        .collect();
                    vector(lang, &p.iter().map(|s| s.as_str()).collect::<Vec<_>>())
                }
            };
            let z_text: Vec<String> = z.iter().map(|x| format!("{x}")).collect();
            let z_text = vector(lang, &z_text.iter().map(|s| s.as_str()).collect::<Vec<_>>());
            assert!(
                sentence.contains(&format!("z = {z_text}")) && sentence.contains(&shown),
                "{lang} explain.{kind} ({url}) should show z = {z_text} and {shown}: {sentence}"
            );
            // One sentence: one full stop, at its end.
            assert_eq!(
                sentence.matches(". ").count(),
                0,
                "{lang} explain.{kind}: {sentence}"
            );
        }
    }
}

/// The card "Weights in low precision": KL(original ‖ quantised) is 0 when the two
/// distributions are equal and positive when the copy moves probability (`weights.kl`); the
/// copy differs from the original in its weight matrices and in the products with them, whose
/// input vector is rounded to 8-bit blocks as llama.cpp rounds it (`weights.which`); matrices
/// whose rows do not divide into the blocks stay as they are (`weights.memoryKept`).
#[test]
fn the_weights_card_states_what_the_comparison_computes() {
    use logitlab::lab::weights::compare;
    use logitlab::model::quant::QType;
    use logitlab::model::Dtype;
    for (lang, c) in CATALOGUES {
        for key in [
            "weights.kl",
            "weights.which",
            "weights.memoryKept",
            "weights.figures",
        ] {
            assert!(has(c, key), "{lang}: {key}");
        }
        assert!(message(c, "weights.kl").contains("Σ p ln(p / q)"), "{lang}");
        assert!(message(c, "weights.which").contains("Q4_K"), "{lang}");
    }
    // A product with a quantised matrix rounds its input vector to Q8_0 blocks first: it is
    // the dequantised row times the rounded input, not times the input.
    {
        use logitlab::model::quant::{quantize_q8_0, QMatrix};
        use logitlab::model::quantize::quantize_row;
        let w: Vec<f32> = (0..32).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
        let m = QMatrix::new(QType::Q8_0, 1, 32, quantize_row(QType::Q8_0, &w).unwrap()).unwrap();
        let row = m.row(0);
        // Inputs on no 8-bit grid of their block.
        let x: Vec<f32> = (0..32).map(|i| 1.0 + i as f32 * 1.3e-3).collect();
        let xq: Vec<f32> = quantize_q8_0(&x)
            .iter()
            .flat_map(|b| b.qs.map(|q| b.d * q as f32))
            .collect();
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum::<f64>();
        let scale: f64 = row.iter().zip(&x).map(|(a, b)| (a * b).abs() as f64).sum();
        let y = m.matmul(&x)[0] as f64;
        assert!((y - dot(&row, &xq)).abs() <= 1e-6 * scale, "{y}");
        assert!((y - dot(&row, &x)).abs() > 5e-5 * scale, "{y}");
    }
    let net = Net::from_gguf(
        "llama-f32.gguf",
        include_bytes!("fixtures/gguf/llama-f32.gguf"),
    )
    .unwrap();
    let ids = net.encode("the ant in the hen").unwrap();
    let same = compare(&net, &net, &ids).unwrap();
    assert!(same.positions.iter().all(|p| p.kl == 0.0));
    for qtype in [QType::Q8_0, QType::Q4_0] {
        let q = net.quantized(qtype).unwrap();
        assert_eq!(q.config(), net.config(), "only the weights differ");
        assert_eq!(q.dtype(), Dtype::Quant(qtype));
        // The norm vectors (rank 1) are the original's, value for value.
        let layout = net.config().layout();
        for ((p, a), b) in layout.iter().zip(net.tensors()).zip(q.tensors()) {
            if p.shape.len() == 1 {
                assert_eq!(a, b, "{}", p.name);
            }
        }
        let c = compare(&net, &q, &ids).unwrap();
        assert!(c.positions.iter().all(|p| p.kl > 0.0), "{}", qtype.name());
    }
    // Rows of 32 and 64 values do not divide into Q4_K's 256: every matrix stays.
    let plan = net.quantize_plan(QType::Q4K).unwrap();
    assert_eq!((plan.quantized, plan.kept), (0, 16));
    assert_eq!((plan.already_quantized, plan.undivided()), (0, 16));
    // A copy's matrices are quantised already: they stay for that reason (`weights.memoryAlready`).
    let q = net
        .quantized(QType::Q8_0)
        .unwrap()
        .quantize_plan(QType::Q4_0)
        .unwrap();
    assert_eq!(
        (q.quantized, q.already_quantized, q.undivided()),
        (0, 16, 0)
    );
    for (lang, c) in CATALOGUES {
        assert!(has(c, "weights.memoryAlready"), "{lang}");
    }
}

/// The calibration card, on its shipped scene with the default model: the scene is from a work
/// the default model was held out from; T is fitted on the first half of the positions and
/// measured on the second; the NLL is least at the fitted T; top-1 accuracy is the same at both
/// temperatures because argmax(z / T) = argmax(z); T > 1 lowers every confidence; the
/// confidence is the largest probability of softmax(z / T), the sampler's own division; ECE and
/// Brier are what the card's definitions say; and 15 bins.
#[test]
fn the_calibration_card_states_its_maths() {
    use logitlab::calibration::{self as cal, Confidence, DEFAULT_BINS};
    const SCENE: &str = include_str!("../www/texts/hamlet-act1-scene1.txt");
    assert!(logitlab::data::VALIDATION_WORKS.contains(&"hamlet_gut.txt"));
    // The opening of Act I, Scene 1, up to the Ghost's second exit: still in Scene 1.
    assert!(SCENE.starts_with("ACT I.\n\nScene I. Elsinore."));
    assert!(SCENE.trim_end().ends_with("[Exit Ghost.]"));
    assert_eq!(SCENE.matches("[Exit Ghost.]").count(), 2);
    assert!(!SCENE.contains("Scene II."));
    assert_eq!(DEFAULT_BINS, 15);
    for (lang, c, second) in [
        ("en", CATALOGUES[0].1, "the Ghost's second exit"),
        ("vi", CATALOGUES[1].1, "lần thứ hai Hồn ma rời sân khấu"),
    ] {
        let text = message(c, "calibration.text");
        assert!(
            text.contains("15") && text.contains(second),
            "{lang}: {text}"
        );
    }
    for (lang, c) in CATALOGUES {
        let hamlet = message(c, "calibration.hamlet");
        assert!(
            hamlet.starts_with("Hamlet, ") && hamlet.ends_with(" 1"),
            "{lang}: {hamlet}"
        );
        for key in [
            "calibration.over",
            "calibration.under",
            "calibration.calibrated",
            "calibration.sameAccuracy",
            "calibration.eceDownNllDown",
            "calibration.eceDownNllUp",
            "calibration.eceUpNllDown",
            "calibration.eceUpNllUp",
            "calibration.unmoved",
            "calibration.overBeyond",
            "calibration.underBeyond",
            "calibration.flat",
        ] {
            assert!(has(c, key), "{lang}: {key}");
        }
    }

    let net = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let p = cal::text_positions(&net, SCENE).unwrap();
    let v = net.config().vocab_size;
    let c = cal::calibrate(&p.logits, &p.targets, DEFAULT_BINS, true).unwrap();
    let after = c.after.as_ref().unwrap();
    let n = p.targets.len();
    // The first half fits, the second half is measured.
    assert_eq!(c.fit_positions, n / 2);
    assert_eq!(c.fit_positions + c.before.positions, n);
    assert_eq!(after.positions, c.before.positions);
    // The NLL of the fitting half is least at the fitted T.
    let half = n / 2;
    let fit_nll = |t: f64| {
        cal::reliability(&p.logits[..half * v], &p.targets[..half], t, 15)
            .unwrap()
            .nll
    };
    for k in [0.98, 1.02] {
        assert!(
            fit_nll(c.temperature) <= fit_nll(c.temperature * k),
            "T × {k}"
        );
    }
    // The default model is overconfident on this scene: T > 1, and every confidence falls.
    assert!(c.temperature > 1.0, "{}", c.temperature);
    assert_eq!(c.confidence(), Some(Confidence::Over));
    let t = c.temperature as f32;
    for z in p.logits.chunks_exact(v).step_by(7) {
        let before = numerics::softmax(z, 1.0).unwrap();
        let scaled = numerics::softmax(z, t).unwrap();
        assert!(numerics::max(&scaled) <= numerics::max(&before));
        // argmax(z / T) = argmax(z).
        assert_eq!(numerics::argmax(&scaled), numerics::argmax(z));
        for t in [0.1f32, 0.5, 2.0, 10.0] {
            assert_eq!(
                numerics::argmax(&numerics::softmax(z, t).unwrap()),
                numerics::argmax(z)
            );
        }
    }
    assert_eq!(after.accuracy, c.before.accuracy);
    // The confidence the card bins is the largest probability of softmax(z / T), the division
    // the sampler's temperature makes.
    let z = &p.logits[..v];
    let one = cal::reliability(z, &p.targets[..1], c.temperature, 15).unwrap();
    let bin = one.bins.iter().find(|b| b.count == 1).unwrap();
    assert!(
        (bin.confidence - f64::from(numerics::max(&numerics::softmax(z, t).unwrap()))).abs() < 1e-6
    );
    // ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b|, in [0, 1]; Brier in [0, 2].
    for r in [&c.before, after] {
        let total: usize = r.bins.iter().map(|b| b.count).sum();
        assert_eq!(total, r.positions);
        let ece: f64 = r
            .bins
            .iter()
            .map(|b| b.count as f64 / total as f64 * (b.accuracy - b.confidence).abs())
            .sum();
        assert!((ece - r.ece).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&r.ece) && (0.0..=2.0).contains(&r.brier));
    }
}

/// The distillation card's sentences (`distill.*`), each against `distill_loss` on random rows:
/// the six notes' formulas and gradients, the ratios the card quotes, and the figures it names.
#[test]
fn the_distillation_cards_state_their_maths() {
    use logitlab::distill::{distill_loss, DistillOptions, DistillPipeline as P, KlReduction as R};
    const STATE: &str = include_str!("../www/state.js");
    const GPT2_VOCAB: usize = 50_257; // GPT-2's config.json, vocab_size
    let net = Net::from_safetensors(include_bytes!("../www/models/default.safetensors")).unwrap();
    let v_default = net.config().vocab_size;
    assert_eq!(v_default, 84);
    // T starts at 1.5 and α at 0.3, as the settings sentence says.
    assert!(STATE.contains("['distillT', 1.5, number(0.5, 10)]"));
    assert!(STATE.contains("['distillAlpha', 0.3, number(0, 1)]"));
    for (lang, c) in CATALOGUES {
        assert!(message(c, "distill.text").contains("84"), "{lang}");
        let settings = message(c, "distill.settings");
        assert!(
            settings.contains(&written(lang, "1.5")) && settings.contains(&written(lang, "0.3")),
            "{lang}: {settings}"
        );
        let mean = message(c, "distill.note.meanReduction");
        let gpt2 = format!("1/{}\u{202f}{:03}", GPT2_VOCAB / 1000, GPT2_VOCAB % 1000);
        assert!(
            mean.contains("1/{V}") && mean.contains(&gpt2),
            "{lang}: {mean}"
        );
        for p in P::ALL {
            assert!(has(c, &format!("distill.note.{}", p.name())), "{lang}");
        }
        for key in ["ok", "bad", "other", "baseline"] {
            assert!(has(c, &format!("distill.verdict.{key}")), "{lang}");
        }
        assert!(has(c, "distill.note.meanReductionForced"), "{lang}");
        assert!(has(c, "error.distill.unknownCharacter"), "{lang}");
    }

    let mut rng = logitlab::rng::Rng::new(7);
    let mut rows = |n: usize, v: usize, scale: f64| -> Vec<f32> {
        (0..n * v).map(|_| (rng.normal() * scale) as f32).collect()
    };
    let softmax_t = |z: &[f32], t: f64| -> Vec<f64> {
        let m = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
        let e: Vec<f64> = z.iter().map(|&x| ((x as f64 - m) / t).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|x| x / s).collect()
    };
    let run = |s: &[f32], t: &[f32], y: &[i32], pipeline, temperature, reduction| {
        distill_loss(
            s,
            t,
            y,
            &DistillOptions {
                pipeline,
                temperature,
                alpha: 0.0,
                reduction,
            },
        )
        .unwrap()
    };
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * (1.0 + b.abs());
    let (n, v) = (5usize, 84usize);
    for temperature in [0.5, 1.0, 2.0, 4.0, 10.0] {
        let s = rows(n, v, 2.0);
        let t = rows(n, v, 2.0);
        let y: Vec<i32> = (0..n as i32).collect();
        let hinton = run(&s, &t, &y, P::Hinton, temperature, None);
        // Hinton: T² · KL(p ‖ q) averaged over the N positions; gradient T · (q − p) per position.
        let mut kl = 0.0;
        for i in 0..n {
            let q = softmax_t(&s[i * v..(i + 1) * v], temperature);
            let p = softmax_t(&t[i * v..(i + 1) * v], temperature);
            kl += p
                .iter()
                .zip(&q)
                .map(|(p, q)| p * (p.ln() - q.ln()))
                .sum::<f64>();
            for c in 0..v {
                let g = hinton.soft_grad[i * v + c] as f64 * n as f64;
                assert!(close(g, temperature * (q[c] - p[c]), 1e-5), "{g}");
            }
        }
        let t2 = temperature * temperature;
        assert!(close(hinton.kl_term, t2 * kl / n as f64, 1e-9));
        // No T²: 1/T² of card 1's, the term and its gradient, under every reduction.
        for r in [None, Some(R::Batchmean), Some(R::Mean), Some(R::Sum)] {
            let one = run(&s, &t, &y, P::Hinton, temperature, r);
            let no_t2 = run(&s, &t, &y, P::NoTSquared, temperature, r);
            assert!(close(no_t2.kl_term * t2, one.kl_term, 1e-9));
            for (a, b) in no_t2.soft_grad.iter().zip(&one.soft_grad) {
                assert!(close(*a as f64 * t2, *b as f64, 1e-5));
            }
        }
        // 'mean': 1/V of card 1's; 'sum': N times 'batchmean'.
        let mean = run(&s, &t, &y, P::MeanReduction, temperature, None);
        assert!(close(mean.kl_term * v as f64, hinton.kl_term, 1e-9));
        for (a, b) in mean.soft_grad.iter().zip(&hinton.soft_grad) {
            assert!(close(*a as f64 * v as f64, *b as f64, 1e-5));
        }
        let sum = run(&s, &t, &y, P::Hinton, temperature, Some(R::Sum));
        assert!(close(sum.kl_term, n as f64 * hinton.kl_term, 1e-9));
        // One reduction in force for every pipeline: card 4 computes what card 1 does.
        for r in [R::Batchmean, R::Mean, R::Sum] {
            assert_eq!(
                run(&s, &t, &y, P::MeanReduction, temperature, Some(r)),
                run(&s, &t, &y, P::Hinton, temperature, Some(r))
            );
        }
        // Probabilities as input: Σ p log p − Σ p·q ≤ 0 per position; gradient T · q ⊙ (Σ q·p − p).
        let probs = run(&s, &t, &y, P::ProbsAsInput, temperature, None);
        assert!(probs.kl_term <= 0.0, "{}", probs.kl_term);
        for i in 0..n {
            let q = softmax_t(&s[i * v..(i + 1) * v], temperature);
            let p = softmax_t(&t[i * v..(i + 1) * v], temperature);
            let one = distill_loss(
                &s[i * v..(i + 1) * v],
                &t[i * v..(i + 1) * v],
                &[0],
                &DistillOptions {
                    pipeline: P::ProbsAsInput,
                    temperature,
                    alpha: 0.0,
                    reduction: None,
                },
            )
            .unwrap();
            let want: f64 = p.iter().map(|p| p * p.ln()).sum::<f64>()
                - p.iter().zip(&q).map(|(p, q)| p * q).sum::<f64>();
            assert!(one.kl_term <= 0.0 && close(one.kl_term, t2 * want, 1e-9));
            let qp: f64 = q.iter().zip(&p).map(|(q, p)| q * p).sum();
            for c in 0..v {
                let g = probs.soft_grad[i * v + c] as f64 * n as f64;
                assert!(close(g, temperature * q[c] * (qp - p[c]), 1e-4), "{g}");
            }
        }
        // Reverse KL: T² · KL(q ‖ p); gradient T · q ⊙ (log q − log p − KL(q ‖ p)).
        let reverse = run(&s, &t, &y, P::ReverseKl, temperature, None);
        let mut kl_qp = 0.0;
        for i in 0..n {
            let q = softmax_t(&s[i * v..(i + 1) * v], temperature);
            let p = softmax_t(&t[i * v..(i + 1) * v], temperature);
            let k: f64 = q.iter().zip(&p).map(|(q, p)| q * (q.ln() - p.ln())).sum();
            kl_qp += k;
            for c in 0..v {
                let g = reverse.soft_grad[i * v + c] as f64 * n as f64;
                let want = temperature * q[c] * (q[c].ln() - p[c].ln() - k);
                assert!(
                    (g - want).abs() < 1e-5 * (1.0 + want.abs()),
                    "{g} vs {want}"
                );
            }
        }
        assert!(close(reverse.kl_term, t2 * kl_qp / n as f64, 1e-9));
        // The baseline: no soft term; its loss is crossEntropy alone.
        let base = run(&s, &t, &y, P::Baseline, temperature, None);
        assert_eq!(base.kl_term, 0.0);
        assert!(base.soft_grad.iter().all(|&g| g == 0.0));
    }
    // No T², 0 < α < 1: as T grows large the loss becomes almost only α · crossEntropy(s, y);
    // the ratio (1 − α) · soft / loss the card shows tends to 0.
    {
        let (s, t) = (rows(n, v, 2.0), rows(n, v, 2.0));
        let y: Vec<i32> = (0..n as i32).collect();
        let alpha = 0.3;
        let ratio = |temperature: f64| {
            let o = distill_loss(
                &s,
                &t,
                &y,
                &DistillOptions {
                    pipeline: P::NoTSquared,
                    temperature,
                    alpha,
                    reduction: None,
                },
            )
            .unwrap();
            assert!(close(
                o.loss,
                (1.0 - alpha) * o.kl_term + alpha * o.ce_term,
                1e-9
            ));
            (1.0 - alpha) * o.kl_term / o.loss
        };
        let ratios: Vec<f64> = [10.0, 100.0, 1000.0].map(ratio).to_vec();
        assert!(ratios.windows(2).all(|w| w[1] < w[0]), "{ratios:?}");
        assert!(ratios[2] < 1e-4, "{ratios:?}");
    }
    // As T grows, T · (q − p) tends to ((s − t) − mean(s − t))/V, which does not depend on T.
    let s = rows(1, v, 1.0);
    let t = rows(1, v, 1.0);
    let d: Vec<f64> = s.iter().zip(&t).map(|(a, b)| (a - b) as f64).collect();
    let mean_d = d.iter().sum::<f64>() / v as f64;
    let gap = |temperature: f64| {
        let g = run(&s, &t, &[0], P::Hinton, temperature, None).soft_grad;
        (0..v)
            .map(|c| (g[c] as f64 - (d[c] - mean_d) / v as f64).abs())
            .fold(0.0, f64::max)
    };
    // The gap shrinks as 1/T: ten times smaller at ten times the temperature.
    let (at100, at1000) = (gap(100.0), gap(1000.0));
    assert!(at100 < 1e-3 && at1000 < at100 / 5.0, "{at100} {at1000}");
    // Descent on the probabilities-as-input term puts all of q on the teacher's top class.
    let mut s = rows(1, 8, 1.0);
    let t = rows(1, 8, 1.0);
    let top = numerics::argmax(&t);
    for _ in 0..5000 {
        let g = run(&s, &t, &[0], P::ProbsAsInput, 1.0, None).soft_grad;
        for (x, g) in s.iter_mut().zip(&g) {
            *x -= g;
        }
    }
    let q = softmax_t(&s, 1.0);
    assert!(q[top] > 0.99, "{q:?}");
}
