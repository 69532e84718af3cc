// `npx tsx bench/payload-latency.ts`: the cold latency of a small payload run (`sh`
// preset, one file, echo) through the in-process gateway, sequentially, BENCH_ROUNDS
// times after BENCH_WARMUP. Prints the median and p90; never fails on speed.
import { startGateway } from '../test/fixtures/gateway.js';
import { docker } from '../test/fixtures/docker.js';
import { ensureTestImages } from '../test/fixtures/images.js';
import { ms, summarize } from './stats.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
await ensureTestImages(docker);
const gw = await startGateway({ SLIPWAY_INSTANCE: `slipway-bench-payload-${process.pid}` });
const body = { language: 'sh', payload: 'echo hi' };
const samples: number[] = [];
try {
  for (let i = 0; i < warmup + rounds; i++) {
    const started = performance.now();
    const res = await gw.request('POST', '/v1/payloads/run', body);
    const took = performance.now() - started;
    if (res.body.stdout !== 'hi\n') throw new Error(`unexpected answer: ${JSON.stringify(res.body)}`);
    if (i >= warmup) samples.push(took);
  }
  const s = summarize(samples);
  console.log(`payload run (sh, echo hi), ${s.n} rounds: median ${ms(s.median)}, p90 ${ms(s.p90)}, min ${ms(s.min)}, max ${ms(s.max)}`);
} finally {
  await gw.close();
}
