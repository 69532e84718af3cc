/** The MCP twin of GET /v1/languages. */
import { LanguageList, ListLanguagesInput } from '../../schemas/languages.js';
import type { SlipwayTool } from './tools.js';

export function languageTools(): SlipwayTool[] {
  return [
    {
      name: 'list_languages',
      scope: 'read',
      title: 'List languages',
      description:
        'List the languages execute_with_payload accepts as `language` on this server, each with the image it runs in, the file name a ' +
        'single `payload` is written to, and the command that runs it. Cheap and read-only.',
      input: ListLanguagesInput,
      output: LanguageList,
      annotations: { title: 'List languages', readOnlyHint: true, openWorldHint: false },
      async call(_input, { slipway }) {
        const result = slipway.languages();
        return { structured: result, text: result.languages.map((l) => `${l.name}: ${l.image}, ${l.file}, ${l.command.join(' ')}`).join('\n') };
      },
    },
  ];
}
