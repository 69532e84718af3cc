/**
 * A command in a live container through the Engine API: exec create, exec start (the
 * multiplexed stream, demultiplexed with backpressure), stdin written and half-closed,
 * then exec inspect for the exit code. A timeout or an abort stops the waiting and
 * closes the stream; the engine has no "kill this exec", so ending the processes is the
 * caller's job (lib/sandboxes/sandbox-exec.ts kills the exec's process group through
 * the agent in the sandbox).
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { OutputCollector } from '../output-collector.js';
import type { ExecOptions, ExecOutcome, ExecSpec } from '../runtime/container-runtime.js';
import type { DockerClient } from './docker-client.js';
import { LogDemuxer } from './log-demux.js';

/**
 * The engine marks an exec ended a moment after its stream closes: how often, and how
 * many times (2 s in all), to look. Short: usually the first look finds it ended, and a
 * second one a few milliseconds later does, so a long wait would only add latency.
 */
const INSPECT_POLL_MS = 5;
const INSPECT_TRIES = 400;

export async function runExec(docker: DockerClient, containerId: string, spec: ExecSpec, options: ExecOptions, defaultCapBytes: number): Promise<ExecOutcome> {
  options.signal?.throwIfAborted();
  const hasStdin = spec.stdin !== undefined;
  const exec = await docker.execCreate(docker.container(containerId), {
    Cmd: spec.cmd,
    Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: hasStdin,
    Tty: false,
  });
  const stream = await docker.execStart(exec, hasStdin);
  const cap = spec.maxOutputBytes ?? defaultCapBytes;
  const out = { stdout: new OutputCollector(cap), stderr: new OutputCollector(cap) };
  const sink = options.stdout;
  const demuxer = new LogDemuxer((which, payload) => {
    if (which === 'stdout' && sink) return writeWithBackpressure(sink, payload);
    out[which].add(payload);
    options.onOutput?.(which, payload);
  });
  if (spec.stdin !== undefined) stream.end(spec.stdin);

  let stopped: 'timeout' | 'abort' | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'abort') => {
    stopped ??= why;
    (stream as unknown as Readable).destroy();
  };
  const onAbort = () => stop('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the exec was created and started: the listener came too late to hear it.
  if (options.signal?.aborted) stop('abort');
  timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
  try {
    await pipeline(stream as unknown as Readable, demuxer).catch((err) => {
      if (!stopped) throw err;
    });
  } finally {
    clearTimeout(timer);
    timer = undefined;
    options.signal?.removeEventListener('abort', onAbort);
  }
  const outcome = {
    stdout: out.stdout.text(),
    stderr: out.stderr.text(),
    stdoutTruncated: out.stdout.truncated,
    stderrTruncated: out.stderr.truncated,
  };
  if (stopped) return { ...outcome, exitCode: null, timedOut: stopped === 'timeout', aborted: stopped === 'abort' };
  return { ...outcome, exitCode: await exitCodeOf(docker, exec), timedOut: false };
}

async function exitCodeOf(docker: DockerClient, exec: Parameters<DockerClient['execInspect']>[0]): Promise<number | null> {
  for (let i = 0; i < INSPECT_TRIES; i++) {
    const info = await docker.execInspect(exec);
    if (!info.Running) return info.ExitCode ?? null;
    await new Promise((resolve) => setTimeout(resolve, INSPECT_POLL_MS));
  }
  return null;
}

/** Writes `chunk`, and when `sink` asks to wait, settles once it drains (or fails when it closes first). */
function writeWithBackpressure(sink: NodeJS.WritableStream, chunk: Buffer): Promise<void> | undefined {
  if (sink.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      sink.removeListener('drain', onDrain);
      sink.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the reader went away'));
    sink.once('drain', onDrain);
    sink.once('close', onClose);
  });
}
