// The documentation stays inside the repository and stays true: every relative link in
// README.md and docs/*.md points at a file of this checkout (never above its root), a
// link to a heading finds the heading, and every test SECURITY.md's attack table names
// exists with the quoted title (as does any test the docs quote after a link to its file).
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOCS = ['README.md', 'deploy/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The link targets of a Markdown text, leaving out code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsOf(markdownFile: string): Set<string> {
  const prose = readFileSync(markdownFile, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...prose.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** What is wrong with a link from `doc` (a path under `root`), or undefined when it is fine. */
function linkProblem(root: string, doc: string, target: string): string | undefined {
  if (/^(https?:|mailto:)/.test(target)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `${target}: only http(s) and mailto links may leave the repository`;
  const [path = '', anchor] = target.split('#', 2);
  if (isAbsolute(path)) return `${target}: an absolute path, not a link inside the repository`;
  const file = path === '' ? join(root, doc) : resolve(root, dirname(doc), decodeURIComponent(path));
  const inRepo = relative(root, file);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) return `${target}: leaves the repository`;
  if (!existsSync(file)) return `${target}: ${inRepo} does not exist`;
  if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor)) return `${target}: ${inRepo} has no heading #${anchor}`;
  return undefined;
}

t.test('the link checker refuses links that leave the repository or point at nothing', async (t) => {
  t.same(linkTargets('[a](../shared/x.md) `[b](c.md)` [d](e.md "title")\n```\n[f](g.md)\n```\n[h]: i.md'), ['../shared/x.md', 'e.md', 'i.md']);
  t.match(linkProblem(ROOT, 'README.md', '../shared/design/TESTING.md'), /leaves the repository/);
  t.match(linkProblem(ROOT, 'docs/TESTING.md', '../../x.md'), /leaves the repository/);
  t.match(linkProblem(ROOT, 'README.md', '/etc/passwd'), /absolute path/);
  t.match(linkProblem(ROOT, 'README.md', 'file:///etc/passwd'), /only http/);
  t.match(linkProblem(ROOT, 'README.md', 'docs/NOPE.md'), /does not exist/);
  t.match(linkProblem(ROOT, 'README.md', '#no-such-heading'), /no heading/);
  t.equal(linkProblem(ROOT, 'docs/SECURITY.md', '../README.md#configuration'), undefined);
  t.equal(linkProblem(ROOT, 'README.md', 'https://modelcontextprotocol.io/'), undefined);
});

t.test('every relative link in README.md and docs/*.md points at a file inside the repository', async (t) => {
  for (const doc of DOCS) {
    const targets = linkTargets(readFileSync(join(ROOT, doc), 'utf8'));
    const problems = targets.map((target) => linkProblem(ROOT, doc, target)).filter((p) => p !== undefined);
    t.same(problems, [], `${doc}: ${targets.length} links`);
  }
});

t.test('every test named in the attack table exists with the quoted title', async (t) => {
  const security = readFileSync(join(ROOT, 'docs/SECURITY.md'), 'utf8');
  const section = security.split(/^## /m).find((s) => s.startsWith('Attacks and their safe outcomes'));
  if (!section) throw new Error('docs/SECURITY.md has no "Attacks and their safe outcomes" section');
  const rows = section.split('\n').filter((line) => line.startsWith('|'));
  t.equal(rows[0], '| attack | safe outcome | setting | test |', 'one table, four columns');
  const attacks = rows.slice(2);
  t.ok(attacks.length >= 20, `${attacks.length} attacks`);
  for (const row of attacks) {
    const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const [attack, outcome, setting, test = ''] = cells;
    t.equal(cells.length, 4, `${attack}: four cells`);
    t.ok(outcome && setting, `${attack}: an outcome and a setting (or "none")`);
    const named = quotedTests('docs/SECURITY.md', test);
    t.ok(named.length > 0, `${attack}: names at least one test`);
    for (const { file, title } of named) t.ok(hasTest(file, title), `${attack}: ${file} has the test "${title}"`);
  }
});

t.test('every test title the docs quote after a link to a test file exists', async (t) => {
  for (const doc of DOCS) {
    for (const { file, title } of quotedTests(doc, readFileSync(join(ROOT, doc), 'utf8'))) t.ok(hasTest(file, title), `${doc}: ${file} has the test "${title}"`);
  }
});

/** `[name](path/to/x.test.ts) "title"` in a doc: the file (from the root) and the title, spacing normalised. */
function quotedTests(doc: string, markdown: string): { file: string; title: string }[] {
  return [...markdown.matchAll(/\]\(([^)\s]+\.test\.ts)\)\s+"([^"]+)"/g)].map((m) => ({
    file: relative(ROOT, resolve(ROOT, dirname(doc), m[1]!)),
    title: m[2]!.replace(/\s+/g, ' '),
  }));
}

function hasTest(file: string, title: string): boolean {
  const path = join(ROOT, file);
  return existsSync(path) && readFileSync(path, 'utf8').replace(/\\'/g, "'").includes(title);
}
