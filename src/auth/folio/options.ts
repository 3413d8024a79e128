// Options of the `folio` authenticator (FOLIO through Okapi). Every key is
// documented beside its default; the reference is generated from these.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { httpOptionsShape, httpsUnlessAllowed } from '../http/options.ts';

export const folioOptionsSchema = z
  .strictObject({
    ...httpOptionsShape,
    baseUrl: httpOptionsShape.baseUrl.describe(
      'the Okapi (or gateway) URL, e.g. `https://okapi.example.org`; https unless `allowHttp`',
    ),
    tenant: z.string().min(1).describe('the FOLIO tenant id, sent as X-Okapi-Tenant'),
    username: z.string().min(1).describe('the FOLIO service user the broker logs in as'),
    password: secretSchema.describe('its password; `{ env: NAME }` or `{ file: path }` in production'),
  })
  .superRefine(httpsUnlessAllowed);

export type FolioOptions = z.infer<typeof folioOptionsSchema>;
