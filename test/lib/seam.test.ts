// The seam holds: above lib/docker/ nothing imports the Docker client library, and only
// the backend factory reaches into a backend's folder. A file that breaks this fails
// here, naming the file and the import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import t from 'tap';

const ROOT = resolve(import.meta.dirname, '../..');
const ABOVE_THE_SEAM = ['lib', 'operations', 'routes', 'server', 'schemas'];
const ENGINE_LIBRARIES = /^(dockerode|docker-modem)(\/|$)/;

/**
 * Files allowed to break the rule for now, each with why (none today); an entry that no
 * longer needs its exemption fails below, so the list only shrinks.
 */
const TRANSITIONAL: Record<string, string> = {};
/** The one place a backend is named: the factory (and its folder's own files). */
const MAY_REACH_BACKENDS = new Set(['lib/runtime/create-runtime.ts']);
/** The backends' own folders: below the seam, where the engine's library belongs. */
const BACKEND_DIRS = ['lib/docker/', 'lib/swarm/'];
const inBackend = (name: string): boolean => BACKEND_DIRS.some((dir) => name.startsWith(dir));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const files = ABOVE_THE_SEAM.flatMap((dir) => sourceFiles(join(ROOT, dir)))
  .map((path) => ({ path, name: relative(ROOT, path) }))
  .filter(({ name }) => !inBackend(name));

t.test('nothing above lib/docker/ imports dockerode or docker-modem', async (t) => {
  t.ok(files.length > 30, 'the scan sees the source files');
  const offenders = files
    .filter(({ name }) => !(name in TRANSITIONAL))
    .flatMap(({ path, name }) => importsOf(path).filter((spec) => ENGINE_LIBRARIES.test(spec)).map((spec) => `${name} imports ${spec}`));
  t.strictSame(offenders, []);
});

t.test('only the backend factory imports from a backend folder', async (t) => {
  const offenders = files
    .filter(({ name }) => !(name in TRANSITIONAL) && !MAY_REACH_BACKENDS.has(name))
    .flatMap(({ path, name }) =>
      importsOf(path)
        .filter((spec) => spec.startsWith('.') && inBackend(relative(ROOT, resolve(path, '..', spec))))
        .map((spec) => `${name} imports ${spec}`),
    );
  t.strictSame(offenders, []);
});

t.test('every transitional exemption is still needed', async (t) => {
  for (const [name, why] of Object.entries(TRANSITIONAL)) {
    const path = join(ROOT, name);
    const reaches = importsOf(path).some((spec) => ENGINE_LIBRARIES.test(spec) || spec.includes('docker-client') || spec.includes('/docker/'));
    t.ok(reaches, `${name} (${why}) still reaches the engine; drop its exemption once it does not`);
  }
});

t.test('the scan recognises the imports it looks for', async (t) => {
  const sample = join(ROOT, 'lib/docker/docker-runtime.ts');
  t.ok(importsOf(sample).includes('dockerode'), 'a default import of dockerode');
  t.ok(importsOf(join(ROOT, 'lib/docker/container-spec.ts')).includes('dockerode'), 'a type-only import of dockerode');
});
