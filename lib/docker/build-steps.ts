/**
 * The engine side of one Dockerfile step: a container made from the previous step's
 * image with the same hardened create body as a run (lib/container-spec.ts: all
 * capabilities dropped, no-new-privileges, pids, memory = swap, CPU, ulimits, init,
 * no network unless the server allows it), except for a writable root, since a step's
 * writes are what the next image is made of. Every container and every committed image
 * carries Slipway's labels from the moment the engine creates it, so whatever a crash
 * leaves behind is found by the reconcile, the prune and the test suite's leak check.
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { Logger } from 'pino';
import { buildContainerSpec } from './container-spec.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import { LogDemuxer } from './log-demux.js';
import type { BuildLimits } from '../image-build.js';
import { pipeline } from 'node:stream/promises';

/** The parts of an image config a Dockerfile can change (Engine API `ContainerConfig` names). */
export interface StepConfig {
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  User: string;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  Shell: string[] | null;
  StopSignal?: string | undefined;
  Healthcheck?: unknown;
}

export interface StepContext {
  docker: DockerClient;
  log: Logger;
  limits: BuildLimits;
  /** Labels of every step container (instance, run id, owner, the build marker). */
  containerLabels: Record<string, string>;
  runtime?: string | undefined;
  /** Aborts the step under way: time limit or the caller's cancel. */
  signal: AbortSignal;
}

export type StepRunOutcome = { exitCode: number; layerBytes: number } | { exitCode: null; layerBytes: number; tooLarge: true };

const CPU_NANOS = 1e9;
const MIN_NANO_CPUS = 10_000_000;
/** How often a running step's writable layer is measured against the limit. */
const LAYER_POLL_MS = 1000;

/** The create body of a step container: the run's hardened spec, with a writable root and no /tmp tmpfs. */
export function buildStepSpec(image: string, config: StepConfig, cmd: string[], extraEnv: string[], ctx: Pick<StepContext, 'limits' | 'containerLabels' | 'runtime'>): ContainerCreateOptions {
  const { limits } = ctx;
  const spec = buildContainerSpec({
    image,
    cmd,
    // An empty entrypoint: a RUN step's command is run as written, whatever the image's ENTRYPOINT.
    entrypoint: [],
    workingDir: config.WorkingDir || undefined,
    user: config.User || undefined,
    labels: ctx.containerLabels,
    limits: {
      memoryBytes: limits.memoryBytes,
      // 0.01 CPU is the least the engine accepts; a tiny setting must not round to 0 (no limit at all).
      nanoCpus: Math.max(MIN_NANO_CPUS, Math.round(limits.cpus * CPU_NANOS)),
      pidsLimit: limits.pidsLimit,
      timeoutMs: limits.timeoutSeconds * 1000,
      networkMode: limits.network ? 'bridge' : 'none',
      // A step writes the next layer; its size is bounded by the layer limit instead.
      readOnlyRootfs: false,
    },
    openStdin: false,
    stopGraceSeconds: 1,
    runtime: ctx.runtime,
  });
  spec.Env = [...config.Env, ...extraEnv];
  // Files a step writes to /tmp belong to the layer, as with docker build.
  delete spec.HostConfig!.Tmpfs;
  return spec;
}

/** A created, never started container of `image`: a target for putArchive or a source for getArchive. */
export async function createIdle(ctx: StepContext, image: string, config: StepConfig): Promise<EngineContainer> {
  // The command is never run; it only satisfies create for images without CMD or ENTRYPOINT.
  const cmd = config.Cmd && config.Cmd.length > 0 ? config.Cmd : ['/bin/true'];
  return ctx.docker.createContainer({ ...buildStepSpec(image, config, cmd, [], ctx), Entrypoint: config.Entrypoint ?? [] });
}

/** Runs a RUN step to its end, streaming its output lines; kills it past the layer limit or on abort. */
export async function runStep(ctx: StepContext, container: EngineContainer, onLine: (line: string) => void): Promise<StepRunOutcome> {
  const { docker, signal } = ctx;
  signal.throwIfAborted();
  const output = await docker.attach(container, false);
  const split = lineSplitter(onLine);
  const demux = new LogDemuxer((stream, payload) => split[stream](payload.toString('utf8')));
  const piped = pipeline(output, demux).catch(() => undefined);
  let tooLarge = false;
  let layerBytes = 0;
  const kill = () => void docker.stop(container, 0).catch(() => undefined);
  signal.addEventListener('abort', kill, { once: true });
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    docker
      .writableLayerBytes(container)
      .then((bytes) => {
        layerBytes = bytes;
        if (bytes > ctx.limits.maxLayerBytes && !tooLarge) {
          tooLarge = true;
          kill();
        }
      })
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, LAYER_POLL_MS);
  try {
    // An abort that came before the listener (during attach) must still stop the step.
    signal.throwIfAborted();
    await docker.start(container);
    if (signal.aborted) kill();
    const { StatusCode } = await docker.wait(container);
    await piped;
    split.flush();
    signal.throwIfAborted();
    layerBytes = await docker.writableLayerBytes(container);
    if (tooLarge || layerBytes > ctx.limits.maxLayerBytes) return { exitCode: null, layerBytes, tooLarge: true };
    return { exitCode: StatusCode, layerBytes };
  } finally {
    clearInterval(poll);
    signal.removeEventListener('abort', kill);
  }
}

/** Output lines of both streams, each stream split on its own. */
function lineSplitter(onLine: (line: string) => void): Record<'stdout' | 'stderr', (text: string) => void> & { flush(): void } {
  const partial = { stdout: '', stderr: '' };
  const push = (stream: 'stdout' | 'stderr') => (text: string) => {
    const parts = (partial[stream] + text).split('\n');
    partial[stream] = parts.pop()!;
    parts.forEach((l) => onLine(l.replace(/\r$/, '')));
  };
  return {
    stdout: push('stdout'),
    stderr: push('stderr'),
    flush() {
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) onLine(partial[s]);
      partial.stdout = partial.stderr = '';
    },
  };
}

/** Removes a step container; it is labelled, so a failure here is left to the reconcile. */
export async function removeQuietly(ctx: StepContext, container: EngineContainer): Promise<void> {
  await ctx.docker.remove(container).catch((err: unknown) => ctx.log.debug({ container: container.id, err: String(err) }, 'step container removal failed'));
}
