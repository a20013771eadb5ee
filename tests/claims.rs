//! Every number a sentence on the page or in the README quotes, computed: if the code changes
//! what the page would show, the sentence's test fails. (The figures of the maths alone, such
//! as the zero thresholds and the floor of crossEntropy(softmax), are tested in `src/lab.rs`.)

use logitlab::data::Corpus;
use logitlab::lab::{self, CeOnSoftmax, ZERO_THRESHOLDS};
use logitlab::model::{Config, Generator, Net, OutputMode};

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
    let start = catalogue.find(&format!("\"{key}\": \"")).expect(key) + key.len() + 5;
    catalogue[start..].split('"').next().unwrap().to_string()
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

/// The page's training view, as its worker sets it up (tiny preset, learning rate 0.01, batch 8,
/// seed 1, Romeo and Juliet): crossEntropy(softmax(z)) puts all its mass on the space, so
/// "Sample text from each run" prints only spaces, and its loss settles at ln(e + C − 1) − q(' ').
#[test]
fn ce_on_softmax_collapses_onto_the_most_frequent_character() {
    let corpus = Corpus::from_text(ROMEO).unwrap();
    let c = corpus.tokenizer.len();
    let config = Config::preset("tiny", c).unwrap();
    let options = TrainOptions {
        batch_size: 8,
        learning_rate: 0.01,
        min_learning_rate: 0.001,
        warmup_steps: 20,
        total_steps: 3000,
        eval_batches: 2,
        ..TrainOptions::default()
    };
    let freq = lab::char_frequencies(ROMEO);
    let ce = CeOnSoftmax { classes: c };
    // The space leads 'e' by far more than the margin, so the optimum is one-hot on it.
    assert_eq!((freq[0].0, freq[1].0, c), (' ', 'e', 69));
    assert!(freq[0].1 - freq[1].1 > ce.one_hot_margin());
    let mut t = Trainer::new(corpus, config, Pipeline::CrossEntropyOnSoftmax, 1, options).unwrap();
    t.step(100).unwrap();
    let r = t.step(20).unwrap();
    let settled = ce.one_hot_loss(freq[0].1);
    assert!(
        (r.loss as f64 - settled).abs() < 0.01,
        "{} vs {settled}",
        r.loss
    );
    assert!(r.loss as f64 > ce.floor());
    // Its true cross-entropy is far above ln C: every other character has p ≈ 0.
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
