/**
 * Language presets for payload runs: which image, which file name the payload gets,
 * the argv that runs it, and the environment it needs. Every command works in the
 * hardened container: read-only root, no network, only /tmp writable, user 65534
 * without a home directory, so caches and build output go to /tmp.
 *
 * Images are Docker Official Images, except deno and bun, whose projects publish
 * their own (denoland/deno, oven/bun). `typescript` runs on Node itself: Node 24 strips
 * type annotations natively, so no TS compiler has to be fetched at run time (there is
 * no network); TypeScript-only syntax that needs transforming (enum, namespace) wants
 * the deno or bun preset.
 *
 * The server's configuration (SLIPWAY_LANGUAGE_PRESETS) can replace any field of a
 * preset, or add a language by giving image, file and command (tests point presets at
 * local images this way).
 */
import { invalidInput } from './errors.js';
import { IMAGE_REFERENCE_PATTERN } from '../schemas/common.js';

export interface LanguagePreset {
  image: string;
  file: string;
  command: string[];
  /** Set before the caller's own environment, which may override it. */
  env?: Record<string, string>;
}

export const DEFAULT_LANGUAGE_PRESETS: Record<string, LanguagePreset> = {
  python: { image: 'python:3.12-slim', file: 'main.py', command: ['python3', '-B', 'main.py'] },
  node: { image: 'node:22-slim', file: 'main.js', command: ['node', 'main.js'] },
  typescript: { image: 'node:24-slim', file: 'main.ts', command: ['node', '--disable-warning=ExperimentalWarning', 'main.ts'] },
  deno: { image: 'denoland/deno:2.1.4', file: 'main.ts', command: ['deno', 'run', '--quiet', 'main.ts'], env: { DENO_DIR: '/tmp/deno', DENO_NO_UPDATE_CHECK: '1' } },
  bun: { image: 'oven/bun:1-slim', file: 'main.ts', command: ['bun', 'run', 'main.ts'], env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', BUN_INSTALL_CACHE_DIR: '/tmp/bun', HOME: '/tmp' } },
  ruby: { image: 'ruby:3.3-slim', file: 'main.rb', command: ['ruby', 'main.rb'] },
  // GOTOOLCHAIN=local: never try to download another Go toolchain.
  go: { image: 'golang:1.23', file: 'main.go', command: ['go', 'run', 'main.go'], env: { GOCACHE: '/tmp/go-cache', GOPATH: '/tmp/go', GOTOOLCHAIN: 'local', HOME: '/tmp' } },
  // A shell only to chain compile and run; the binary goes to /tmp (the workspace is not writable).
  rust: { image: 'rust:1-slim', file: 'main.rs', command: ['sh', '-c', 'rustc -o /tmp/main main.rs && exec /tmp/main'] },
  // Single-file source launch (JEP 330): compiled in memory, nothing written.
  java: { image: 'eclipse-temurin:21-jdk', file: 'Main.java', command: ['java', 'Main.java'] },
  php: { image: 'php:8.3-cli', file: 'main.php', command: ['php', 'main.php'] },
  perl: { image: 'perl:5.40-slim', file: 'main.pl', command: ['perl', 'main.pl'] },
  r: { image: 'r-base:4.4.2', file: 'main.R', command: ['Rscript', 'main.R'], env: { HOME: '/tmp' } },
  bash: { image: 'bash:5.2', file: 'main.sh', command: ['bash', 'main.sh'] },
  sh: { image: 'busybox:1.36', file: 'main.sh', command: ['sh', 'main.sh'] },
};

export const LANGUAGE_NAME_PATTERN = /^[a-z][a-z0-9_+-]{0,31}$/;
const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SETTING = 'SLIPWAY_LANGUAGE_PRESETS';

/**
 * The presets with the configured ones applied. A bad entry throws an Error whose
 * message names the setting, the language and what is accepted: it stops start-up.
 */
export function mergePresets(overrides: Record<string, Partial<LanguagePreset>>): Record<string, LanguagePreset> {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new Error(`${SETTING} must be a JSON object of language name to {"image", "file", "command"}`);
  }
  const merged: Record<string, LanguagePreset> = { ...DEFAULT_LANGUAGE_PRESETS };
  for (const [language, override] of Object.entries(overrides)) {
    const where = `${SETTING}["${language}"]`;
    if (!LANGUAGE_NAME_PATTERN.test(language)) throw new Error(`${where}: a language name is lower-case letters, digits, _, + or - (at most 32)`);
    checkOverride(where, override);
    const base = Object.hasOwn(DEFAULT_LANGUAGE_PRESETS, language) ? DEFAULT_LANGUAGE_PRESETS[language] : undefined;
    if (!base && (override.image === undefined || override.file === undefined || override.command === undefined)) {
      throw new Error(`${where}: a new language needs "image", "file" and "command" (known languages: ${Object.keys(DEFAULT_LANGUAGE_PRESETS).join(', ')})`);
    }
    merged[language] = { ...base, ...override } as LanguagePreset;
  }
  return merged;
}

function checkOverride(where: string, value: unknown): asserts value is Partial<LanguagePreset> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object with "image", "file", "command" or "env"`);
  const { image, file, command, env, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`${where}: "${unknown[0]}" is not a preset field; accepted: image, file, command, env`);
  if (image !== undefined && (typeof image !== 'string' || !new RegExp(IMAGE_REFERENCE_PATTERN, 'u').test(image))) {
    throw new Error(`${where}.image must be an image reference such as python:3.12-slim, got ${JSON.stringify(image)}`);
  }
  if (file !== undefined && (typeof file !== 'string' || !FILE_NAME_PATTERN.test(file))) {
    throw new Error(`${where}.file must be a file name such as main.py, got ${JSON.stringify(file)}`);
  }
  if (command !== undefined && (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string'))) {
    throw new Error(`${where}.command must be a non-empty array of strings (argv), got ${JSON.stringify(command)}`);
  }
  if (env !== undefined && (typeof env !== 'object' || env === null || !Object.values(env).every((v) => typeof v === 'string'))) {
    throw new Error(`${where}.env must be an object of string values, got ${JSON.stringify(env)}`);
  }
}

/** The preset `language` names; an unknown language is refused naming the ones offered. */
export function presetOf(presets: Record<string, LanguagePreset>, language: string | undefined): LanguagePreset | undefined {
  if (language === undefined) return undefined;
  // hasOwn: `constructor` or `__proto__` is not a language.
  if (!Object.hasOwn(presets, language)) throw invalidInput('language', `language must be one of ${Object.keys(presets).join(', ')} (got ${JSON.stringify(language)})`);
  return presets[language];
}
