/**
 * Turns a caller's command into argv. No shell ever runs: a string is split by POSIX
 * quoting rules only (shell-quote), `$VAR` stays literal text, and shell operators are
 * refused rather than silently becoming arguments the caller did not mean.
 */
import { parse } from 'shell-quote';
import { invalidInput } from './errors.js';

export function toArgv(command: string | string[] | undefined, field: string): string[] | undefined {
  if (command === undefined) return undefined;
  if (Array.isArray(command)) {
    command.forEach((arg, i) => {
      if (arg.includes('\0')) throw invalidInput(`${field}[${i}]`, `${field}[${i}] contains a NUL byte`);
    });
    return command;
  }
  if (command.includes('\0')) throw invalidInput(field, `${field} contains a NUL byte`);
  // MCP clients (and the Inspector's CLI) often send an array as its JSON text; run as
  // shell words it would become one argv word like `[sh,-c,echo hi]`.
  const encoded = jsonArray(command, field);
  if (encoded) return toArgv(encoded, field);
  // Keeping `$NAME` as written: expansion would need a shell's environment, which there is none of.
  const tokens = parse(command, (name) => `$${name}`);
  const argv = tokens.map((token) => {
    if (typeof token === 'string') return token;
    if ('op' in token && token.op === 'glob') return token.pattern; // no shell, so no globbing either
    const text = 'op' in token ? token.op : '#';
    throw invalidInput(field, `${field} contains the shell operator "${text}"; no shell runs: pass an argv array, or quote it`);
  });
  if (argv.length === 0) throw invalidInput(field, `${field} is empty`);
  return argv;
}

/**
 * `'["sh","-c","echo hi"]'` as the array it spells; undefined for ordinary text (even
 * `[ -f x ]`, the test command); refused, saying to send an array, when it looks like
 * JSON but is not an array of strings.
 */
function jsonArray(text: string, field: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    if (!/^\[\s*("|\])/.test(trimmed)) return undefined;
  }
  if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((arg) => typeof arg === 'string')) return parsed;
  throw invalidInput(field, `${field} looks like a JSON array but is not one of strings; send ${field} as an array, e.g. ["sh", "-c", "echo hi"]`);
}
