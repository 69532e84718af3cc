/** The language presets a server offers (GET /v1/languages, list_languages). */
import { Type, type Static } from '@sinclair/typebox';

export const LanguageInfo = Type.Object(
  {
    name: Type.String({ description: 'The value of `language` in a payload run.' }),
    image: Type.String(),
    file: Type.String({ description: 'The file name a single `payload` is written to.' }),
    command: Type.Array(Type.String(), { description: 'The argv run in /workspace.' }),
  },
  { additionalProperties: false },
);

export const LanguageList = Type.Object({ languages: Type.Array(LanguageInfo) }, { additionalProperties: false });
export type LanguageList = Static<typeof LanguageList>;

export const ListLanguagesInput = Type.Object({}, { additionalProperties: false, examples: [{}] });
