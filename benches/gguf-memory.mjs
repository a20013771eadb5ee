// The wasm memory a GGUF model takes once loaded, against its file: in a fresh wasm instance,
// the file streamed into `ModelReader.forFiles` in 64 KiB pieces as the page's worker streams
// a download or a picked file; then, in another fresh instance, the whole file given to
// `Model.fromFiles`. Reports each instance's memory before and after, and the model's weights
// as held.
//
//   node benches/gguf-memory.mjs FILE.gguf... [--pkg DIR]
//
// DIR is a build as `./build.sh build` writes it (default www/pkg-chat, which the page's
// worker loads for a GGUF file). A wasm memory never shrinks, so its size once loaded is the
// peak of the load.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--pkg');
const pkg = resolve(at >= 0 ? args.splice(at, 2)[1] : 'www/pkg-chat');
if (!args.length) {
  console.error('usage: node benches/gguf-memory.mjs FILE.gguf... [--pkg DIR]');
  process.exit(2);
}
let instances = 0;
/** A fresh instance of the build: its module, and its memory. */
async function fresh() {
  const name = ['logitlab_chat', 'logitlab'].find((n) => existsSync(`${pkg}/${n}.js`));
  const lab = await import(`${pathToFileURL(`${pkg}/${name}.js`)}?instance=${instances++}`);
  const wasm = await lab.default({ module_or_path: readFileSync(`${pkg}/${name}_bg.wasm`) });
  return { lab, memory: () => wasm.memory.buffer.byteLength };
}

const mb = (b) => (b / 1e6).toFixed(1);
for (const file of args) {
  const size = statSync(file).size;
  const report = (how, before, after, model) => {
    // Quantising to Q4_0 leaves quantised matrices as they are: the plan's weights are the
    // model's own, as held.
    const held = model.quantizePlan('q4_0').weightBytes;
    console.log(`${basename(file)} (${mb(size)} MB, weights held ${mb(held)} MB) ${how}: `
      + `wasm memory ${mb(before)} → ${mb(after)} MB = ${(after / size).toFixed(3)}× the file `
      + `(growth ${mb(after - before)} MB = ${((after - before) / size).toFixed(3)}×)`);
  };
  {
    const { lab, memory } = await fresh();
    const before = memory();
    const reader = lab.ModelReader.forFiles({}, basename(file), size);
    for await (const part of createReadStream(file, { highWaterMark: 64 * 1024 })) reader.push(part);
    const model = reader.finish();
    reader.free();
    report('streamed (ModelReader)', before, memory(), model);
    model.free();
  }
  {
    const { lab, memory } = await fresh();
    const before = memory();
    const model = lab.Model.fromFiles({ [basename(file)]: new Uint8Array(readFileSync(file)) });
    report('whole (Model.fromFiles)', before, memory(), model);
    model.free();
  }
}
