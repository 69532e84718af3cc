// Finds a Docker engine, or provisions one on a bare Debian machine.
//
// TESTING.md promises that `npm test` passes on a fresh Debian 12 machine where no
// engine runs: as root we install Debian's docker.io and start dockerd ourselves.
// Everything here is idempotent, so a machine that already has an engine pays one ping.
// No shell is involved anywhere: every command runs through spawn with an argv array.

import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, unlinkSync } from 'node:fs';
import { request } from 'node:http';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DOCKER_PID_FILE = '/var/run/docker.pid';
// dockerd supervises its own containerd and records it here (under its exec-root).
const CONTAINERD_PID_FILE = '/var/run/docker/containerd/containerd.pid';
const DOCKERD_LOG = '/var/log/slipway-dockerd.log';
const START_TIMEOUT_MS = 90_000;

export interface ProvisionLog {
  info(o: object | string, msg?: string): void;
  warn(...a: unknown[]): void;
}

/** True when the engine at `socketPath` answers `GET /_ping` with 200 within `timeoutMs`. */
export function pingEngine(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume(); // drain the "OK" body so the socket closes
      resolve(res.statusCode === 200);
    });
    // A missing socket (ENOENT), a dead one (ECONNREFUSED) and a hung daemon all mean "no".
    req.on('timeout', () => req.destroy(new Error('ping timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Makes sure an engine answers at `socketPath`. Returns `{ provisioned: true }` when this
 * call had to install and/or start one, and throws an Error that says how to get an
 * engine when it cannot.
 */
export async function ensureEngine(opts: {
  socketPath: string;
  log: ProvisionLog;
  allowProvision: boolean;
}): Promise<{ provisioned: boolean }> {
  const { socketPath, log } = opts;
  if (await pingEngine(socketPath, 2000)) return { provisioned: false };

  const refusal = whyNotProvision(opts.allowProvision);
  if (refusal) {
    throw new Error(
      `No Docker engine answered at ${socketPath} (${refusal}). ` +
        'Install Docker and start it (on Debian: `apt-get install docker.io`, then start `dockerd`), ' +
        'or set DOCKER_HOST to an engine that runs (e.g. unix:///path/to/docker.sock).',
    );
  }

  if (!findExecutable('dockerd')) {
    log.info(`no Docker engine answered at ${socketPath}; provisioning one: apt-get install docker.io`);
    await aptInstall(['docker.io'], log);
    // On a machine with an init system the package's postinst may have started the
    // daemon already; starting a second one would only fight it for the pid file.
    if (await waitForPing(socketPath, 5000)) return { provisioned: true };
  }

  const alive = livePidOrRemove(DOCKER_PID_FILE, 'dockerd');
  let started: Started | undefined;
  if (alive !== undefined) {
    // A dockerd exists but does not answer yet (still starting, or replaying its state):
    // give it the same grace as one we start, rather than racing it.
    log.info(`dockerd (pid ${alive}) is running but ${socketPath} does not answer yet; waiting for it`);
  } else {
    // With no dockerd, a containerd it started is an orphan at best: let dockerd start its own.
    livePidOrRemove(CONTAINERD_PID_FILE, 'containerd');
    started = await startDockerd(socketPath, log);
  }
  const answered = await waitForPing(socketPath, START_TIMEOUT_MS, () => started?.exit !== undefined);
  started?.stopWatching();
  if (!answered) {
    const why = started?.exit ? `dockerd exited (${started.exit})` : `dockerd did not answer within ${START_TIMEOUT_MS / 1000} s`;
    throw new Error(`${why} at ${socketPath}; see ${DOCKERD_LOG}:\n${logTail(DOCKERD_LOG)}`);
  }
  log.info(`Docker engine answers at ${socketPath}`);
  return { provisioned: true };
}

/** Why we must not provision here, or undefined when we may. */
function whyNotProvision(allowProvision: boolean): string | undefined {
  if (!allowProvision) return 'provisioning is not allowed in this configuration';
  if (process.getuid?.() !== 0) return 'provisioning needs root';
  if (!findExecutable('apt-get')) return 'provisioning needs apt-get (a Debian-family system)';
  return undefined;
}

interface Started {
  /** Set when dockerd exited before answering: a bad config or a missing kernel feature. */
  exit?: string;
  stopWatching(): void;
}

/** Starts dockerd detached, so it outlives this process (the test run, or a CLI). */
async function startDockerd(socketPath: string, log: ProvisionLog): Promise<Started> {
  const dockerd = findExecutable('dockerd');
  if (!dockerd) throw new Error('dockerd is not on PATH even after installing docker.io');
  const args = socketPath === DEFAULT_SOCKET ? [] : ['--host', `unix://${socketPath}`];
  const command = [dockerd, ...args].join(' ');
  log.info(`no Docker engine answered at ${socketPath}; provisioning one: starting ${command} (log: ${DOCKERD_LOG})`);

  const out = openSync(DOCKERD_LOG, 'a');
  try {
    const child = spawn(dockerd, args, { detached: true, stdio: ['ignore', out, out] });
    // spawn reports ENOENT/EACCES asynchronously; wait for 'spawn' so that is an error here.
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // Watch for an early exit only while we wait, so a failed start fails fast rather
    // than after the whole timeout; later exits are none of this module's business.
    const started: Started = { stopWatching: () => child.removeListener('exit', onExit) };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      started.exit = signal ? `signal ${signal}` : `code ${code}`;
    };
    child.once('exit', onExit);
    child.unref();
    return started;
  } finally {
    closeSync(out); // the child holds its own copy of the descriptor
  }
}

/**
 * The pid named by `pidFile` if that process is a live `name`; otherwise removes the
 * file. A pid file left by a dockerd or containerd that died (killed, or the machine
 * reset) blocks a new start: dockerd refuses with "pid file found, ensure docker is not
 * running", and it "reuses" the containerd named in its containerd.pid, then times out
 * waiting for that containerd's socket.
 */
function livePidOrRemove(pidFile: string, name: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined; // no pid file: nothing to clean up
  }
  if (Number.isInteger(pid) && pid > 0 && isProcess(pid, name)) return pid;
  try {
    unlinkSync(pidFile);
  } catch {
    /* already gone */
  }
  return undefined;
}

/**
 * Whether `pid` is a live process named `name`. Pids get reused by unrelated processes,
 * and a killed dockerd whose parent never reaps it stays a zombie that still answers
 * kill(pid, 0) (seen in containers whose pid 1 is not an init): neither is alive.
 */
function isProcess(pid: number, name: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but is not ours; as root that does not happen.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  // "<pid> (<comm>) <state> ...": comm may contain spaces and parentheses, so split at the last ")".
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const state = stat.slice(close + 2, close + 3);
  return comm === name && state !== 'Z' && state !== 'X';
}

async function waitForPing(socketPath: string, timeoutMs: number, giveUp: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !giveUp()) {
    if (await pingEngine(socketPath, 1000)) return true;
    await sleep(500);
  }
  return false;
}

/** The absolute path of `name` on PATH (plus the sbin dirs a non-login root shell may lack). */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * Runs a command without a shell and resolves when it exits 0. Output is kept only as a
 * bounded tail, for the error message: apt's output is long and uninteresting on success.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${tail}`));
    });
  });
}

let aptUpdated: Promise<void> | undefined;

/** `apt-get install -y` the given packages, after one `apt-get update` per process. */
export async function aptInstall(packages: readonly string[], log: ProvisionLog): Promise<void> {
  const aptGet = findExecutable('apt-get');
  if (!aptGet) throw new Error(`cannot install ${packages.join(', ')}: apt-get is not available`);
  const env = {
    ...process.env,
    DEBIAN_FRONTEND: 'noninteractive',
    NEEDRESTART_MODE: 'l', // needrestart (recommended by docker.io) must not restart services
  };
  // Another apt run (unattended-upgrades, a parallel job) may hold the lock: wait, don't fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!aptUpdated) {
    log.info('apt-get update');
    aptUpdated = runCommand(aptGet, [...lock, 'update'], { env });
    aptUpdated.catch(() => {
      aptUpdated = undefined; // let a later call retry
    });
  }
  await aptUpdated;
  log.info(`apt-get install -y ${packages.join(' ')}`);
  await runCommand(aptGet, [...lock, 'install', '-y', ...packages], { env });
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
