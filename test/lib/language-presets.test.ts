import t from 'tap';
import { IMAGE_REFERENCE_PATTERN } from '../../schemas/common.js';
import { DEFAULT_LANGUAGE_PRESETS, LANGUAGE_NAME_PATTERN, mergePresets } from '../../lib/language-presets.js';

const imagePattern = new RegExp(IMAGE_REFERENCE_PATTERN, 'u');

t.test('the built-in presets cover the languages a newcomer expects', async (t) => {
  for (const name of ['python', 'node', 'typescript', 'deno', 'bun', 'ruby', 'go', 'rust', 'java', 'php', 'perl', 'r', 'bash', 'sh']) {
    t.ok(Object.hasOwn(DEFAULT_LANGUAGE_PRESETS, name), name);
  }
});

t.test('every built-in preset is well-formed: a pinned image, a plain file name, a command that runs that file', async (t) => {
  for (const [name, preset] of Object.entries(DEFAULT_LANGUAGE_PRESETS)) {
    t.match(name, LANGUAGE_NAME_PATTERN, `${name}: a valid language name`);
    t.match(preset.image, imagePattern, `${name}: a valid image reference`);
    t.match(preset.image, /:[^/]+$/, `${name}: the image has a tag (never an implicit latest)`);
    t.match(preset.file, /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, `${name}: a file name, not a path`);
    t.ok(preset.command.length > 0 && preset.command.every((a) => typeof a === 'string' && a.length > 0), `${name}: an argv`);
    t.ok(preset.command.some((a) => a.split(/\s+/).includes(preset.file)), `${name}: the command names ${preset.file}`);
    // The root is read-only and /workspace is not writable: whatever a preset writes goes to /tmp.
    for (const value of Object.values(preset.env ?? {})) if (value.startsWith('/')) t.match(value, /^\/tmp(\/|$)/, `${name}: ${value} is under /tmp`);
    for (const arg of preset.command) for (const path of arg.match(/(?<![\w.])\/[\w/.-]+/g) ?? []) t.match(path, /^\/tmp\//, `${name}: ${path} written under /tmp`);
  }
});

t.test('configuration replaces fields of a known language and adds a new one', async (t) => {
  const merged = mergePresets({
    python: { image: 'registry.example.com/python:3' },
    awk: { image: 'busybox:1.36', file: 'main.awk', command: ['awk', '-f', 'main.awk'] },
  });
  t.same(merged.python, { ...DEFAULT_LANGUAGE_PRESETS.python, image: 'registry.example.com/python:3' });
  t.same(merged.awk, { image: 'busybox:1.36', file: 'main.awk', command: ['awk', '-f', 'main.awk'] });
  t.same(merged.node, DEFAULT_LANGUAGE_PRESETS.node, 'the others are left as they are');
});

t.test('a bad configured preset is refused with a message naming the setting, the language and what is accepted', async (t) => {
  const refusals: [unknown, RegExp][] = [
    [{ kotlin: { image: 'kotlin:2' } }, /^SLIPWAY_LANGUAGE_PRESETS\["kotlin"\]: a new language needs "image", "file" and "command"/],
    [{ python: { image: 'Bad Image' } }, /^SLIPWAY_LANGUAGE_PRESETS\["python"\]\.image must be an image reference/],
    [{ python: { command: 'python main.py' } }, /^SLIPWAY_LANGUAGE_PRESETS\["python"\]\.command must be a non-empty array of strings/],
    [{ python: { file: '../main.py' } }, /^SLIPWAY_LANGUAGE_PRESETS\["python"\]\.file must be a file name/],
    [{ python: { cmd: ['x'] } }, /"cmd" is not a preset field; accepted: image, file, command, env/],
    [{ Python: { image: 'python:3' } }, /a language name is lower-case/],
    [{ python: 'python:3' }, /must be an object/],
    [['python'], /must be a JSON object/],
  ];
  for (const [value, message] of refusals) t.throws(() => mergePresets(value as never), { message }, JSON.stringify(value));
});
