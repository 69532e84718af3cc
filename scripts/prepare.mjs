#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run bench` on any checkout, fresh or not:
// installs dependencies when node_modules is missing or older than the lock file, and
// (unless --no-build) compiles the TypeScript when dist/ is older than the sources.
// Plain JavaScript with no dependencies, since it runs before they exist.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, mtime(path));
  }
  return newest;
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed)) {
  console.error('slipway: installing dependencies (npm ci)');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
} else if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  // An existing tree is brought up to date in place: `npm ci` would first delete it
  // from under anything else running from it (a test run, a gateway).
  console.error('slipway: updating dependencies (npm install)');
  execFileSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

if (!process.argv.includes('--no-build')) {
  const sources = Math.max(...['server', 'lib', 'operations', 'routes', 'schemas'].map((d) => newestSource(join(root, d))), mtime(join(root, 'tsconfig.json')));
  if (mtime(join(root, 'dist', 'server', 'main.js')) < sources) {
    console.error('slipway: compiling TypeScript (npm run build)');
    execFileSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  }
}
