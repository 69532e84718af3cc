import t from 'tap';
import { Type } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { ContainerRunInput } from '../../schemas/container-run.js';
import { PayloadRunInput } from '../../schemas/payload-run.js';
import { assertValid, describe, fieldOf, isDateTime, queryAjv } from '../../schemas/validator.js';
import { ListRunsInput } from '../../schemas/runs.js';

const error = (instancePath: string, keyword: string, params: Record<string, unknown> = {}, message?: string): ErrorObject =>
  ({ instancePath, keyword, params, schemaPath: '#', ...(message ? { message } : {}) }) as ErrorObject;

const invalid = (field: string, message: string | RegExp) => ({ code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field, message });

t.test('fieldOf turns JSON pointers into field paths', async (t) => {
  t.equal(fieldOf(error('', 'type')), '');
  t.equal(fieldOf(error('/image', 'pattern')), 'image');
  t.equal(fieldOf(error('/files/1/path', 'type')), 'files[1].path');
  t.equal(fieldOf(error('/files/12', 'required', { missingProperty: 'content' })), 'files[12].content');
  t.equal(fieldOf(error('', 'additionalProperties', { additionalProperty: 'privileged' })), 'privileged');
  t.equal(fieldOf(error('/a/0/1/b', 'type')), 'a[0][1].b', 'nested arrays');
  t.equal(fieldOf(error('/environment/A~1B~0C', 'type')), 'environment.A/B~C', 'pointer escapes are undone');
});

t.test('describe says what is wrong with which field', async (t) => {
  t.equal(describe(error('', 'additionalProperties', { additionalProperty: 'binds' })), 'binds is not an accepted field');
  t.equal(describe(error('/files/0', 'required', { missingProperty: 'path' })), 'files[0].path is required');
  t.equal(describe(error('/image', 'pattern', { pattern: '^x$' }, 'must match pattern "^x$"')), 'image has an invalid format', 'the pattern is not echoed');
  t.equal(describe(error('/timeout', 'maximum', {}, 'must be <= 86400')), 'timeout must be <= 86400');
  t.equal(describe(error('', 'type', {}, 'must be object')), 'body must be object');
  t.equal(describe(error('/x', 'type')), 'x is invalid');
});

t.test('assertValid: unknown fields are refused, never dropped', async (t) => {
  for (const extra of ['privileged', 'binds', 'host_config', 'cap_add', 'network']) {
    t.throws(() => assertValid(ContainerRunInput, { image: 'python', [extra]: true }), invalid(extra, `${extra} is not an accepted field`));
  }
  t.throws(() => assertValid(PayloadRunInput, { language: 'python', files: [{ path: 'a', content: '', owner: 0 }] }), invalid('files[0].owner', 'files[0].owner is not an accepted field'));
});

t.test('assertValid: required and nested fields are named by their path', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, {}), invalid('image', 'image is required'));
  t.throws(() => assertValid(PayloadRunInput, { files: [{ path: 'a', content: '' }, { content: 'x' }] }), invalid('files[1].path', 'files[1].path is required'));
  t.throws(() => assertValid(PayloadRunInput, { files: [{ path: 'a', content: '', mode: 0o1000 }] }), invalid('files[0].mode', 'files[0].mode must be <= 511'));
  t.throws(() => assertValid(PayloadRunInput, { files: [] }), invalid('files', /^files must NOT have fewer than 1 items$/));
  t.throws(() => assertValid(ContainerRunInput, { image: 'Bad Image' }), invalid('image', 'image is not an image reference: it contains spaces, quotes or shell characters'));
  t.throws(() => assertValid(ContainerRunInput, []), invalid('body', 'body must be object'));
});

t.test('environment names must be identifiers; values strings', async (t) => {
  t.strictSame(assertValid(ContainerRunInput, { image: 'x', environment: { _A1: '', b: 'x=y' } }), { image: 'x', environment: { _A1: '', b: 'x=y' } });
  for (const name of ['1X', 'A-B', 'A B', 'LD_PRELOAD=x', 'Ä', '']) {
    t.throws(() => assertValid(ContainerRunInput, { image: 'x', environment: { [name]: 'v' } }), invalid(`environment.${name}`, `environment.${name} is not an accepted field`), JSON.stringify(name));
  }
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', environment: { A: 1 } }), invalid('environment.A', 'environment.A must be string'));
});

t.test('an all-digit environment name is a key, not an array index', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', environment: { 123: 'v' } }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'environment.123' });
});

t.test('no type coercion on bodies; defaults are filled in', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', cpu_limit: '1' }), invalid('cpu_limit', 'cpu_limit must be number'));
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', read_only: 'false' }), invalid('read_only', 'read_only must be boolean'));
  const schema = Type.Object({ n: Type.Number({ default: 3 }), s: Type.Optional(Type.String()) });
  const data: Record<string, unknown> = {};
  t.equal(assertValid(schema, data), data, 'the same object comes back');
  t.strictSame(data, { n: 3 });
});

t.test('the query validator coerces text', async (t) => {
  const validate = queryAjv.compile(Type.Object({ all: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer()) }));
  const query: Record<string, unknown> = { all: 'true', limit: '5' };
  t.equal(validate(query), true);
  t.strictSame(query, { all: true, limit: 5 });
  t.equal(validate({ all: 'maybe' }), false);
});

t.test('limits that would round to no limit are refused by the schema, naming the field and the accepted range', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', cpu_limit: 0.0000001 }), invalid('cpu_limit', 'cpu_limit must be >= 0.01'));
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', timeout: 0.0000001 }), invalid('timeout', 'timeout must be >= 0.001'));
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', pids_limit: 0 }), invalid('pids_limit', 'pids_limit must be >= 1'));
  t.ok(assertValid(ContainerRunInput, { image: 'x', cpu_limit: 0.01, timeout: 0.001, pids_limit: 1, memory_limit: '6m' }));
});

t.test('date-time fields accept real RFC 3339 times only, naming the field', async (t) => {
  for (const ok of ['2026-01-31T12:00:00Z', '2024-02-29T23:59:59.123+02:00', '2026-11-30T00:00:00-05:30', '0000-02-29T00:00:00Z']) t.ok(isDateTime(ok), ok);
  for (const bad of ['yesterday', '2026-13-45T00:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01', '2026-01-01T00:00:00', '2026-01-01T00:00:00+25:00', '']) {
    t.notOk(isDateTime(bad), bad);
    t.throws(() => assertValid(ListRunsInput, { since: bad }), invalid('since', 'since must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z'), bad);
  }
  const validate = queryAjv.compile(ListRunsInput);
  t.notOk(validate({ until: '2026-13-45T00:00:00Z' }), 'the query validator checks it too');
});

t.test('a choice among values says which values are accepted and what was sent', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', network_mode: 'host' }), invalid('network_mode', 'network_mode must be one of none, bridge (got "host")'));
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', pull_policy: 'sometimes' }), invalid('pull_policy', 'pull_policy must be one of missing, always, never (got "sometimes")'));
});

t.test('a format error says what the format looks like', async (t) => {
  t.throws(() => assertValid(ContainerRunInput, { image: 'x', memory_limit: 'lots' }), invalid('memory_limit', /^memory_limit must look like 512m or 1g/));
  t.throws(() => assertValid(ContainerRunInput, { image: 'MyTeam/Tool:1' }), invalid('image', 'image is not an image reference: the repository "MyTeam" must be lower-case'));
  t.throws(() => assertValid(ContainerRunInput, { image: 'python:3.12+slim' }), invalid('image', /^image is not an image reference: the tag "3\.12\+slim" may hold letters, digits/));
  t.throws(() => assertValid(ContainerRunInput, { image: `x/${'a'.repeat(300)}` }), invalid('image', /^image must NOT have more than 255 characters|^image is not an image reference: it is 302 characters long/));
});

t.test('a long value is quoted shortened', async (t) => {
  const long = 'x'.repeat(500);
  const e = (() => {
    try {
      assertValid(ContainerRunInput, { image: 'x', network_mode: long });
    } catch (err) {
      return err as Error;
    }
    return undefined;
  })();
  t.ok(e && e.message.length < 200, 'the message stays short');
});
