// Two builds, A and B, measured in alternate rounds in one page, as the A/B benchmarks do.

const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];

/**
 * Warms each build up with one round of `time(k)` (k: 'a' or 'b', a round's tokens/s), then
 * runs `rounds` rounds of each in turn and prints each build's figures (`paths`: { a, b }, what
 * each build is), their medians and B/A to `digits` decimals.
 */
export async function alternate(time, rounds, paths, digits) {
  await time('a'); // warm-up
  await time('b');
  const runs = { a: [], b: [] };
  for (let r = 0; r < rounds; r++) for (const k of ['a', 'b']) runs[k].push(await time(k));
  for (const k of ['a', 'b']) {
    console.log(`${k.toUpperCase()} ${paths[k]}: ${runs[k].map((x) => x.toFixed(1)).join(' ')} tokens/s, median ${median(runs[k]).toFixed(1)}`);
  }
  console.log(`B/A: ${(median(runs.b) / median(runs.a)).toFixed(digits)}× (medians)`);
}
