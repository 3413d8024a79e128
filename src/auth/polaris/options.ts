// Options of the `polaris` authenticator (Polaris PAPI, public methods).
// Every key is documented beside its default; the reference is generated.
import { z } from 'zod';
import { secretSchema } from '../../config/schema.ts';
import { httpOptionsShape, httpsUnlessAllowed } from '../http/options.ts';

export const polarisOptionsSchema = z
  .strictObject({
    ...httpOptionsShape,
    baseUrl: httpOptionsShape.baseUrl.describe(
      'the public PAPI root with language, application and organisation, e.g. `https://polaris.example.org/PAPIService/REST/public/v1/1033/100/1`; https unless `allowHttp`',
    ),
    accessId: z.string().min(1).describe('the PAPI access ID (System Administration, PAPI keys)'),
    accessKey: secretSchema.describe('the PAPI access key that signs requests; `{ env: NAME }` or `{ file: path }`'),
    blockWhenCannotCirculate: z
      .boolean()
      .default(true)
      .describe('refuse a patron whose circulation blocks say `CanPatronCirculate: false` (as `blocked`)'),
  })
  .superRefine(httpsUnlessAllowed);

export type PolarisOptions = z.infer<typeof polarisOptionsSchema>;
