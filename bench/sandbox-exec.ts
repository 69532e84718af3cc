// The sandbox part of `npm run bench`: `echo hi` in a live sandbox, three ways, measured
// in the same run and interleaved round-robin (rotating who goes first):
//
//   sandbox exec  POST /v1/sandboxes/{id}/exec on the real gateway (a run of kind exec:
//                 record, log, queue slot, then the engine's exec)
//   direct exec   dockerode on the same container: exec create (the gateway's own fields:
//                 user, working dir, marker), exec start (stream read to its end), exec inspect
//   cold run      POST /v1/containers/run of the same image on the same gateway
//
// Targets: sandbox exec median <= 1.15 x direct exec, and <= 0.5 x cold run. A miss is
// printed, never an exit code (TESTING.md keeps wall-clock speed out of pass/fail).
// Settings: BENCH_SANDBOX_ROUNDS (default 40; 0 skips this part), BENCH_WARMUP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { EXEC_MARKER } from '../lib/sandboxes/agent.js';
import { docker } from '../test/fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../test/fixtures/images.js';
import { removeSandboxesOf } from '../test/fixtures/sandboxes.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { ms, summarize, type Summary } from './stats.js';

const INSTANCE = 'slipway-bench-sandbox';
const EXEC_TARGET = 1.15;
const COLD_TARGET = 0.5;
const EXPECTED = 'hi\n';
const log = (line: string): void => console.log(line);

type Method = 'sandbox exec' | 'direct exec' | 'cold run';
const METHODS: readonly Method[] = ['sandbox exec', 'direct exec', 'cold run'];

async function post(gw: GatewayProcess, path: string, body: unknown): Promise<any> {
  const res = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`POST ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function checked(what: string, body: { exit_code?: number; stdout?: string }): void {
  if (body.exit_code !== 0 || body.stdout !== EXPECTED) throw new Error(`${what} failed: ${JSON.stringify(body).slice(0, 300)}`);
}

/** What the gateway asks of the engine for one exec, done directly: create, start (read to the end), inspect. */
function directExec(containerId: string, user: string): () => Promise<void> {
  const container = docker.getContainer(containerId);
  let n = 0;
  return async () => {
    const exec = await container.exec({ Cmd: ['echo', 'hi'], Env: [`${EXEC_MARKER}=bench-${n++}`], User: user, WorkingDir: '/workspace', AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    docker.modem.demuxStream(stream, stdout, new PassThrough());
    await new Promise((resolve, reject) => stream.on('end', resolve).on('close', resolve).on('error', reject));
    const info = await exec.inspect();
    checked('direct exec', { exit_code: info.ExitCode ?? undefined, stdout: Buffer.concat(chunks).toString() });
  };
}

function report(rounds: number, s: Record<Method, Summary>, paired: { direct: Summary; cold: Summary }): void {
  log('');
  log(`sandbox exec latency, ms (n=${rounds} each, interleaved round-robin)`);
  log(`  ${'method'.padEnd(40)}  median      p90      min      max`);
  const row = (name: string, x: Summary) => log(`  ${name.padEnd(40)}${ms(x.median)} ${ms(x.p90)} ${ms(x.min)} ${ms(x.max)}`);
  row('sandbox  POST /v1/sandboxes/{id}/exec', s['sandbox exec']);
  row('direct   exec create + start + inspect', s['direct exec']);
  row('cold     POST /v1/containers/run', s['cold run']);
  const exec = s['sandbox exec'].median / s['direct exec'].median;
  const cold = s['sandbox exec'].median / s['cold run'].median;
  log(`  sandbox exec / direct exec   median ${exec.toFixed(2)}x   (per-round paired median ${paired.direct.median.toFixed(2)}x)`);
  log(`  sandbox exec / cold run      median ${cold.toFixed(2)}x   (per-round paired median ${paired.cold.median.toFixed(2)}x)`);
  log(`  target: <= ${EXEC_TARGET}x direct exec: ${exec <= EXEC_TARGET ? 'PASS' : 'MISS'}; <= ${COLD_TARGET}x cold run: ${cold <= COLD_TARGET ? 'PASS' : 'MISS'}`);
}

/** Runs the sandbox part; answers whether it failed (an error, or something left behind). */
export async function sandboxExecBench(root: string, rounds: number, warmup: number): Promise<boolean> {
  if (rounds === 0) return false;
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-sandbox-'));
  let gw: GatewayProcess | undefined;
  let failed = false;
  try {
    gw = await startGatewayProcess(root, {
      SLIPWAY_INSTANCE: INSTANCE,
      SLIPWAY_LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL || 'warn',
      SLIPWAY_DATA_DIR: dataDir,
      SLIPWAY_PROVISION_ENGINE: 'false',
    });
    const g = gw;
    const box = await post(g, '/v1/sandboxes', { image: BUSYBOX_IMAGE });
    const user = (await post(g, `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['sh', '-c', 'echo $(id -u):$(id -g)'] })).stdout.trim();
    const run: Record<Method, () => Promise<void>> = {
      'sandbox exec': async () => checked('sandbox exec', await post(g, `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['echo', 'hi'] })),
      'direct exec': directExec(box.container_id, user),
      'cold run': async () => checked('cold run', await post(g, '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'hi'] })),
    };
    const samples: Record<Method, number[]> = { 'sandbox exec': [], 'direct exec': [], 'cold run': [] };
    for (let i = 0; i < warmup; i++) for (const m of METHODS) await run[m]();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < METHODS.length; k++) {
        const m = METHODS[(round + k) % METHODS.length]!;
        const t0 = performance.now();
        await run[m]();
        samples[m].push(performance.now() - t0);
      }
    }
    const paired = (other: number[]) => summarize(samples['sandbox exec'].map((x, i) => x / other[i]!));
    report(
      rounds,
      { 'sandbox exec': summarize(samples['sandbox exec']), 'direct exec': summarize(samples['direct exec']), 'cold run': summarize(samples['cold run']) },
      { direct: paired(samples['direct exec']), cold: paired(samples['cold run']) },
    );
    await fetch(`${g.url}/v1/sandboxes/${box.sandbox_id}`, { method: 'DELETE' });
  } catch (err) {
    failed = true;
    console.error(`sandbox bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (gw) console.error(`gateway output (tail):\n${gw.output()}`);
  } finally {
    if (gw) await gw.stop();
    await rm(dataDir, { recursive: true, force: true });
    const left = await docker.listContainers({ all: true, filters: { label: [`io.slipway.instance=${INSTANCE}`] } });
    if (left.length > 0) {
      failed = true;
      console.error(`LEAK: ${left.length} container(s) of ${INSTANCE} were left (removed now)`);
    }
    await removeSandboxesOf(INSTANCE);
  }
  return failed;
}
