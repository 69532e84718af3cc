/** The language presets this server offers for payload runs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorReplies } from '../schemas/error-reply.js';
import { LanguageList } from '../schemas/languages.js';

const languageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/languages',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'List the languages of payload runs (list_languages)',
        description: 'Each `name` is a value of `language` in POST /v1/payloads/run, with the image, file name and command it stands for.',
        response: { 200: LanguageList, ...errorReplies },
      },
    },
    async () => app.slipway.languages(),
  );
};

export default languageRoutes;
