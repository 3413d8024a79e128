// Options of the `koha` authenticator (Koha's REST API). Every key is
// documented beside its default; the reference is generated from these.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { httpOptionsShape, httpsUnlessAllowed } from '../http/options.ts';

export const kohaOptionsSchema = z
  .strictObject({
    ...httpOptionsShape,
    auth: z
      .union([
        z.strictObject({
          basic: z.strictObject({
            user: z.string().min(1).describe('the Koha staff user the broker acts as'),
            password: secretSchema.describe('its password; `{ env: NAME }` or `{ file: path }` in production'),
          }),
        }),
        z.strictObject({
          oauth: z.strictObject({
            clientId: z.string().min(1).describe('client id of an API key made for that staff user'),
            clientSecret: secretSchema.describe('its secret; `{ env: NAME }` or `{ file: path }` in production'),
          }),
        }),
      ])
      .describe(
        'how the broker signs in to the API: HTTP Basic (Koha system preference RESTBasicAuth) or OAuth2 client credentials (RESTOAuth2ClientCredentials); the user needs the `borrowers` permission',
      ),
    checkRecord: z
      .boolean()
      .default(true)
      .describe(
        'after a valid PIN, read the patron record: an `expiry_date` in the past is `expired`, `restricted` is `blocked`',
      ),
  })
  .superRefine(httpsUnlessAllowed);

export type KohaOptions = z.infer<typeof kohaOptionsSchema>;
