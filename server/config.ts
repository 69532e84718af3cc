/**
 * Configuration, read once at start-up. Nothing else in Slipway reads process.env:
 * the result is a plain frozen object handed to the app and the library.
 *
 * Sources, later wins: built-in defaults, the JSON file named by SLIPWAY_CONFIG
 * (keys are the variable names below), then the environment.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { mergePresets, type LanguagePreset } from '../lib/language-presets.js';
import { RequestGuard } from './mcp/request-guard.js';
import type { RegistryAuth } from '../lib/runtime/container-runtime.js';
import type { GitCredential } from '../lib/git-clone.js';
import { loadTokens, type TokenEntry } from './tokens.js';
import type { RepoBuildSettings } from '../lib/repo-build.js';
import { BACKEND_NAMES } from '../lib/runtime/create-runtime.js';
import { MIN_CPUS } from '../schemas/common.js';
import type { SandboxSettings } from '../lib/sandboxes/sandbox-manager.js';
import { parsePool, type PoolSettings } from '../lib/sandboxes/pool-settings.js';
import type { PayloadWorkspaceSettings } from '../lib/run-kinds/payload-workspace.js';

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  /** Engine address: a unix socket path, or a tcp host and port. */
  docker: { socketPath?: string; host?: string; port?: number; protocol?: 'http' };
  /** SLIPWAY_BACKEND: which ContainerRuntime runs the containers (lib/runtime/create-runtime.ts). */
  backend: string;
  /** Start a Docker engine when none answers (root on Debian-family systems only). */
  provisionEngine: boolean;
  dataDir: string;
  /** Value of the io.slipway.instance label: separates gateways sharing one engine. */
  instance: string;
  bodyLimitBytes: number;
  requestTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  outputCapBytes: number;
  outputLimitBytes: number;
  stopGraceSeconds: number;
  defaults: { memoryBytes: number; cpus: number; pidsLimit: number; timeoutSeconds: number };
  caps: { memoryBytes: number; cpus: number; pidsLimit: number; timeoutSeconds: number };
  networkModes: string[];
  allowWritableRootfs: boolean;
  manageAllContainers: boolean;
  payloadUser: string;
  runtime?: string;
  languagePresets: Record<string, Partial<LanguagePreset>>;
  registryAuth: Record<string, RegistryAuth>;
  /** Registry hosts (`host` or `host:port`) a pull may reach although they are loopback, private or otherwise internal. */
  registryAllowedHosts: string[];
  mcp: McpConfig;
  /** Cloning and building repositories (lib/repo-build.ts; the Docker recipe is lib/docker/repo-image.ts). */
  repoBuild: RepoBuildSettings;
  runs: RunsConfig;
  /** Long-lived sandboxes (lib/sandboxes/). */
  sandboxes: SandboxSettings;
  /** SLIPWAY_POOL: sandbox containers kept warm (lib/sandboxes/warm-pool.ts); none by default. */
  pool: PoolSettings;
  /** Payload runs' writable /workspace and the files they hand back (lib/run-kinds/payload-workspace.ts). */
  payloadWorkspace: PayloadWorkspaceSettings;
  auth: AuthConfig;
  /** Image patterns callers may run or pull (`python:*`, `registry.example.com/team/*`); empty allows any. */
  imageAllow: string[];
  allowBuilds: boolean;
  /** SLIPWAY_CORS_ORIGINS: browser origins (`https://dash.example.com`) that may call the API from their pages; none by default. */
  corsOrigins: string[];
  /** Said once at start-up (server/main.ts): SLIPWAY_* names no setting reads, with a likely intended one. */
  warnings: string[];
}

/** Who may call, and how much (server/plugins/auth.ts). */
export interface AuthConfig {
  /** Empty: no tokens file, the server runs open (loopback only, unless allowUnauthenticated). */
  tokens: TokenEntry[];
  allowUnauthenticated: boolean;
  /** Requests per minute per token (or per address when open); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Open SSE log streams per token at once. */
  maxStreamsPerToken: number;
  /** Runs one token may have queued or executing at once, unless its policy says otherwise. */
  maxRunsPerToken: number;
  /** Wrong tokens one client address may present per minute before it is refused with 429. */
  failuresPerMinute: number;
}

/** Run records, their logs, and how many runs execute at once (lib/runs.ts). */
export interface RunsConfig {
  maxConcurrent: number;
  maxQueued: number;
  retryAfterSeconds: number;
  logMaxBytes: number;
  retentionSeconds: number;
  sweepIntervalSeconds: number;
  /** SSE: a comment line this often keeps proxies from closing an idle stream. */
  sseHeartbeatSeconds: number;
  /** SSE: a reader that accepts nothing for this long is cut off (it can resume). */
  sseStallSeconds: number;
  /** Runs one caller may execute at once, whatever its token's policy says; below maxConcurrent so another caller always finds a slot. */
  maxRunningPerCaller: number;
  /** Runs one caller may have waiting for a slot; 429 beyond. */
  maxQueuedPerCaller: number;
  /** Bytes of finished runs' records and logs one caller keeps; its oldest runs are deleted beyond. */
  storagePerCallerBytes: number;
  /** Finished run records one caller keeps; its oldest are deleted beyond. */
  recordsPerCaller: number;
}

/** The MCP door at /mcp (routes/mcp.ts, server/mcp/). */
export interface McpConfig {
  /**
   * Origin header values accepted (DNS rebinding): `scheme://host` matches any port,
   * `scheme://host:port` that port only, `*` anything. A request without Origin
   * (a non-browser client) is accepted.
   */
  allowedOrigins: string[];
  /** Host header values accepted: `host` matches any port, `host:port` that port only, `*` anything. */
  allowedHosts: string[];
  /** A session with no open request and no tool call running for this long is ended. */
  sessionIdleSeconds: number;
  /** Sessions open at once; an initialize beyond it is refused with 503. */
  maxSessions: number;
  /** Sessions one token may hold; 429 beyond (an open server's one caller has the whole table). */
  maxSessionsPerCaller: number;
  /** A session ends this long after it opened, even while in use. */
  sessionMaxSeconds: number;
  /** Per-session bound of the resumability event store, in messages and in bytes of JSON. */
  eventStoreMaxEvents: number;
  eventStoreMaxBytes: number;
  /** SSE polling (server/mcp/sse-polling.ts): the priming event's `retry`, and when a long call's POST stream is closed. */
  ssePolling: { retryMs: number; closeAfterMs: number };
  /** List the tools the MCP conformance suite calls (server/mcp/conformance-tools.ts); off in production. */
  conformanceTools: boolean;
}

type Source = Record<string, string | undefined>;

const MIB = 1024 * 1024;
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function int(src: Source, name: string, fallback: number, min = 0): number {
  const raw = src[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function num(src: Source, name: string, fallback: number): number {
  const raw = src[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** A CPU count the engine enforces: below MIN_CPUS, NanoCpus would round to 0, which means no limit. */
function cpus(src: Source, name: string, fallback: number): number {
  const value = num(src, name, fallback);
  if (value < MIN_CPUS) throw new Error(`${name} must be at least ${MIN_CPUS}, got "${src[name]}"`);
  return value;
}

function bool(src: Source, name: string, fallback: boolean): boolean {
  const raw = src[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

function list(src: Source, name: string, fallback: string[]): string[] {
  const raw = src[name];
  if (raw === undefined || raw === '') return fallback;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Exact browser origins (`scheme://host[:port]`, no path), compared as the browser sends them. */
function origins(src: Source, name: string): string[] {
  const values = list(src, name, []);
  for (const value of values) {
    if (!/^https?:\/\/[^/\s:]+(:\d{1,5})?$/.test(value)) throw new Error(`${name} entries must be origins like https://dash.example.com or http://localhost:3000 (no path, no wildcard), got "${value}"`);
  }
  return values;
}

function choice(src: Source, name: string, allowed: readonly string[], fallback: string): string {
  const raw = src[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

function json<T>(src: Source, name: string, fallback: T): T {
  const raw = src[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`${name} must be JSON`);
  }
}

/** DOCKER_HOST as dockerode connection options: unix:///path or tcp://host:port. */
export function parseDockerHost(value: string | undefined): Config['docker'] {
  if (!value) return { socketPath: '/var/run/docker.sock' };
  if (value.startsWith('unix://')) return { socketPath: value.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(value);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]), protocol: 'http' };
  throw new Error(`DOCKER_HOST must be unix:///path or tcp://host:port, got "${value}"`);
}

function readConfigFile(path: string | undefined): Source {
  if (!path) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`SLIPWAY_CONFIG ${path} could not be read as JSON: ${(err as Error).message}`);
  }
  // File values may be numbers, booleans, lists or objects; normalise them to the env form.
  const asEnv = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : JSON.stringify(v));
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, asEnv(v)]));
}

export function loadConfig(env: Source = process.env): Config {
  const given: Source = { ...readConfigFile(env.SLIPWAY_CONFIG), ...env };
  // Every name looked up is a setting this server knows: what was given and never looked up is a typo or a leftover.
  const known = new Set<string>(['SLIPWAY_CONFIG']);
  const src: Source = new Proxy(given, {
    get: (target, key) => {
      if (typeof key === 'string') known.add(key);
      return Reflect.get(target, key) as string | undefined;
    },
  });
  const memoryCap = int(src, 'SLIPWAY_MEMORY_MAX_BYTES', 2048 * MIB, 6 * MIB);
  const cpuCap = cpus(src, 'SLIPWAY_CPU_MAX', 2);
  const pidsCap = int(src, 'SLIPWAY_PIDS_MAX', 256, 1);
  const timeoutCap = int(src, 'SLIPWAY_TIMEOUT_MAX_SECONDS', 3600, 1);
  const maxConcurrent = int(src, 'SLIPWAY_MAX_CONCURRENT_RUNS', 4, 1);
  const config: Config = {
    host: src.HOST || '127.0.0.1',
    port: int(src, 'PORT', 8080),
    logLevel: choice(src, 'SLIPWAY_LOG_LEVEL', LOG_LEVELS, 'info'),
    docker: parseDockerHost(src.DOCKER_HOST),
    backend: src.SLIPWAY_BACKEND || 'docker',
    provisionEngine: bool(src, 'SLIPWAY_PROVISION_ENGINE', true),
    dataDir: resolve(src.SLIPWAY_DATA_DIR || 'data'),
    instance: src.SLIPWAY_INSTANCE || 'default',
    bodyLimitBytes: int(src, 'SLIPWAY_BODY_LIMIT_BYTES', 10 * MIB, 1024),
    requestTimeoutSeconds: int(src, 'SLIPWAY_REQUEST_TIMEOUT_SECONDS', 30, 1),
    headersTimeoutSeconds: int(src, 'SLIPWAY_HEADERS_TIMEOUT_SECONDS', 10, 1),
    outputCapBytes: int(src, 'SLIPWAY_OUTPUT_CAP_BYTES', MIB, 1),
    outputLimitBytes: int(src, 'SLIPWAY_OUTPUT_LIMIT_BYTES', 64 * MIB, 1),
    stopGraceSeconds: int(src, 'SLIPWAY_STOP_GRACE_SECONDS', 3),
    defaults: {
      memoryBytes: Math.min(int(src, 'SLIPWAY_MEMORY_DEFAULT_BYTES', 512 * MIB, 6 * MIB), memoryCap),
      cpus: Math.min(cpus(src, 'SLIPWAY_CPU_DEFAULT', 1), cpuCap),
      pidsLimit: Math.min(int(src, 'SLIPWAY_PIDS_DEFAULT', 256, 1), pidsCap),
      timeoutSeconds: Math.min(int(src, 'SLIPWAY_TIMEOUT_DEFAULT_SECONDS', 60, 1), timeoutCap),
    },
    caps: { memoryBytes: memoryCap, cpus: cpuCap, pidsLimit: pidsCap, timeoutSeconds: timeoutCap },
    networkModes: list(src, 'SLIPWAY_NETWORK_MODES', ['none']),
    allowWritableRootfs: bool(src, 'SLIPWAY_ALLOW_WRITABLE_ROOTFS', false),
    manageAllContainers: bool(src, 'SLIPWAY_MANAGE_ALL_CONTAINERS', false),
    payloadUser: src.SLIPWAY_PAYLOAD_USER || '65534:65534',
    languagePresets: json(src, 'SLIPWAY_LANGUAGE_PRESETS', {}),
    registryAuth: json(src, 'SLIPWAY_REGISTRY_AUTH', {}),
    registryAllowedHosts: list(src, 'SLIPWAY_REGISTRY_ALLOWED_HOSTS', []),
    auth: {
      tokens: src.SLIPWAY_TOKENS_FILE ? loadTokens(src.SLIPWAY_TOKENS_FILE) : [],
      allowUnauthenticated: bool(src, 'SLIPWAY_ALLOW_UNAUTHENTICATED', false),
      rateLimitPerMinute: int(src, 'SLIPWAY_RATE_LIMIT', 600),
      maxStreamsPerToken: int(src, 'SLIPWAY_MAX_STREAMS_PER_TOKEN', 16, 1),
      maxRunsPerToken: int(src, 'SLIPWAY_MAX_RUNS_PER_TOKEN', 8, 1),
      failuresPerMinute: int(src, 'SLIPWAY_AUTH_FAILURES_PER_MINUTE', 30, 1),
    },
    imageAllow: list(src, 'SLIPWAY_IMAGE_ALLOW', []),
    allowBuilds: bool(src, 'SLIPWAY_ALLOW_BUILDS', true),
    corsOrigins: origins(src, 'SLIPWAY_CORS_ORIGINS'),
    warnings: [],
    runs: {
      maxConcurrent,
      maxQueued: int(src, 'SLIPWAY_MAX_QUEUED_RUNS', 32),
      retryAfterSeconds: int(src, 'SLIPWAY_RETRY_AFTER_SECONDS', 5, 1),
      logMaxBytes: int(src, 'SLIPWAY_RUN_LOG_MAX_BYTES', 16 * MIB, 1024),
      retentionSeconds: int(src, 'SLIPWAY_RUN_RETENTION_SECONDS', 7 * 24 * 3600, 1),
      sweepIntervalSeconds: int(src, 'SLIPWAY_RUN_SWEEP_INTERVAL_SECONDS', 300, 1),
      sseHeartbeatSeconds: int(src, 'SLIPWAY_SSE_HEARTBEAT_SECONDS', 15, 1),
      sseStallSeconds: int(src, 'SLIPWAY_SSE_STALL_SECONDS', 30, 1),
      maxRunningPerCaller: int(src, 'SLIPWAY_MAX_RUNNING_PER_CALLER', Math.max(1, maxConcurrent - 1), 1),
      maxQueuedPerCaller: int(src, 'SLIPWAY_MAX_QUEUED_PER_CALLER', 8),
      storagePerCallerBytes: int(src, 'SLIPWAY_RUN_STORAGE_PER_CALLER_BYTES', 256 * MIB, 1024),
      recordsPerCaller: int(src, 'SLIPWAY_RUN_RECORDS_PER_CALLER', 1000, 1),
    },
    mcp: {
      allowedOrigins: list(src, 'SLIPWAY_MCP_ALLOWED_ORIGINS', LOOPBACK_NAMES.flatMap((h) => [`http://${h}`, `https://${h}`])),
      allowedHosts: list(src, 'SLIPWAY_MCP_ALLOWED_HOSTS', LOOPBACK_NAMES),
      sessionIdleSeconds: num(src, 'SLIPWAY_MCP_SESSION_IDLE_SECONDS', 1800),
      maxSessions: int(src, 'SLIPWAY_MCP_MAX_SESSIONS', 1000, 1),
      maxSessionsPerCaller: int(src, 'SLIPWAY_MCP_MAX_SESSIONS_PER_CALLER', 16, 1),
      sessionMaxSeconds: num(src, 'SLIPWAY_MCP_SESSION_MAX_SECONDS', 24 * 3600),
      eventStoreMaxEvents: int(src, 'SLIPWAY_MCP_EVENT_STORE_MAX_EVENTS', 1000, 1),
      eventStoreMaxBytes: int(src, 'SLIPWAY_MCP_EVENT_STORE_MAX_BYTES', MIB, 1024),
      ssePolling: {
        retryMs: int(src, 'SLIPWAY_MCP_SSE_RETRY_MS', 1000, 1),
        // Under the 60 s cut-off common to proxies; 0 keeps each stream open to the end.
        closeAfterMs: 1000 * int(src, 'SLIPWAY_MCP_STREAM_CLOSE_SECONDS', 50),
      },
      conformanceTools: bool(src, 'SLIPWAY_MCP_CONFORMANCE_TOOLS', false),
    },
    repoBuild: repoBuildConfig(src),
    sandboxes: sandboxConfig(src, memoryCap, src.SLIPWAY_PAYLOAD_USER || '65534:65534'),
    pool: parsePool(json(src, 'SLIPWAY_POOL', {}), mergePresets(json(src, 'SLIPWAY_LANGUAGE_PRESETS', {})), int(src, 'SLIPWAY_POOL_CHECK_SECONDS', 5, 1)),
    payloadWorkspace: {
      workspaceBytes: int(src, 'SLIPWAY_PAYLOAD_WORKSPACE_BYTES', 64 * MIB, MIB),
      returnFiles: {
        maxCount: int(src, 'SLIPWAY_RETURN_FILES_MAX_COUNT', 20, 1),
        maxFileBytes: int(src, 'SLIPWAY_RETURN_FILES_MAX_FILE_BYTES', MIB, 1),
        maxTotalBytes: int(src, 'SLIPWAY_RETURN_FILES_MAX_TOTAL_BYTES', 4 * MIB, 1),
      },
    },
  };
  if (src.SLIPWAY_RUNTIME) config.runtime = src.SLIPWAY_RUNTIME;
  if (!BACKEND_NAMES.includes(config.backend)) throw new Error(`SLIPWAY_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got "${config.backend}"`);
  // Checked here, not when first used: a bad preset or allow-list entry stops start-up with one line.
  mergePresets(config.languagePresets);
  new RequestGuard(config.mcp.allowedOrigins, config.mcp.allowedHosts);
  config.warnings = unknownSettings(Object.keys(given), known);
  for (const mode of config.networkModes) {
    // host and container:* networking would hand the sandbox the host's or a neighbour's stack.
    if (mode !== 'none' && mode !== 'bridge') throw new Error(`SLIPWAY_NETWORK_MODES may hold none and bridge only, got "${mode}"`);
  }
  if (config.auth.tokens.length === 0 && !isLoopback(config.host) && !config.auth.allowUnauthenticated) {
    // Whoever reaches an open Slipway runs containers on this engine: never by accident.
    throw new Error(
      `HOST=${config.host} is not a loopback address and no SLIPWAY_TOKENS_FILE is set: refusing to serve the Docker engine to the network ` +
        'without authentication. Set SLIPWAY_TOKENS_FILE, bind to 127.0.0.1, or set SLIPWAY_ALLOW_UNAUTHENTICATED=true to accept the risk.',
    );
  }
  return Object.freeze(config);
}

function sandboxConfig(src: Source, memoryCap: number, sandboxUser: string): SandboxSettings {
  const ttlMax = int(src, 'SLIPWAY_SANDBOX_TTL_MAX_SECONDS', 24 * 3600, 1);
  const keepAliveUser = src.SLIPWAY_SANDBOX_KEEPALIVE_USER || '65533:65533';
  // Another uid than the sandbox user's: its processes, with no capabilities, cannot signal the keep-alive.
  if (!/^[1-9][0-9]*:[0-9]+$/.test(keepAliveUser) || keepAliveUser.split(':')[0] === sandboxUser.split(':')[0]) {
    throw new Error(`SLIPWAY_SANDBOX_KEEPALIVE_USER must be a numeric non-root uid:gid whose uid differs from SLIPWAY_PAYLOAD_USER's, got "${keepAliveUser}"`);
  }
  return {
    keepAliveUser,
    archiveMaxBytes: int(src, 'SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES', 64 * MIB, 1024),
    archiveUploadsPerCaller: int(src, 'SLIPWAY_SANDBOX_ARCHIVE_UPLOADS_PER_CALLER', 2, 1),
    agentBinary: src.SLIPWAY_SANDBOX_AGENT_BINARY || '/bin/busybox',
    ttlMaxSeconds: ttlMax,
    ttlDefaultSeconds: Math.min(int(src, 'SLIPWAY_SANDBOX_TTL_DEFAULT_SECONDS', 3600, 1), ttlMax),
    idleDefaultSeconds: Math.min(int(src, 'SLIPWAY_SANDBOX_IDLE_DEFAULT_SECONDS', 900, 1), ttlMax),
    workspaceBytes: int(src, 'SLIPWAY_SANDBOX_WORKSPACE_BYTES', 256 * MIB, MIB),
    maxPerCaller: int(src, 'SLIPWAY_SANDBOX_MAX_PER_CALLER', 4, 1),
    memoryPerCallerBytes: int(src, 'SLIPWAY_SANDBOX_MEMORY_PER_CALLER_BYTES', Math.max(2048 * MIB, memoryCap), 6 * MIB),
    readMaxBytes: int(src, 'SLIPWAY_SANDBOX_READ_MAX_BYTES', MIB, 1),
    listMaxEntries: int(src, 'SLIPWAY_SANDBOX_LIST_MAX_ENTRIES', 1000, 1),
    sweepIntervalSeconds: int(src, 'SLIPWAY_SANDBOX_SWEEP_INTERVAL_SECONDS', 30, 1),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `SLIPWAY_*` names given but never read, each with the closest known name when one is near. */
export function unknownSettings(given: string[], known: ReadonlySet<string>): string[] {
  return given
    .filter((name) => name.startsWith('SLIPWAY_') && !known.has(name))
    .map((name) => {
      const [nearest] = [...known]
        .filter((k) => k.startsWith('SLIPWAY_'))
        // A name cut short (SLIPWAY_MEMORY_MAX for SLIPWAY_MEMORY_MAX_BYTES) is as near as a typo.
        .map((k) => ({ k, d: k.startsWith(`${name}_`) ? 1 : editDistance(name, k) }))
        .filter(({ d }) => d <= Math.max(2, Math.floor(name.length / 6)))
        .sort((a, b) => a.d - b.d);
      return `unknown setting ${name} is ignored${nearest ? ` (did you mean ${nearest.k}?)` : ''}`;
    });
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * SLIPWAY_GIT_* and SLIPWAY_BUILD_*: where repositories may come from, with which
 * credentials, and the limits of a clone and of a build. Builds get no network unless
 * SLIPWAY_BUILD_NETWORK allows it (then most `RUN apt-get` / `pip install` steps work).
 */
/** Below 2 GiB: isomorphic-git reads object sizes as 32-bit numbers, and the pack inspector's bound must mean the same to it. */
function objectMaxBytes(src: Source): number {
  const value = int(src, 'SLIPWAY_GIT_OBJECT_MAX_BYTES', 100 * MIB, 1024);
  if (value >= 2 ** 31) throw new Error(`SLIPWAY_GIT_OBJECT_MAX_BYTES must be below 2 GiB (2147483648), got "${value}"`);
  return value;
}

function repoBuildConfig(src: Source): RepoBuildSettings {
  const credentials = json<Record<string, GitCredential>>(src, 'SLIPWAY_GIT_CREDENTIALS', {});
  for (const [host, c] of Object.entries(credentials)) {
    const strings = (...v: unknown[]) => v.every((x) => x === undefined || typeof x === 'string');
    if (typeof c !== 'object' || c === null || !strings(c.username, c.password, c.token) || (c.token === undefined && c.password === undefined)) {
      throw new Error(`SLIPWAY_GIT_CREDENTIALS["${host}"] must be {"token": "..."} or {"username": "...", "password": "..."}`);
    }
  }
  return {
    git: {
      allowedHosts: list(src, 'SLIPWAY_GIT_ALLOWED_HOSTS', []),
      credentials,
      cloneMaxBytes: int(src, 'SLIPWAY_GIT_CLONE_MAX_BYTES', 256 * MIB, 1024),
      cloneDiskMaxBytes: int(src, 'SLIPWAY_GIT_CLONE_DISK_MAX_BYTES', 1024 * MIB, 1024),
      // A clone does not trust the repository's shape (SECURITY.md): what one object may
      // inflate to, how many entries a checkout may create, and how many descriptors it holds.
      cloneObjectMaxBytes: objectMaxBytes(src),
      cloneMaxFiles: int(src, 'SLIPWAY_GIT_MAX_FILES', 50_000, 1),
      cloneMaxOpenFiles: int(src, 'SLIPWAY_GIT_MAX_OPEN_FILES', 16, 1),
      cloneTimeoutSeconds: int(src, 'SLIPWAY_GIT_CLONE_TIMEOUT_SECONDS', 120, 1),
      workDir: resolve(src.SLIPWAY_GIT_WORK_DIR || tmpdir()),
    },
    build: {
      memoryBytes: int(src, 'SLIPWAY_BUILD_MEMORY_BYTES', 1024 * MIB, 6 * MIB),
      cpus: cpus(src, 'SLIPWAY_BUILD_CPUS', 1),
      timeoutSeconds: int(src, 'SLIPWAY_BUILD_TIMEOUT_SECONDS', 600, 1),
      pidsLimit: int(src, 'SLIPWAY_BUILD_PIDS_LIMIT', 256, 8),
      network: bool(src, 'SLIPWAY_BUILD_NETWORK', false),
      maxLayerBytes: int(src, 'SLIPWAY_BUILD_MAX_LAYER_BYTES', 1024 * MIB, MIB),
      contextMaxBytes: int(src, 'SLIPWAY_BUILD_CONTEXT_MAX_BYTES', 256 * MIB, 1024),
      // Per caller (owner label): the oldest cached build images go first past it.
      cacheMaxBytes: int(src, 'SLIPWAY_BUILD_CACHE_MAX_BYTES', 4096 * MIB, MIB),
      imageRetentionSeconds: int(src, 'SLIPWAY_BUILD_IMAGE_RETENTION_SECONDS', 24 * 3600, 0),
    },
  };
}
