// Options of the `alma` authenticator (Alma REST Users API). Every key is
// documented beside its default; the reference is generated from these.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { httpOptionsShape, httpsUnlessAllowed } from '../http/options.ts';

export const almaOptionsSchema = z
  .strictObject({
    ...httpOptionsShape,
    baseUrl: httpOptionsShape.baseUrl.describe(
      'the regional API gateway, e.g. `https://api-eu.hosted.exlibrisgroup.com`; https unless `allowHttp`',
    ),
    apiKey: secretSchema.describe(
      'an Alma API key with Users read/write (the auth operation is a POST); `{ env: NAME }` or `{ file: path }`',
    ),
  })
  .superRefine(httpsUnlessAllowed);

export type AlmaOptions = z.infer<typeof almaOptionsSchema>;
