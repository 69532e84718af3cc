import { Type, type Static } from '@sinclair/typebox';
import { ImageReference } from './common.js';
import { Nullable } from './compact.js';

export const PullImageInput = Type.Object(
  { image: ImageReference },
  { additionalProperties: false, examples: [{ image: 'busybox:1.36' }] },
);
export type PullImageInput = Static<typeof PullImageInput>;

export const PullImageResult = Type.Object(
  {
    success: Type.Boolean(),
    image: Type.String({ description: 'The reference pulled, with the tag made explicit.' }),
    image_id: Type.String(),
    digest: Nullable(Type.String(), { description: 'The registry digest (`sha256:...`), when the registry gave one.' }),
    pull_time: Type.Number({ description: 'Seconds.' }),
  },
  { additionalProperties: false },
);
export type PullImageResult = Static<typeof PullImageResult>;
