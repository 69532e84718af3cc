/**
 * A Dockerfile read the way the builder reads it, so the gateway's checks see what a
 * build would use: parser directives (`# escape=`), `#` comments, line continuations,
 * JSON and shell forms, `--flag=value` options, and the builder's word expansion of
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` with quotes and escapes.
 *
 * A small hand parser rather than a package: the grammar we accept is short, and the
 * packages on the registry (dockerfile-ast, docker-file-parser) do not expand
 * variables, which is the part the checks depend on. Heredocs are refused: the
 * interpreter does not run them, and a half-understood instruction must not pass.
 */
import { invalidInput } from './errors.js';

export interface Instruction {
  /** 1-based line number where the instruction starts. */
  line: number;
  /** Upper-case instruction name (`RUN`, `COPY`, ...). */
  keyword: string;
  /** `--name=value` options before the arguments. */
  flags: Record<string, string>;
  /** The arguments as written, flags removed, continuations joined. */
  args: string;
  /** The JSON (exec) form, when the arguments are a JSON array of strings. */
  json?: string[];
  /** The instruction as it appeared, continuations joined (for logs). */
  original: string;
}

export interface ParsedDockerfile {
  escape: string;
  instructions: Instruction[];
}

/** The field failures of a Dockerfile are reported on. */
export const DOCKERFILE_FIELD = 'dockerfile_path';

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

export class DockerfileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`Dockerfile line ${line}: ${message}`);
  }
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (name === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(i + 1, `invalid escape directive ${m[2]}: use \\ or \``);
      escape = m[2]!;
    } else if (name !== 'syntax') break; // not a directive: an ordinary comment
  }
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    let raw = lines[i++]!;
    if (/^\s*(#|$)/.test(raw)) continue;
    // A line ending in the escape character continues; comment and blank lines inside are skipped.
    let joined = '';
    for (;;) {
      const trimmed = raw.replace(/\s+$/, '');
      if (trimmed.endsWith(escape) && i <= lines.length) {
        joined += trimmed.slice(0, -1);
        while (i < lines.length && /^\s*(#|$)/.test(lines[i]!)) i++;
        if (i >= lines.length) break;
        raw = lines[i++]!;
        continue;
      }
      joined += raw;
      break;
    }
    instructions.push(parseInstruction(joined.trim(), start + 1));
  }
  return { escape, instructions };
}

function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const keyword = m[1]!.toUpperCase();
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  for (;;) {
    const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!f) break;
    flags[f[1]!.toLowerCase()] = f[2] ?? 'true';
    rest = rest.slice(f[0].length);
  }
  const args = rest.trim();
  if (/<<-?\s*["']?[A-Za-z_]/.test(args) && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
    throw new DockerfileError(line, `${keyword} with a heredoc (<<) is not supported`);
  }
  const instruction: Instruction = { line, keyword, flags, args, original: text };
  if (args.startsWith('[')) {
    try {
      const parsed = JSON.parse(args) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) instruction.json = parsed as string[];
    } catch {
      // not JSON: the shell form, as the builder treats it
    }
  }
  return instruction;
}

export type Variables = ReadonlyMap<string, string>;

/** One word: variables expanded, quotes and escapes removed, no splitting. */
export function expandWord(text: string, vars: Variables, escape = '\\'): string {
  return lex(text, vars, escape, false).join('');
}

/** Whitespace-separated words (quotes keep spaces), each expanded as `expandWord`. */
export function expandWords(text: string, vars: Variables, escape = '\\'): string[] {
  return lex(text, vars, escape, true);
}

/** The builder's shell-like lexer (moby's shell.Lex), restricted to what Dockerfiles use. */
function lex(text: string, vars: Variables, escape: string, split: boolean): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const flush = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (split && /\s/.test(c)) {
      flush();
      i++;
    } else if (c === escape) {
      inWord = true;
      if (i + 1 < text.length) word += text[i + 1];
      i += 2;
    } else if (c === "'") {
      inWord = true;
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw invalidInput(DOCKERFILE_FIELD, `unterminated single quote in: ${text}`);
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === escape && i + 1 < text.length && ['"', '$', escape].includes(text[i + 1]!)) {
          word += text[i + 1];
          i += 2;
        } else if (text[i] === '$') {
          const [value, next] = variable(text, i, vars, escape);
          word += value;
          i = next;
        } else word += text[i++];
      }
      if (i >= text.length) throw invalidInput(DOCKERFILE_FIELD, `unterminated double quote in: ${text}`);
      i++;
    } else if (c === '$') {
      inWord = true;
      const [value, next] = variable(text, i, vars, escape);
      word += value;
      i = next;
    } else {
      inWord = true;
      word += c;
      i++;
    }
  }
  flush();
  return split ? words : [words.join(' ')];
}

/** `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}` at `text[at]`. */
function variable(text: string, at: number, vars: Variables, escape: string): [string, number] {
  const simple = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(at));
  if (simple) return [vars.get(simple[1]!) ?? '', at + simple[0].length];
  if (text[at + 1] !== '{') return ['$', at + 1];
  let depth = 1;
  let end = at + 2;
  while (end < text.length && depth > 0) {
    if (text[end] === '{') depth++;
    else if (text[end] === '}') depth--;
    if (depth > 0) end++;
  }
  if (depth > 0) throw invalidInput(DOCKERFILE_FIELD, `missing } in: ${text}`);
  const body = text.slice(at + 2, end);
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([\s\S]*))?$/.exec(body);
  if (!m) throw invalidInput(DOCKERFILE_FIELD, `unsupported variable expansion \${${body}}`);
  const [, name, colon, op, word] = m;
  const value = vars.get(name!);
  const set = colon ? value !== undefined && value !== '' : value !== undefined;
  if (op === '-') return [set ? value! : expandWord(word!, vars, escape), end + 1];
  if (op === '+') return [set ? expandWord(word!, vars, escape) : '', end + 1];
  return [value ?? '', end + 1];
}

/** `KEY=value KEY2="v 2"` (or the legacy `KEY value`) of ENV and LABEL, expanded. */
export function keyValuePairs(instruction: Instruction, vars: Variables, escape: string): [string, string][] {
  const { args } = instruction;
  const first = /^(\S+)/.exec(args)?.[1] ?? '';
  if (!first.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(args);
    if (!m) throw new DockerfileError(instruction.line, `${instruction.keyword} needs a name and a value`);
    return [[m[1]!, expandWord(m[2]!, vars, escape)]];
  }
  return expandWords(args, vars, escape).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new DockerfileError(instruction.line, `${instruction.keyword} expects NAME=value, got ${w}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Whether a COPY/ADD source names something to fetch rather than a context path (any case, any scheme). */
export function isRemoteSource(src: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(src) || /^git@/i.test(src) || /^[A-Za-z][A-Za-z0-9+.-]*::/.test(src);
}
