// The seed's four training pipelines as the page names them: shared by the loss calculator
// (loss-view.js) and the training runs (train-view.js).

import { t, fixed } from './i18n.js';

/**
 * How the page names each pipeline (code: the same in every language), whether it is correct,
 * and what its gradient does. `note` gets the calculator's figures: C classes, and
 * crossEntropy(softmax)'s floor and margin.
 */
export const PIPELINE_INFO = {
  crossEntropyOnLogits: { name: 'crossEntropy(logits)', ok: true,
    note: () => t('pipeline.note.crossEntropyOnLogits') },
  nllOnLogSoftmax: { name: 'nll(log_softmax(logits))', ok: true,
    note: () => t('pipeline.note.nllOnLogSoftmax') },
  nllOnLogits: { name: 'nll(logits)', ok: false,
    note: () => t('pipeline.note.nllOnLogits') },
  crossEntropyOnSoftmax: { name: 'crossEntropy(softmax(logits))', ok: false,
    note: (ce) => t('pipeline.note.crossEntropyOnSoftmax', { floor: fixed(ce.floor, 3), C: ce.classes, margin: fixed(ce.margin, 4) }) },
};

/** A pipeline's name with its verdict in symbol and in words (never colour alone). */
export const pipelineTitle = (p) => `${PIPELINE_INFO[p].name} ${PIPELINE_INFO[p].ok ? t('pipeline.ok') : t('pipeline.bad')}`;
