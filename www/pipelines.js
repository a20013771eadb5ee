// The seed's four training pipelines as the page names them: shared by the loss calculator
// (loss-view.js) and the training runs (train-view.js).

/**
 * How the page names each pipeline, whether it is correct, and what its gradient does. `note`
 * gets the calculator's figures: C classes, and crossEntropy(softmax)'s floor and margin.
 */
export const PIPELINE_INFO = {
  crossEntropyOnLogits: { name: 'crossEntropy(logits)', ok: true,
    note: () => 'd loss/dz = (softmax(z) − t)/N: raises the target, lowers the rest in proportion.' },
  nllOnLogSoftmax: { name: 'nll(log_softmax(logits))', ok: true,
    note: () => 'The same function, in two steps: the same loss and the same gradient.' },
  nllOnLogits: { name: 'nll(logits)', ok: false,
    note: () => 'd loss/dz = −onehot(y)/N: pushes z_y up forever and never lowers the others. Its "loss" is −z_y, a raw logit: not in nats, and with no floor.' },
  crossEntropyOnSoftmax: { name: 'crossEntropy(softmax(logits))', ok: false,
    note: (ce) => `softmax applied twice. The loss cannot go below ln(1 + (C − 1)/e) = ${ce.floor.toFixed(3)} (C = ${ce.classes}), ` +
      'its gradient is squeezed by the softmax Jacobian, and its optimum is one-hot on the most likely next character ' +
      `whenever that one leads the runner-up by more than (e − 1)/(e + C − 1) = ${ce.margin.toFixed(4)}: every other character gets ` +
      'probability 0, however common. Train it below: "Sample text from each run" then prints only spaces.' },
};
