// Options every ILS REST authenticator shares. Each kind's schema spreads
// `httpOptionsShape` and applies `httpsUnlessAllowed`; every key is
// documented beside its default (the configuration reference is generated
// from these descriptions).
import { z } from 'zod';

export const httpOptionsShape = {
  baseUrl: z
    .url()
    .describe('the API base URL, e.g. `https://koha.example.org`; https unless `allowHttp` (the PIN travels in it)'),
  allowHttp: z
    .boolean()
    .default(false)
    .describe('accept an `http:` base URL: only for an API on the same host or a test simulator'),
  timeout: z
    .number()
    .positive()
    .max(60)
    .default(5)
    .describe(
      'seconds the ILS may take to accept a connection, to start answering and between parts of an answer (a request queued for a pooled connection gets 3 × this in all); then it counts as not answering',
    ),
  poolSize: z.number().int().min(1).max(64).default(4).describe('connections kept open to the API per broker process'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(3)
    .default(1)
    .describe('extra attempts for idempotent lookups only (never for a PIN check) after a timeout, 5xx or reset'),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional().describe('PEM file with the CA(s) of the API certificate; default: system CAs'),
      rejectUnauthorized: z
        .boolean()
        .default(true)
        .describe('verify the certificate and host name; `false` only for tests'),
    })
    .optional()
    .describe('TLS settings for an https base URL'),
};

export interface HttpOptions {
  baseUrl: string;
  allowHttp: boolean;
  timeout: number;
  poolSize: number;
  retries: number;
  tls?: { ca?: string | undefined; rejectUnauthorized: boolean } | undefined;
}

// A PIN must not cross the network in clear because of a typo in the URL.
export const httpsUnlessAllowed = (o: { baseUrl: string; allowHttp: boolean }, ctx: z.RefinementCtx): void => {
  const protocol = new URL(o.baseUrl).protocol;
  if (protocol === 'https:' || (protocol === 'http:' && o.allowHttp)) return;
  ctx.addIssue({
    code: 'custom',
    path: ['baseUrl'],
    message:
      protocol === 'http:'
        ? `an https URL (found "${o.baseUrl}"; set allowHttp: true only for an API on the same host)`
        : `an https URL (found "${o.baseUrl}")`,
  });
};
