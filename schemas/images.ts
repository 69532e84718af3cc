import { Type, type Static } from '@sinclair/typebox';
import { ImageReference } from './common.js';

export const PullImageInput = Type.Object(
  { image: ImageReference },
  { additionalProperties: false },
);
export type PullImageInput = Static<typeof PullImageInput>;

export const PullImageResult = Type.Object(
  {
    success: Type.Boolean(),
    image: Type.String({ description: 'The reference pulled, with the tag made explicit.' }),
    image_id: Type.String(),
    digest: Type.Union([Type.String(), Type.Null()]),
    pull_time: Type.Number({ description: 'Seconds.' }),
  },
  { additionalProperties: false },
);
export type PullImageResult = Static<typeof PullImageResult>;
