// kind → options schema + factory. The only file that imports backends:
// adding one is a folder, a line here and a call to the conformance suite.
import type { z } from 'zod';
import type { AuthenticatorKinds, ResolvedAuthenticator } from '../config/load.ts';
import { PatronymError } from '../errors.ts';
import type { Authenticator } from './authenticator.ts';
import { FileAuthenticator } from './file/file-authenticator.ts';
import { fileOptionsSchema } from './file/options.ts';
import { LdapAuthenticator } from './ldap/ldap-authenticator.ts';
import { ldapOptionsSchema } from './ldap/options.ts';
import { Sip2Authenticator, sip2OptionsSchema } from './sip2/sip2-authenticator.ts';

// What a backend may need from the broker besides its own options.
export interface AuthenticatorContext {
  pinPepper: Buffer;
  // For start-up warnings a sysadmin must see (e.g. "plain TCP, no TLS").
  // Never pass a card, PIN or anything read about a patron.
  warn: (message: string) => void;
  now?: () => number;
}

interface Kind<S extends z.ZodType> {
  options: S;
  create(id: string, options: z.infer<S>, context: AuthenticatorContext): Authenticator;
}

const kind = <S extends z.ZodType>(k: Kind<S>): Kind<S> => k;

const KINDS = {
  file: kind({ options: fileOptionsSchema, create: (id, o, c) => new FileAuthenticator(id, o, c) }),
  ldap: kind({ options: ldapOptionsSchema, create: (id, o, c) => new LdapAuthenticator(id, o, c) }),
  sip2: kind({ options: sip2OptionsSchema, create: (id, o, c) => new Sip2Authenticator(id, o, c) }),
} satisfies Record<string, Kind<z.ZodType>>;

export const authenticatorKinds: AuthenticatorKinds = Object.fromEntries(
  Object.entries(KINDS).map(([name, k]) => [name, k.options]),
);

export function createAuthenticator(entry: ResolvedAuthenticator, context: AuthenticatorContext): Authenticator {
  const k = (KINDS as Record<string, Kind<z.ZodType>>)[entry.kind];
  if (!k) throw new PatronymError('config_invalid', `auth: unknown authenticator kind "${entry.kind}"`);
  return k.create(entry.id, k.options.parse(entry.options), context);
}
