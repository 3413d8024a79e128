// Options of the `sierra` authenticator (Sierra REST API v6). Every key is
// documented beside its default; the reference is generated from these.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { httpOptionsShape, httpsUnlessAllowed } from '../http/options.ts';

export const sierraOptionsSchema = z
  .strictObject({
    ...httpOptionsShape,
    baseUrl: httpOptionsShape.baseUrl.describe(
      'the API root up to the version, e.g. `https://catalog.example.org/iii/sierra-api`; https unless `allowHttp`',
    ),
    clientKey: z
      .string()
      .min(1)
      .describe('the API client key (Sierra Admin App, API keys) with the Patrons Read and Patrons Validate roles'),
    clientSecret: secretSchema.describe('its secret; `{ env: NAME }` or `{ file: path }` in production'),
    blockCodes: z
      .array(z.string().min(1).max(5))
      .optional()
      .describe('manual block codes (`blockInfo.code`) that refuse a sign-in; default: every code but "-" (none)'),
  })
  .superRefine(httpsUnlessAllowed);

export type SierraOptions = z.infer<typeof sierraOptionsSchema>;
