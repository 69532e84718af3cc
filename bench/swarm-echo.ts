// The Swarm part of `npm run bench`: `echo hi` as a one-shot job on a real three-node
// Swarm (the test testbed, test/fixtures/swarm.ts), two ways, interleaved round-robin:
//
//   gateway     POST /v1/containers/run on the gateway with SLIPWAY_BACKEND=swarm
//   direct API  the manager's API alone: create the gateway's own service spec, poll the
//               task at the gateway's interval until it ends, read the service log, remove
//
// Target: gateway median <= 1.15 x direct-API median, printed, never an exit code.
// Settings: BENCH_SWARM_ROUNDS (default 15; 0 skips the Swarm part), BENCH_WARMUP.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { LABEL_INSTANCE, runLabels } from '../lib/labels.js';
import { resolveLimits } from '../lib/policy.js';
import { buildServiceSpec } from '../lib/swarm/service-spec.js';
import { TERMINAL } from '../lib/swarm/service-supervisor.js';
import { loadConfig } from '../server/config.js';
import { BUSYBOX_IMAGE } from '../test/fixtures/images.js';
import { swarmUp } from '../test/fixtures/swarm.js';
import { startGatewayProcess } from './gateway-process.js';
import { ms, summarize } from './stats.js';

const INSTANCE = 'slipway-bench-swarm';
const TARGET_RATIO = 1.15;
const POLL_MS = 25;
const log = (line: string): void => console.log(line);

/** The manager's API alone, with the spec the gateway would write. */
function directRunner(manager: Docker): () => Promise<void> {
  const config = loadConfig({ SLIPWAY_DATA_DIR: tmpdir() });
  const limits = resolveLimits({}, { defaults: config.defaults, caps: config.caps, networkModes: config.networkModes, allowWritableRootfs: config.allowWritableRootfs });
  return async () => {
    const runId = randomUUID();
    const spec = buildServiceSpec({ runId, image: BUSYBOX_IMAGE, cmd: ['echo', 'hi'], labels: runLabels(INSTANCE, runId, 'image'), limits }, [], config.stopGraceSeconds);
    const { id } = (await manager.createService(spec)) as unknown as { id: string };
    try {
      for (;;) {
        const [task] = await manager.listTasks({ filters: { service: [id] } });
        if (task && TERMINAL.has(task.Status?.State ?? '')) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const out = (await manager.getService(id).logs({ stdout: true, stderr: true, follow: false } as object)) as unknown as Buffer;
      if (!out.subarray(8).toString().startsWith('hi')) throw new Error(`direct run printed ${JSON.stringify(out.toString())}`);
    } finally {
      await manager.getService(id).remove();
    }
  };
}

async function viaGateway(url: string): Promise<void> {
  const res = await fetch(`${url}/v1/containers/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: BUSYBOX_IMAGE, command: ['echo', 'hi'] }) });
  const body = (await res.json()) as { stdout?: string };
  if (res.status !== 200 || body.stdout !== 'hi\n') throw new Error(`gateway run failed: HTTP ${res.status} ${JSON.stringify(body)}`);
}

/** Runs the Swarm comparison; answers true when the bench itself failed (not when the target was missed). */
export async function swarmBench(root: string, rounds: number, warmup: number): Promise<boolean> {
  if (rounds === 0) return false;
  const started = Date.now();
  const swarm = await swarmUp(3, [BUSYBOX_IMAGE]);
  log(`# swarm of 3 nodes up with the image loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-swarm-'));
  let gateway: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
  try {
    gateway = await startGatewayProcess(root, {
      SLIPWAY_BACKEND: 'swarm',
      DOCKER_HOST: swarm.managerHost,
      SLIPWAY_INSTANCE: INSTANCE,
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL || 'warn',
      SLIPWAY_PROVISION_ENGINE: 'false',
    });
    const url = gateway.url;
    const run = { gateway: () => viaGateway(url), direct: directRunner(swarm.manager) };
    const samples = { gateway: [] as number[], direct: [] as number[] };
    for (let i = 0; i < warmup; i++) for (const m of ['gateway', 'direct'] as const) await run[m]();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['gateway', 'direct'] as const) : (['direct', 'gateway'] as const);
      for (const m of order) {
        const t0 = performance.now();
        await run[m]();
        samples[m].push(performance.now() - t0);
      }
    }
    const g = summarize(samples.gateway);
    const d = summarize(samples.direct);
    const paired = summarize(samples.gateway.map((x, i) => x / samples.direct[i]!));
    log('');
    log(`swarm echo latency, ms (n=${rounds} each, interleaved)`);
    log(`  ${'method'.padEnd(34)}  median      p90      min      max`);
    log(`  ${'gateway  (SLIPWAY_BACKEND=swarm)'.padEnd(34)}${ms(g.median)} ${ms(g.p90)} ${ms(g.min)} ${ms(g.max)}`);
    log(`  ${'direct   manager API (dockerode)'.padEnd(34)}${ms(d.median)} ${ms(d.p90)} ${ms(d.min)} ${ms(d.max)}`);
    const ratio = g.median / d.median;
    log(`  gateway / direct API   median ${ratio.toFixed(2)}x, per-round paired ${paired.median.toFixed(2)}x`);
    log(`  target: gateway median <= ${TARGET_RATIO}x direct API median: ${ratio <= TARGET_RATIO ? 'PASS' : 'MISS'} (${ratio.toFixed(2)}x)`);
    const left = await swarm.manager.listServices({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
    if (left.length > 0) {
      console.error(`LEAK: ${left.length} service(s) labelled ${INSTANCE} were left on the Swarm`);
      return true;
    }
    return false;
  } catch (err) {
    console.error(`swarm bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (gateway) console.error(`gateway output (tail):\n${gateway.output()}`);
    return true;
  } finally {
    if (gateway) await gateway.stop();
    await rm(dataDir, { recursive: true, force: true });
    await swarm.down();
  }
}
