// A small script against the JS API's TypeScript declarations (the .d.ts of www/pkg,
// www/pkg-chat and www/pkg-train, written by wasm-bindgen and tsify from the Rust types). `./build.sh test` type-checks it with
// `tsc --noEmit -p tests/types` after building: a field renamed in Rust without this script
// following fails there. The `@ts-expect-error` lines are misuses the types must reject.

import init, {
  sample, softmax, logSoftmax, logsumexp, loss, pipelineLoss, pipelines, presets, precision,
  temperatureIdentity, nextTokenPanel, draws, classify, stability, zeroThresholds, ceOnSoftmax,
  charFrequencies, parseValues, translateValues, Model, ModelReader, ModelOutput, defaultModelUrl,
  distillLoss, distillPipelines, calibration,
  type SampleOptions, type SampleResult, type LossResult, type Pipeline, type DistillPipeline,
  type CalibrationResult,
} from '../../www/pkg/logitlab.js';
import initChat, { Model as ChatModel } from '../../www/pkg-chat/logitlab_chat.js';
import initTrain, {
  Trainer, Model as TrainModel, type StepResult, type TrainerOptions,
} from '../../www/pkg-train/logitlab_train.js';

export async function lab(): Promise<void> {
  await init();
  const z = new Float32Array([2, 1, 0.5, -1]);
  const options: SampleOptions = { temperature: 0.8, topK: 3, topP: 0.9, minP: 0.05, seed: 1, input: 'logits' };
  const s: SampleResult = sample(z, options);
  const p: Float32Array = s.probs;
  const cut: Uint8Array = s.cut;
  const token: number = s.token + s.kept + s.seed + s.entropy + s.logProb + s.modelLogProb;
  sample([1, 2, 3]);
  // @ts-expect-error a misspelt field
  sample(z, { topp: 0.9 });
  // @ts-expect-error not one of 'logits' | 'logProbs' | 'probs'
  sample(z, { input: 'softmax' });
  // @ts-expect-error values are numbers
  sample(['a', 'b']);

  const q: Float32Array = softmax(z, 0.5);
  const lp: Float32Array = logSoftmax(z);
  const lse: number = logsumexp(z);
  const l: LossResult = loss(z, new Int32Array([0]), { classes: 4, function: 'nll', reduction: 'sum', ignoreIndex: -100, weight: [1, 1, 1, 1], labelSmoothing: 0 });
  // @ts-expect-error classes is required
  loss(z, [0], {});
  const names: Pipeline[] = pipelines().map((x) => x.name);
  const pl = pipelineLoss(z, [0], { classes: 4, pipeline: names[0] });
  const g: Float32Array = pl.gradLogits;
  const kd: DistillPipeline[] = distillPipelines().map((x) => x.name);
  const dl = distillLoss(z, z, [0], { pipeline: kd[0], temperature: 2, alpha: 0.5, reduction: 'batchmean' });
  const soft: Float32Array = dl.softGrad;
  const terms: number = dl.loss + dl.klTerm + dl.ceTerm;
  // @ts-expect-error not a kl_div reduction
  distillLoss(z, z, [0], { reduction: 'none' });
  const shapes = presets().map((x) => `${x.name} (${x.layers} × ${x.embd}, ctx ${x.contextLength})`);
  const prec = precision(z, 1);
  const zeros: number = prec.zeros.bf16 + prec.zeros.logProbs;
  const id = temperatureIdentity(z, 2);
  const panel = nextTokenPanel(z, { output: 'logSoftmax', temperature: 0.8, top: 5, storedTemperature: 1, reheatTemperature: 3 });
  const top: Uint32Array = panel.top;
  const after: number = (panel.precision?.zerosAfter.f16 ?? 0) + (panel.identity?.maxAbsDiff ?? 0);
  // @ts-expect-error: the experiments are absent when left out ({ identity: false, precision: false })
  const leftOut: number = panel.identity.maxAbsDiff;
  const range: number[] | undefined = nextTokenPanel(z, { identity: false, precision: false }).valueRange;
  const kept = new ModelOutput(z, 5);
  const keptTop: Uint32Array = kept.nextTokenPanel({ temperature: 0.8, topP: 0.9, topOnly: true }).top;
  const keptKept: number = kept.chainPanel('llama.cpp', { seed: 1, topOnly: true }).kept + kept.length;
  const apart = kept.experiments({ temperature: 0.8, storedTemperature: 0.5, topOnly: true });
  const apartFigures: number = (apart.identity?.maxAbsDiff ?? 0) + (apart.precision?.zeros.f16 ?? 0);
  // @ts-expect-error: either experiment is absent when left out
  const apartLeftOut: number = apart.precision.minLogProb;
  // @ts-expect-error: a kept output's panel takes its options only; the values are its own
  kept.nextTokenPanel(z);
  kept.free();
  const d = draws(z, { seed: 1 }, 100);
  const counts: Uint32Array = d.counts;
  const rows = classify(z, 1).map((r) => r.representation + r.argmax);
  const st = stability(z);
  const nan: number = st.nan.f32 + st.negInf.f16;
  const thresholds = zeroThresholds().map((t) => t.lnP);
  const ce = ceOnSoftmax(65, 0.1);
  const oneHot: number | undefined = ce.oneHotLoss;
  const freq: Float64Array = charFrequencies('hello', 3).frequencies;
  const parsed: Float32Array = parseValues('2, 1, 0.5');
  const parsedVi: Float32Array = parseValues('2; 1; 0,5', { decimal: ',' });
  const written: string = translateValues('1, 1.001', { from: '.', to: ',' });

  const bytes = new Uint8Array(await (await fetch(defaultModelUrl())).arrayBuffer());
  const model = Model.fromBytes(bytes);
  const v: number = model.config.vocabSize;
  const arch: 'gpt2' | 'llama' | 'qwen2' | 'qwen3' | undefined = model.config.architecture;
  const dtype: 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q5_0' | 'q4_K' | 'q6_K' | 'mixed' | undefined = model.config.dtype;
  const typeCounts: Record<string, number> | undefined = model.config.tensorTypes;
  const shape: [number | undefined, number | undefined, boolean | undefined] =
    [model.config.headDim, model.config.kvHeads, model.config.tiedHead];
  const eos: Uint32Array = model.eosTokenIds;
  const ids: Uint32Array = model.encode('ROMEO:');
  model.encode('ROMEO:', { addSpecialTokens: true });
  // @ts-expect-error the option is addSpecialTokens
  model.encode('ROMEO:', { add_special_tokens: true });
  const values: Float32Array = model.forward(ids, { output: 'logSoftmax', allPositions: false });
  const gen = model.generate('ROMEO:', { temperature: 0.8, topK: 20, seed: 1, output: 'logits' });
  const next = gen.next();
  const text: string = next.text + model.decode(gen.tokens) + model.tokenText(next.token);
  // @ts-expect-error generate's options have no `input`: the model's output decides it
  model.generate('ROMEO:', { input: 'probs' });
  const zip: Uint8Array = model.toHuggingFaceZip('my-model');
  const gguf: Uint8Array = model.toGguf();
  const template: string | undefined = model.chatTemplate;
  const hasTemplate: boolean | undefined = model.config.chatTemplate;
  const format: 'huggingFace' | 'llama2c' | 'logitlab' | 'gguf' | undefined = model.config.format;
  // @ts-expect-error the sampling lab's build has no chat-template engine: www/pkg-chat has
  model.applyChatTemplate([{ role: 'user', content: 'Hello!' }]);
  const stats = model.tokenStats('But soft');
  const perWord: number | undefined = stats.perWord;
  console.log(template, hasTemplate, format, typeCounts, stats.tokens, stats.words, perWord);
  console.log(p, cut, token, q, lp, lse, l.rows, g, shapes, zeros, id.fromLogits, top, after, leftOut, range, keptTop, keptKept, apartFigures, apartLeftOut,
    counts, rows, nan, thresholds, oneHot, freq, parsed, parsedVi, written, v, arch, dtype, shape, eos,
    values, text, zip);
  gen.free();
  model.free();
}

/** A llama2.c model picked from disk, read as it streams in (the page's worker does this). */
/** The chat build: the sampling lab's API, and `applyChatTemplate`. */
export async function chat(files: Record<string, Uint8Array>): Promise<string> {
  await initChat();
  const model = ChatModel.fromFiles(files);
  // @ts-expect-error a message has a role
  model.applyChatTemplate([{ content: 'Hello!' }]);
  // @ts-expect-error the option is addGenerationPrompt
  model.applyChatTemplate([{ role: 'user', content: 'Hello!' }], { add_generation_prompt: true });
  return model.applyChatTemplate([{ role: 'user', content: 'Hello!' }], { addGenerationPrompt: true });
}

export async function llama(bin: File, tokenizer: File): Promise<Model> {
  const reader = new ModelReader(bin.size, new Uint8Array(await tokenizer.arrayBuffer()));
  const parts = bin.stream().getReader();
  for (let r = await parts.read(); !r.done; r = await parts.read()) reader.push(r.value);
  const received: number = reader.received;
  // @ts-expect-error the parts are bytes, not text
  reader.push('text');
  console.log(received);
  return reader.finish();
}

export function calibrate(model: Model, text: string): number {
  const c: CalibrationResult = calibration(model, text, { bins: 15, fit: true });
  const gaps: number[] = c.bins.map((b) => Math.abs(b.accuracy - b.confidence) * b.count);
  // @ts-expect-error after is absent without the fit
  const eceAfter: number = c.after.ece;
  return c.ece + c.nll + c.brier + c.temperature + (c.after?.ece ?? 0) + gaps.length + eceAfter;
}

export async function train(text: string, teacher: TrainModel): Promise<void> {
  await initTrain();
  const options: TrainerOptions = { batchSize: 8, learningRate: 3e-3, evalBatches: 2 };
  const t = new Trainer(text, { preset: 'tiny', contextLength: 32 }, 'nllOnLogits', 1, options);
  const r: StepResult = t.step(10);
  const val: number | undefined = r.valCe;
  const lr: number = t.options.learningRate + t.config.parameters;
  // @ts-expect-error not a pipeline
  new Trainer(text, {}, 'crossEntropy', 1);
  const gen = t.model().generate('ROMEO:', { temperature: 0.8, seed: 1 });
  console.log(r.trainCe, val, lr, gen.next().text);
  const student = Trainer.distill(text, { preset: 'tiny' }, teacher, { pipeline: 'noTSquared', temperature: 4 }, 1);
  const sr: StepResult = student.step(1);
  console.log(sr.klTerm, sr.softGradNorm);
}
