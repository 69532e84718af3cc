/** The language presets payload runs accept on this server. */
import { LanguageList, ListLanguagesInput } from '../schemas/languages.js';
import { operation } from './operation.js';

export const listLanguages = operation({
  name: 'list_languages',
  tool: 'list_languages',
  title: 'List languages',
  tag: 'runs',
  description: () =>
    'The languages execute_with_payload and create_sandbox accept as `language` on this server, each with its image, the file a ' +
    'single `payload` is written to, and the command that runs it. Read-only and cheap.',
  scope: 'read',
  rest: { method: 'GET', path: '/v1/languages', rest: 'query' },
  input: ListLanguagesInput,
  output: LanguageList,
  answer: 'The languages of payload runs.',
  errors: [],
  hints: () => ({ readOnly: true, openWorld: false }),
  reply: 'json',
  text: (result) => result.languages.map((l) => `${l.name}: ${l.image}, ${l.file}, ${l.command.join(' ')}`).join('\n'),
  call: async (_input, { slipway }) => slipway.languages(),
});
