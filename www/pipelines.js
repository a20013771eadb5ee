// The seed's four training pipelines and the model-size presets, as the wasm lists them
// (`pipelines()`, `presets()`): shared by the state's schema (state.js), the loss calculator
// (loss-view.js) and the training runs (train-view.js). What the page says about each is its
// own words, in the catalogues. They need the main thread's wasm instance, which main.js
// creates before it reads the state; each list is read once, on first use.

import { pipelines, presets } from './pkg/logitlab.js';
import { t, fixed } from './i18n.js';

let pipelineList;
let presetList;

/** The pipelines, in the order the page shows them: `[{ name, formula, correct }]`. */
export const PIPELINES = () => (pipelineList ??= pipelines());

/** The model-size presets, smallest first: `[{ name, contextLength, layers, heads, embd }]`. */
export const PRESETS = () => (presetList ??= presets());

/** Their names, the same in every language and in the URL. */
export const pipelineNames = () => PIPELINES().map((p) => p.name);

/** The pipeline called `name`. */
export const pipeline = (name) => PIPELINES().find((p) => p.name === name);

/** A pipeline's formula with its verdict in symbol and in words (never colour alone). */
export const pipelineTitle = (name) => `${pipeline(name).formula} ${t(pipeline(name).correct ? 'pipeline.ok' : 'pipeline.bad')}`;

/**
 * What a pipeline's gradient does. `ce`: the calculator's figures, C classes and
 * crossEntropy(softmax)'s floor and margin (only its note uses them).
 */
export const pipelineNote = (name, ce) =>
  t(`pipeline.note.${name}`, { floor: fixed(ce.floor, 3), C: ce.classes, margin: fixed(ce.margin, 4) });

/** A preset as the size picker shows it: its name, layers × width, and context length. */
export const presetLabel = (p) =>
  t('preset.option', { name: t(`preset.name.${p.name}`), layers: p.layers, embd: p.embd, contextLength: p.contextLength });
