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
