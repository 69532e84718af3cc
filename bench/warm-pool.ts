// The warm-pool part of `npm run bench`: creating a sandbox from a warm pool against a
// cold run of the same image, on one gateway process, interleaved round-robin:
//
//   pooled create   POST /v1/sandboxes {image} answered from SLIPWAY_POOL (checked: the
//                   container carries kind `pool`); the pool is full and idle before each
//   cold run        POST /v1/containers/run {image, echo hi}: create, start, wait, remove
//   cold create     POST /v1/sandboxes {image, memory_limit} that no pooled container
//                   matches (for context: what the pool saves a sandbox)
//   pooled payload  POST /v1/payloads/run of a Python program, image kept warm (checked: it
//                   ran in a pooled container), discarded after the run
//   cold payload    the same payload with a memory limit no pooled container matches
//
// Target 2: pooled payload median <= 0.5 x cold payload median.
//
// Deleting the sandboxes and waiting for the pool to refill happen between the timed
// calls, never inside them. Target: pooled create median <= 0.25 x cold run median
// (issue #12), printed, never an exit code. Settings: BENCH_POOL_ROUNDS (default 20;
// 0 skips this part), BENCH_WARMUP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABEL_INSTANCE, LABEL_KIND } from '../lib/labels.js';
import { docker } from '../test/fixtures/docker.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../test/fixtures/images.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { ms, summarize } from './stats.js';

const INSTANCE = 'slipway-bench-pool';
const TARGET_RATIO = 0.25;
const PAYLOAD_TARGET_RATIO = 0.5;
const POOL_SIZE = 2;
const log = (line: string): void => console.log(line);

async function call(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
  const parsed = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Until /readyz says the pool is full with nothing being created (bounded). */
async function poolQuiet(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const details = (await call(url, 'GET', '/readyz')).details ?? {};
    const lines: string[] = [BUSYBOX_IMAGE, PYTHON_IMAGE].map((image) => details[`pool ${image}`] ?? '');
    if (lines.every((line) => line.startsWith(`idle ${POOL_SIZE}/${POOL_SIZE}, `) && line.includes('replenishing 0'))) return;
    await sleep(20);
  }
  throw new Error('the warm pool did not fill within 30 s');
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

async function leftovers(): Promise<string[]> {
  const filters = { label: [`${LABEL_INSTANCE}=${INSTANCE}`] };
  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  for (const v of volumes) await docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
  return [...containers.map((c) => c.Id.slice(0, 12)), ...volumes.map((v) => v.Name)];
}

/** Runs the comparison; answers true when the bench itself failed (not when the target was missed). */
export async function warmPoolBench(root: string, rounds: number, warmup: number): Promise<boolean> {
  if (rounds === 0) return false;
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-pool-'));
  let gateway: GatewayProcess | undefined;
  let failed = false;
  try {
    gateway = await startGatewayProcess(root, {
      SLIPWAY_INSTANCE: INSTANCE,
      SLIPWAY_LOG_LEVEL: 'warn',
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_PROVISION_ENGINE: 'false',
      SLIPWAY_POOL: JSON.stringify({ [BUSYBOX_IMAGE]: POOL_SIZE, [PYTHON_IMAGE]: POOL_SIZE }),
    });
    const url = gateway.url;
    const pooledCreate = async () => {
      await poolQuiet(url);
      let box: any;
      const took = await timed(async () => (box = await call(url, 'POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE })));
      const kind = (await docker.getContainer(box.container_id).inspect()).Config.Labels[LABEL_KIND];
      if (kind !== 'pool') throw new Error(`a create with a full pool started cold (kind ${kind})`);
      await call(url, 'DELETE', `/v1/sandboxes/${box.sandbox_id}`);
      return took;
    };
    const coldRun = async () => {
      await poolQuiet(url);
      return timed(async () => {
        const r = await call(url, 'POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'hi'] });
        if (r.stdout !== 'hi\n') throw new Error(`cold run printed ${JSON.stringify(r.stdout)}`);
      });
    };
    const coldCreate = async () => {
      await poolQuiet(url);
      let box: any;
      const took = await timed(async () => (box = await call(url, 'POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '256m' })));
      await call(url, 'DELETE', `/v1/sandboxes/${box.sandbox_id}`);
      return took;
    };
    const payload = (extra: Record<string, unknown>) => async () => {
      await poolQuiet(url);
      const pooledBefore = new Set((await docker.listContainers({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`, `${LABEL_KIND}=pool`] } })).map((c) => c.Id));
      let r: any;
      const took = await timed(async () => {
        r = await call(url, 'POST', '/v1/payloads/run', { image: PYTHON_IMAGE, command: ['python3', 'main.py'], files: [{ path: 'main.py', content: 'print(2 + 2)' }], ...extra });
      });
      if (r.stdout !== '4\n') throw new Error(`payload printed ${JSON.stringify(r.stdout)}`);
      if (pooledBefore.has(r.container_id) === ('memory_limit' in extra)) throw new Error(`payload ${JSON.stringify(extra)} ran in the wrong kind of container`);
      return took;
    };
    const methods = [
      ['pooled create', pooledCreate],
      ['cold run', coldRun],
      ['cold create', coldCreate],
      ['pooled payload', payload({})],
      ['cold payload', payload({ memory_limit: '256m' })],
    ] as const;
    const samples: Record<string, number[]> = Object.fromEntries(methods.map(([name]) => [name, []]));
    for (let i = 0; i < warmup; i++) for (const [, run] of methods) await run();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < methods.length; k++) {
        const [name, run] = methods[(round + k) % methods.length]!;
        samples[name]!.push(await run());
      }
    }
    const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
    const p = s['pooled create']!;
    const r = s['cold run']!;
    const c = s['cold create']!;
    log('');
    log(`warm pool, ms (n=${rounds} each, interleaved; pools of ${POOL_SIZE} ${BUSYBOX_IMAGE} and ${POOL_SIZE} ${PYTHON_IMAGE}, full before each timed call)`);
    log(`  ${'method'.padEnd(40)}  median      p90      min      max`);
    const row = (name: string, x: typeof p) => log(`  ${name.padEnd(40)}${ms(x.median)} ${ms(x.p90)} ${ms(x.min)} ${ms(x.max)}`);
    row('pooled create  POST /v1/sandboxes', p);
    row('cold run       POST /v1/containers/run', r);
    row('cold create    POST /v1/sandboxes (256m)', c);
    const ratio = p.median / r.median;
    log(`  pooled create / cold run      median ${ratio.toFixed(2)}x   p90 ${(p.p90 / r.p90).toFixed(2)}x`);
    log(`  pooled create / cold create   median ${(p.median / c.median).toFixed(2)}x`);
    log(`  target: pooled create median <= ${TARGET_RATIO}x cold run median: ${ratio <= TARGET_RATIO ? 'PASS' : 'MISS'} (${ratio.toFixed(2)}x)`);
    const pp = s['pooled payload']!;
    const cp = s['cold payload']!;
    row('pooled payload POST /v1/payloads/run (python)', pp);
    row('cold payload   POST /v1/payloads/run (256m)', cp);
    const payloadRatio = pp.median / cp.median;
    log(`  target: pooled payload median <= ${PAYLOAD_TARGET_RATIO}x cold payload median: ${payloadRatio <= PAYLOAD_TARGET_RATIO ? 'PASS' : 'MISS'} (${payloadRatio.toFixed(2)}x)`);
  } catch (err) {
    failed = true;
    console.error(`warm-pool bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (gateway) console.error(`gateway output (tail):\n${gateway.output()}`);
  } finally {
    if (gateway) log(`# pool gateway stopped with SIGTERM: ${await gateway.stop()}`);
    await rm(dataDir, { recursive: true, force: true });
    const left = await leftovers();
    if (left.length > 0) {
      failed = true;
      console.error(`LEAK: ${left.length} object(s) of instance ${INSTANCE} were left after the pool drained (removed now): ${left.join('; ')}`);
    } else {
      log(`# cleanup: nothing of instance ${INSTANCE} remains (the pool drained on SIGTERM)`);
    }
  }
  return failed;
}
