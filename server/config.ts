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
import type { LanguagePreset } from '../lib/language-presets.js';
import type { RegistryAuth } from '../lib/images.js';
import type { GitCredential } from '../lib/git-clone.js';
import { loadTokens, type TokenEntry } from './tokens.js';
import type { RepoBuildSettings } from '../lib/repo-image.js';

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  /** Engine address: a unix socket path, or a tcp host and port. */
  docker: { socketPath?: string; host?: string; port?: number; protocol?: 'http' };
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
  mcp: McpConfig;
  /** Cloning and building repositories (lib/repo-image.ts). */
  repoBuild: RepoBuildSettings;
  runs: RunsConfig;
  auth: AuthConfig;
  /** Image patterns callers may run or pull (`python:*`, `registry.example.com/team/*`); empty allows any. */
  imageAllow: string[];
  allowBuilds: boolean;
}

/** Who may call, and how much (server/auth.ts). */
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
  const src: Source = { ...readConfigFile(env.SLIPWAY_CONFIG), ...env };
  const memoryCap = int(src, 'SLIPWAY_MEMORY_MAX_BYTES', 2048 * MIB, 6 * MIB);
  const cpuCap = num(src, 'SLIPWAY_CPU_MAX', 2);
  const pidsCap = int(src, 'SLIPWAY_PIDS_MAX', 256, 1);
  const timeoutCap = int(src, 'SLIPWAY_TIMEOUT_MAX_SECONDS', 3600, 1);
  const config: Config = {
    host: src.HOST || '127.0.0.1',
    port: int(src, 'PORT', 8080),
    logLevel: src.SLIPWAY_LOG_LEVEL || 'info',
    docker: parseDockerHost(src.DOCKER_HOST),
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
      cpus: Math.min(num(src, 'SLIPWAY_CPU_DEFAULT', 1), cpuCap),
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
    auth: {
      tokens: src.SLIPWAY_TOKENS_FILE ? loadTokens(src.SLIPWAY_TOKENS_FILE) : [],
      allowUnauthenticated: bool(src, 'SLIPWAY_ALLOW_UNAUTHENTICATED', false),
      rateLimitPerMinute: int(src, 'SLIPWAY_RATE_LIMIT', 600),
      maxStreamsPerToken: int(src, 'SLIPWAY_MAX_STREAMS_PER_TOKEN', 16, 1),
      maxRunsPerToken: int(src, 'SLIPWAY_MAX_RUNS_PER_TOKEN', 8, 1),
    },
    imageAllow: list(src, 'SLIPWAY_IMAGE_ALLOW', []),
    allowBuilds: bool(src, 'SLIPWAY_ALLOW_BUILDS', true),
    runs: {
      maxConcurrent: int(src, 'SLIPWAY_MAX_CONCURRENT_RUNS', 4, 1),
      maxQueued: int(src, 'SLIPWAY_MAX_QUEUED_RUNS', 32),
      retryAfterSeconds: int(src, 'SLIPWAY_RETRY_AFTER_SECONDS', 5, 1),
      logMaxBytes: int(src, 'SLIPWAY_RUN_LOG_MAX_BYTES', 16 * MIB, 1024),
      retentionSeconds: int(src, 'SLIPWAY_RUN_RETENTION_SECONDS', 7 * 24 * 3600, 1),
      sweepIntervalSeconds: int(src, 'SLIPWAY_RUN_SWEEP_INTERVAL_SECONDS', 300, 1),
      sseHeartbeatSeconds: int(src, 'SLIPWAY_SSE_HEARTBEAT_SECONDS', 15, 1),
      sseStallSeconds: int(src, 'SLIPWAY_SSE_STALL_SECONDS', 30, 1),
    },
    mcp: {
      allowedOrigins: list(src, 'SLIPWAY_MCP_ALLOWED_ORIGINS', LOOPBACK_NAMES.flatMap((h) => [`http://${h}`, `https://${h}`])),
      allowedHosts: list(src, 'SLIPWAY_MCP_ALLOWED_HOSTS', LOOPBACK_NAMES),
      sessionIdleSeconds: num(src, 'SLIPWAY_MCP_SESSION_IDLE_SECONDS', 1800),
      maxSessions: int(src, 'SLIPWAY_MCP_MAX_SESSIONS', 1000, 1),
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
  };
  if (src.SLIPWAY_RUNTIME) config.runtime = src.SLIPWAY_RUNTIME;
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

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * SLIPWAY_GIT_* and SLIPWAY_BUILD_*: where repositories may come from, with which
 * credentials, and the limits of a clone and of a build. Builds get no network unless
 * SLIPWAY_BUILD_NETWORK allows it (then most `RUN apt-get` / `pip install` steps work).
 */
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
      cloneTimeoutSeconds: int(src, 'SLIPWAY_GIT_CLONE_TIMEOUT_SECONDS', 120, 1),
      workDir: resolve(src.SLIPWAY_GIT_WORK_DIR || tmpdir()),
    },
    build: {
      memoryBytes: int(src, 'SLIPWAY_BUILD_MEMORY_BYTES', 1024 * MIB, 6 * MIB),
      cpus: num(src, 'SLIPWAY_BUILD_CPUS', 1),
      timeoutSeconds: int(src, 'SLIPWAY_BUILD_TIMEOUT_SECONDS', 600, 1),
      network: bool(src, 'SLIPWAY_BUILD_NETWORK', false),
      contextMaxBytes: int(src, 'SLIPWAY_BUILD_CONTEXT_MAX_BYTES', 256 * MIB, 1024),
      imageRetentionSeconds: int(src, 'SLIPWAY_BUILD_IMAGE_RETENTION_SECONDS', 7 * 24 * 3600, 0),
    },
  };
}
