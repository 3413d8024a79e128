// kind → options schema + factory. The only file that imports backends:
// adding one is a folder, a line here and a call to the conformance suite.
//
// Secrets and files are resolved by the configuration loader, before any
// factory runs, so that `patronym` reports every missing one in one pass
// (src/config/resources.ts): a kind's `{ env }` / `{ file }` secrets reach
// `create` as plain strings without any code here; a kind naming files
// (certificates, a patron file) adds `resources`, which reads them through
// the context (problems are collected, not thrown) and returns the options
// with the contents in place. `create` then reads nothing from disk or the
// environment.
import type { z } from 'zod';
import type { AuthenticatorKinds, ResolvedAuthenticator } from '../config/config.ts';
import type { ResourceContext } from '../config/resources.ts';
import { PatronymError } from '../errors.ts';
import { AlmaAuthenticator, almaOptionsSchema } from './alma/alma-authenticator.ts';
import type { Authenticator, AuthenticatorContext } from './authenticator.ts';
import { FileAuthenticator } from './file/file-authenticator.ts';
import { fileOptionsSchema, fileResources } from './file/options.ts';
import { FolioAuthenticator, folioOptionsSchema } from './folio/folio-authenticator.ts';
import { httpResources } from './http/resources.ts';
import { KohaAuthenticator, kohaOptionsSchema } from './koha/koha-authenticator.ts';
import { LdapAuthenticator } from './ldap/ldap-authenticator.ts';
import { ldapOptionsSchema, ldapResources } from './ldap/options.ts';
import { PolarisAuthenticator, polarisOptionsSchema } from './polaris/polaris-authenticator.ts';
import { SierraAuthenticator, sierraOptionsSchema } from './sierra/sierra-authenticator.ts';
import { sip2Resources } from './sip2/resources.ts';
import { Sip2Authenticator, sip2OptionsSchema } from './sip2/sip2-authenticator.ts';

interface Kind<S extends z.ZodType> {
  options: S;
  resources?(options: z.infer<S>, context: ResourceContext): z.infer<S>;
  create(id: string, options: z.infer<S>, context: AuthenticatorContext): Authenticator;
}

const kind = <S extends z.ZodType>(k: Kind<S>): Kind<S> => k;

const KINDS = {
  file: kind({
    options: fileOptionsSchema,
    resources: fileResources,
    create: (id, o, c) => new FileAuthenticator(id, o, c),
  }),
  ldap: kind({
    options: ldapOptionsSchema,
    resources: ldapResources,
    create: (id, o, c) => new LdapAuthenticator(id, o, c),
  }),
  sip2: kind({
    options: sip2OptionsSchema,
    resources: sip2Resources,
    create: (id, o, c) => new Sip2Authenticator(id, o, c),
  }),
  koha: kind({
    options: kohaOptionsSchema,
    resources: httpResources,
    create: (id, o, c) => new KohaAuthenticator(id, o, c),
  }),
  sierra: kind({
    options: sierraOptionsSchema,
    resources: httpResources,
    create: (id, o, c) => new SierraAuthenticator(id, o, c),
  }),
  polaris: kind({
    options: polarisOptionsSchema,
    resources: httpResources,
    create: (id, o, c) => new PolarisAuthenticator(id, o, c),
  }),
  folio: kind({
    options: folioOptionsSchema,
    resources: httpResources,
    create: (id, o, c) => new FolioAuthenticator(id, o, c),
  }),
  alma: kind({
    options: almaOptionsSchema,
    resources: httpResources,
    create: (id, o, c) => new AlmaAuthenticator(id, o, c),
  }),
} satisfies Record<string, Kind<z.ZodType>>;

export const authenticatorKinds: AuthenticatorKinds = Object.fromEntries(
  Object.entries(KINDS as Record<string, Kind<z.ZodType>>).map(([name, k]) => [
    name,
    // Each hook takes its own kind's options, which the loader has parsed
    // with that kind's schema: the cast only forgets which kind.
    k.resources ? { options: k.options, resources: k.resources as never } : { options: k.options },
  ]),
);

export function createAuthenticator(entry: ResolvedAuthenticator, context: AuthenticatorContext): Authenticator {
  const k = (KINDS as Record<string, Kind<z.ZodType>>)[entry.kind];
  if (!k) throw new PatronymError('config_invalid', `auth: unknown authenticator kind "${entry.kind}"`);
  return k.create(entry.id, k.options.parse(entry.options), context);
}
