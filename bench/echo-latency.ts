// `npm run bench`: the latency of running `echo hi` in a container, three ways, measured
// in the same run and interleaved round-robin so engine noise (other jobs, page cache,
// containerd housekeeping) lands on all three alike:
//
//   gateway     POST /v1/containers/run on the real gateway (`node dist/server/main.js`)
//   direct API  dockerode: create (the gateway's own hardened spec), start, wait, logs, remove
//   docker run  `docker run --rm --network none slipway-test/busybox:1 echo hi` (the CLI)
//
// Expect `docker run` to be the slowest by far (~90 ms on Docker 20.10): the CLI sends
// `--network none` without NetworkDisabled, so the engine builds a libnetwork sandbox
// (a fresh network namespace) per container; the gateway's spec sets NetworkDisabled,
// and runc gives the container an empty namespace of its own (only `lo`) for free.
//
// Target: gateway median <= 1.05 x direct-API median (the seam adds no engine round trip). A miss is printed, never an exit
// code: TESTING.md keeps wall-clock speed out of pass/fail. The exit code is non-zero
// only when the bench itself fails (a wrong echo, an error) or leaves something behind.
//
// Settings (environment): BENCH_ROUNDS (default 30), BENCH_WARMUP (default 3 per method),
// DOCKER_HOST as everywhere else; BENCH_SWARM_ROUNDS for the Swarm part (bench/swarm-echo.ts).

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { buildContainerSpec } from '../lib/docker/container-spec.js';
import { LABEL_INSTANCE } from '../lib/labels.js';
import { resolveLimits } from '../lib/policy.js';
import { loadConfig } from '../server/config.js';
import { ensureEngine, findExecutable } from '../server/engine-provisioner.js';
import { docker, dockerSocketPath, provisionLog } from '../test/fixtures/docker.js';
import { BUSYBOX_IMAGE, ensureTestImages } from '../test/fixtures/images.js';
import { rssKiB, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { ms, summarize, type Summary } from './stats.js';
import { swarmBench } from './swarm-echo.js';
import { warmPoolBench } from './warm-pool.js';
import { sandboxExecBench } from './sandbox-exec.js';

const BENCH_INSTANCE = 'slipway-bench';
const BENCH_LABEL = `${LABEL_INSTANCE}=${BENCH_INSTANCE}`;
const TARGET_RATIO = 1.05;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMMAND = ['echo', 'hi'];
const EXPECTED = 'hi\n';

const log = (line: string): void => console.log(line);

function positiveInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

// ---- the three ways ------------------------------------------------------------------

type Method = 'gateway' | 'direct API' | 'docker run';
const METHODS: readonly Method[] = ['gateway', 'direct API', 'docker run'];

/** POST /v1/containers/run, checking the reply is the echo's. */
async function viaGateway(gateway: GatewayProcess): Promise<void> {
  const res = await fetch(`${gateway.url}/v1/containers/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: BUSYBOX_IMAGE, command: COMMAND }),
  });
  const body = (await res.json()) as { exit_code?: number; stdout?: string; status?: string };
  if (res.status !== 200 || body.exit_code !== 0 || body.stdout !== EXPECTED) {
    throw new Error(`gateway run failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
}

/** The stdout of a non-TTY container's log buffer (8-byte frame headers, type 1 = stdout). */
function demuxStdout(buf: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at + 4);
    if (buf[at] === 1) out += buf.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return out;
}

/**
 * The work the gateway asks of the engine, done directly: the same create body
 * (buildContainerSpec with the gateway's default limits), then start, wait, logs, remove.
 */
function directRunner(engine: Docker): () => Promise<void> {
  // The limits the gateway resolves for a request that names none: its configured defaults.
  const config = loadConfig({});
  const limits = resolveLimits({}, config);
  return async () => {
    const spec = buildContainerSpec({
      image: BUSYBOX_IMAGE,
      cmd: COMMAND,
      // The instance label (for the leak check) but not io.slipway.managed: the gateway
      // under test must never take these for its own runs (start-up reconcile, listing).
      labels: { [LABEL_INSTANCE]: BENCH_INSTANCE, 'io.slipway.bench': `direct-${randomUUID()}` },
      limits,
      openStdin: false,
      stopGraceSeconds: config.stopGraceSeconds,
      runtime: config.runtime,
    });
    const container = await engine.createContainer(spec);
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      const stdout = demuxStdout(logs);
      if (StatusCode !== 0 || stdout !== EXPECTED) throw new Error(`direct run failed: exit ${StatusCode}, stdout ${JSON.stringify(stdout)}`);
    } finally {
      await container.remove({ force: true, v: true });
    }
  };
}

/**
 * `docker run --rm` through whichever docker CLI is on PATH. The label is the only
 * addition to the command: it lets the leak check see a container the CLI left behind.
 * A CLI newer than the engine that does not negotiate is pinned to the engine's API version.
 */
async function cliRunner(engine: Docker): Promise<{ run: () => Promise<void>; version: string }> {
  const cli = findExecutable('docker');
  if (!cli) throw new Error('no docker CLI on PATH (Debian: apt-get install docker.io)');
  const env: NodeJS.ProcessEnv = { ...process.env };
  const args = ['run', '--rm', '--network', 'none', '--label', BENCH_LABEL, BUSYBOX_IMAGE, ...COMMAND];
  const run = (): Promise<{ stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      execFile(cli, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve({ stdout, stderr });
      });
    });

  try {
    await run();
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    if (!/too new|maximum supported api version|client version/i.test(stderr)) throw new Error(`${cli} ${args.join(' ')} failed: ${stderr || String(err)}`);
    const { ApiVersion } = await engine.version();
    env.DOCKER_API_VERSION = ApiVersion;
    log(`# the docker CLI refused the engine ("${stderr.trim().split('\n')[0]}"); using DOCKER_API_VERSION=${ApiVersion}`);
    await run();
  }
  const version = await new Promise<string>((resolve) => {
    execFile(cli, ['version', '--format', '{{.Client.Version}} (API {{.Client.APIVersion}})'], { env }, (err, stdout) => resolve(err ? 'unknown' : stdout.trim()));
  });
  return {
    version,
    run: async () => {
      const { stdout, stderr } = await run();
      if (stdout !== EXPECTED) throw new Error(`docker run printed ${JSON.stringify(stdout)} (stderr ${JSON.stringify(stderr)})`);
    },
  };
}

// ---- leftovers -----------------------------------------------------------------------

/** Removes every container and volume labelled with the bench instance; returns how many there were. */
async function removeBenchObjects(): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = { label: [BENCH_LABEL] };
  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  for (const v of volumes) await docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
  return {
    containers: containers.map((c) => `${c.Id.slice(0, 12)} ${c.Names.join(',')} (${c.State})`),
    volumes: volumes.map((v) => v.Name),
  };
}

// ---- main ----------------------------------------------------------------------------

function report(rounds: number, results: Record<Method, Summary>, paired: { direct: Summary; cli: Summary }): void {
  const g = results.gateway;
  const d = results['direct API'];
  const c = results['docker run'];
  log('');
  log(`echo latency, ms (n=${rounds} each, interleaved round-robin)`);
  log(`  ${'method'.padEnd(34)}  median      p90      min      max`);
  const row = (name: string, s: Summary) => log(`  ${name.padEnd(34)}${ms(s.median)} ${ms(s.p90)} ${ms(s.min)} ${ms(s.max)}`);
  row('gateway  POST /v1/containers/run', g);
  row('direct   Engine API (dockerode)', d);
  row('CLI      docker run --rm', c);
  log('');
  const ratio = g.median / d.median;
  log(`  gateway / direct API   median ${(g.median / d.median).toFixed(2)}x   p90 ${(g.p90 / d.p90).toFixed(2)}x   min ${(g.min / d.min).toFixed(2)}x`);
  log(`  gateway / docker run   median ${(g.median / c.median).toFixed(2)}x   p90 ${(g.p90 / c.p90).toFixed(2)}x   min ${(g.min / c.min).toFixed(2)}x`);
  // Within one round the three ran back to back, so a per-round ratio cancels most of
  // the drift that other load on the machine puts into the medians.
  log(`  per-round paired ratio (median of gateway_i / x_i): direct API ${paired.direct.median.toFixed(2)}x, docker run ${paired.cli.median.toFixed(2)}x`);
  log(`  target: gateway median <= ${TARGET_RATIO}x direct API median: ${ratio <= TARGET_RATIO ? 'PASS' : 'MISS'} (${ratio.toFixed(2)}x)`);
}

async function main(): Promise<number> {
  const rounds = positiveInt('BENCH_ROUNDS', 30, 1);
  const warmup = positiveInt('BENCH_WARMUP', 3, 0);

  const socketPath = dockerSocketPath();
  if (socketPath) await ensureEngine({ socketPath, log: provisionLog(), allowProvision: true });
  else await docker.ping();
  await ensureTestImages(docker);
  const stale = await removeBenchObjects();
  if (stale.containers.length + stale.volumes.length > 0) log(`# removed leftovers of an earlier bench: ${[...stale.containers, ...stale.volumes].join('; ')}`);

  const engineVersion = await docker.version();
  log(`# engine ${engineVersion.Version} (API ${engineVersion.ApiVersion}), node ${process.version}`);

  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-bench-'));
  let gateway: GatewayProcess | undefined;
  let failed = false;
  const interrupted = new AbortController();
  const onSignal = (): void => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    gateway = await startGatewayProcess(ROOT, {
      SLIPWAY_INSTANCE: BENCH_INSTANCE,
      SLIPWAY_LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL || 'warn',
      SLIPWAY_DATA_DIR: dataDir,
      // The bench made sure an engine answers; the gateway must not start another.
      SLIPWAY_PROVISION_ENGINE: 'false',
    });
    const gw = gateway;
    const rssStart = rssKiB(gw.pid);
    log(`# gateway pid ${gw.pid} ready at ${gw.url}; ${rounds} rounds after ${warmup} warm-up(s) per method`);

    const cli = await cliRunner(docker);
    log(`# docker CLI ${cli.version}`);
    const run: Record<Method, () => Promise<void>> = {
      gateway: () => viaGateway(gw),
      'direct API': directRunner(docker),
      'docker run': cli.run,
    };
    const samples: Record<Method, number[]> = { gateway: [], 'direct API': [], 'docker run': [] };

    for (let i = 0; i < warmup; i++) for (const m of METHODS) await run[m]();
    const rssWarm = rssKiB(gw.pid);

    for (let round = 0; round < rounds; round++) {
      if (interrupted.signal.aborted) throw new Error('interrupted');
      // Rotate who goes first, so no method always follows the same one.
      for (let k = 0; k < METHODS.length; k++) {
        const m = METHODS[(round + k) % METHODS.length]!;
        const t0 = performance.now();
        await run[m]();
        samples[m].push(performance.now() - t0);
      }
      if ((round + 1) % 10 === 0 || round + 1 === rounds) process.stderr.write(`# round ${round + 1}/${rounds}\n`);
    }
    const rssEnd = rssKiB(gw.pid);

    const ratios = (other: number[]) => summarize(samples.gateway.map((g, i) => g / other[i]!));
    report(
      rounds,
      {
        gateway: summarize(samples.gateway),
        'direct API': summarize(samples['direct API']),
        'docker run': summarize(samples['docker run']),
      },
      { direct: ratios(samples['direct API']), cli: ratios(samples['docker run']) },
    );
    const mib = (k: number | undefined) => (k === undefined ? 'n/a' : `${(k / 1024).toFixed(1)} MiB`);
    log(`  gateway RSS (VmRSS): ${mib(rssStart)} when ready, ${mib(rssWarm)} after warm-up, ${mib(rssEnd)} after ${rounds} runs`);
  } catch (err) {
    failed = true;
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (gateway) console.error(`gateway output (tail):\n${gateway.output()}`);
  } finally {
    if (gateway) log(`# gateway stopped with SIGTERM: ${await gateway.stop()}`);
    await rm(dataDir, { recursive: true, force: true });
    const left = await removeBenchObjects();
    const n = left.containers.length + left.volumes.length;
    if (n > 0) {
      failed = true;
      console.error(`LEAK: ${n} object(s) labelled ${BENCH_LABEL} were left (removed now): ${[...left.containers, ...left.volumes].join('; ')}`);
    } else {
      log(`# cleanup: no container or volume labelled ${BENCH_LABEL} remains`);
    }
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (await sandboxExecBench(ROOT, positiveInt('BENCH_SANDBOX_ROUNDS', 40, 0), warmup)) failed = true;
  // The same job on a real three-node Swarm, gateway vs the manager's API (bench/swarm-echo.ts).
  if (await swarmBench(ROOT, positiveInt('BENCH_SWARM_ROUNDS', 15, 0), warmup)) failed = true;
  if (await warmPoolBench(ROOT, positiveInt('BENCH_POOL_ROUNDS', 20, 0), warmup)) failed = true;
  return failed ? 1 : 0;
}

process.exitCode = await main();
