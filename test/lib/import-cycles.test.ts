// No import cycles in the gateway's own code: every module of lib/, operations/,
// routes/, server/ and schemas/ can be read (and loaded) from its imports downwards.
// A cycle is named file by file, so the fix is plain. Type-only imports count too: a
// cycle of types still means two files that cannot be understood one without the other.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';

const ROOT = resolve(import.meta.dirname, '../..');
const WATCHED = ['lib', 'operations', 'routes', 'server', 'schemas'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** The source file a relative specifier names (`./a.js` is `./a.ts` before compiling), if it is one. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  return existsSync(target) ? target : undefined;
}

/** The import graph: file → the files it imports, among `files`. */
function importGraph(files: string[], read: (path: string) => string): Map<string, string[]> {
  const known = new Set(files);
  return new Map(files.map((file) => [file, importsOf(read(file)).map((spec) => resolveImport(file, spec)).filter((p): p is string => p !== undefined && known.has(p))]));
}

/** Every cycle a depth-first walk meets, each as the files around it (first file repeated at the end). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (file: string): void => {
    const at = onPath.indexOf(file);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    onPath.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    onPath.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

t.test('no module of lib, operations, routes, server or schemas imports itself through others', async (t) => {
  const files = WATCHED.flatMap((dir) => sourceFiles(join(ROOT, dir)));
  t.ok(files.length > 60, 'the walk sees the source files');
  const cycles = findCycles(importGraph(files, (path) => readFileSync(path, 'utf8')));
  t.strictSame(cycles.map((cycle) => cycle.map((file) => relative(ROOT, file)).join(' → ')), []);
});

t.test('the walk finds a cycle of three files and ignores a diamond', async (t) => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['e', 'f']],
    ['e', ['g']],
    ['f', ['g']],
    ['g', []],
  ]);
  t.strictSame(findCycles(graph), [['a', 'b', 'c', 'a']]);
});

t.test('the walk reads static, type-only, re-exported and dynamic imports', async (t) => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export { c } from './c.js';",
    "import './side-effect.js';",
    "const d = await import('./d.js');",
    'import {\n  e,\n} from "./e.js";',
  ].join('\n');
  t.strictSame(importsOf(text), ['./a.js', '../b.js', './c.js', './side-effect.js', './d.js', './e.js']);
});
