// `ldap` authenticator options. Every key is documented beside its default;
// combinations that cannot work are refused here, at start-up, each with
// its own dotted path.
import { z } from 'zod';
import { type ResourceContext, readPem } from '../../config/resources.ts';
import { secretSchema } from '../../config/schema.ts';
import { CARD_PLACEHOLDER } from './escape.ts';
import { filterProblem } from './filter-check.ts';
import { type LdapUrl, parseLdapUrl } from './ldap-url.ts';

// RFC 4512 section 1.4: an attribute description is a descriptor or an OID,
// optionally with options such as `;binary`.
const attributeName = z
  .string()
  .regex(/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)(;[A-Za-z0-9-]+)*$/, 'an LDAP attribute name');

const seconds = z.number().positive();

export const ldapOptionsSchema = z
  .strictObject({
    urls: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'directory servers, tried in this order (failover): `ldaps://host[:port]`, or `ldap://host[:port]` with `tls.startTls` ' +
          '(or `allowInsecure`). An EZproxy-style URL `ldaps://host/base?attr?sub?(filter)` also gives `baseDn` and `filter`',
      ),
    mode: z
      .enum(['search', 'direct'])
      .default('search')
      .describe(
        '`search`: bind as the service account, find the patron with `filter`, bind as that entry; `direct`: bind as `dnTemplate`',
      ),
    bindDn: z.string().min(1).optional().describe('service account DN; with `bindPassword`. Absent: anonymous search'),
    bindPassword: secretSchema.optional().describe('service account password'),
    baseDn: z.string().min(1).optional().describe('where patrons are searched for (search mode)'),
    scope: z.enum(['one', 'sub']).default('sub').describe('search scope under `baseDn`'),
    filter: z
      .string()
      .min(1)
      .optional()
      .describe(
        'search filter with a `{card}` placeholder (RFC 4515-escaped), e.g. `(|(uid={card})(employeeNumber={card}))`',
      ),
    dnTemplate: z
      .string()
      .min(1)
      .optional()
      .describe(
        'direct mode: the bind DN with a `{card}` placeholder (RFC 4514-escaped), e.g. `uid={card},ou=patrons,dc=library,dc=org`; ' +
          'or an Active Directory `{card}@library.org` (then `baseDn` and `filter` find the entry after the bind)',
      ),
    cardMatching: z
      .enum(['caseIgnoreMatch', 'caseExactMatch'])
      .default('caseIgnoreMatch')
      .describe(
        'the equality matching rule of the attribute the card is looked up in (`filter` or `dnTemplate`), as in the ' +
          "directory's schema: `caseIgnoreMatch` (uid, cn, employeeNumber and most others) or `caseExactMatch`. " +
          'Throttling counts every spelling the directory treats as one card as one card',
      ),
    stableIdAttribute: attributeName
      .default('entryUUID')
      .describe(
        "the patron's permanent key (kept when a card is replaced); the barcode attribute only if the library has nothing better",
      ),
    eligibilityFilter: z
      .string()
      .min(1)
      .optional()
      .describe(
        'an LDAP filter the entry must match, else `blocked`, e.g. `(!(patronStatus=blocked))`, `(memberOf=cn=patrons,ou=groups,dc=library,dc=org)` ' +
          'or for AD `(!(userAccountControl:1.2.840.113556.1.4.803:=2))`',
      ),
    expiry: z
      .strictObject({
        attribute: attributeName.describe('the attribute holding the expiry'),
        format: z
          .enum(['generalizedTime', 'date', 'filetime'])
          .default('generalizedTime')
          .describe(
            '`generalizedTime` (RFC 4517), `date` (YYYY-MM-DD, valid through that day, UTC) or `filetime` (AD accountExpires)',
          ),
      })
      .optional()
      .describe('an expiry attribute; a time in the past means `expired`'),
    attributes: z
      .array(attributeName)
      .default([])
      .describe('attributes read from the entry for later claims (never stored)'),
    tls: z
      .strictObject({
        ca: z
          .string()
          .min(1)
          .optional()
          .describe('CA certificate file (PEM) to verify servers with; default: the system CAs'),
        rejectUnauthorized: z
          .boolean()
          .default(true)
          .describe('verify the server certificate and host name; `false` only for tests'),
        startTls: z
          .boolean()
          .default(false)
          .describe('upgrade `ldap://` connections with StartTLS (RFC 4513 section 3)'),
        servername: z
          .string()
          .min(1)
          .optional()
          .describe('host name to verify the certificate against; default: the URL host'),
      })
      .default({ rejectUnauthorized: true, startTls: false })
      .describe('transport security'),
    allowInsecure: z
      .boolean()
      .default(false)
      .describe('allow `ldap://` without StartTLS: PINs cross the network in clear; loopback or test rigs only'),
    connectTimeout: seconds
      .max(60)
      .default(5)
      .describe('seconds to connect (and finish TLS) before trying the next URL'),
    timeout: seconds.max(120).default(10).describe('seconds any one LDAP operation may take'),
    poolSize: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('connections kept for patron binds (the service account has one more, shared)'),
  })
  .superRefine((o, ctx) => {
    const problem = (path: (string | number)[], message: string, input?: unknown) =>
      ctx.addIssue({ code: 'custom', path, message, input });

    const parsed: LdapUrl[] = [];
    o.urls.forEach((text, i) => {
      let url: LdapUrl;
      try {
        url = parseLdapUrl(text);
      } catch (error) {
        problem(['urls', i], (error as Error).message.replace(/^ldap: /, ''), text);
        return;
      }
      parsed.push(url);
      if (url.secure && o.tls.startTls)
        problem(['urls', i], 'ldaps:// cannot also use StartTLS; use one or the other', text);
      if (!url.secure && !o.tls.startTls && !o.allowInsecure) {
        problem(
          ['urls', i],
          'plain ldap:// sends PINs in clear; use ldaps://, set tls.startTls, or set allowInsecure: true',
          text,
        );
      }
    });

    const searches = parsed.flatMap((u) => (u.search ? [u.search] : []));
    const fromUrl = searches[0];
    if (searches.some((s) => JSON.stringify(s) !== JSON.stringify(fromUrl))) {
      problem(['urls'], 'the URLs give different search parts (base, attribute, scope, filter); give them once');
    }
    if (fromUrl && (o.baseDn !== undefined || o.filter !== undefined)) {
      problem(['urls'], 'the search is given both in a URL and in baseDn/filter; give it once');
    }
    const baseDn = o.baseDn ?? fromUrl?.baseDn;
    const filter = o.filter ?? fromUrl?.filter;

    if ((o.bindDn === undefined) !== (o.bindPassword === undefined)) {
      problem([o.bindDn === undefined ? 'bindDn' : 'bindPassword'], 'bindDn and bindPassword go together');
    }
    const upnTemplate = o.dnTemplate !== undefined && !o.dnTemplate.includes('=');
    if (o.mode === 'search') {
      if (baseDn === undefined) problem(['baseDn'], 'required in search mode (or an LDAP URL with a base DN)');
      if (filter === undefined) problem(['filter'], `required in search mode, with ${CARD_PLACEHOLDER}`);
      if (o.dnTemplate !== undefined) problem(['dnTemplate'], 'only used in direct mode');
    } else {
      if (o.dnTemplate === undefined) problem(['dnTemplate'], `required in direct mode, with ${CARD_PLACEHOLDER}`);
      else if (!o.dnTemplate.includes(CARD_PLACEHOLDER))
        problem(['dnTemplate'], `expected ${CARD_PLACEHOLDER}`, o.dnTemplate);
      else if (!upnTemplate && !cardInDnValues(o.dnTemplate)) {
        problem(['dnTemplate'], `${CARD_PLACEHOLDER} may only stand in an attribute value`, o.dnTemplate);
      }
      if (upnTemplate && (baseDn === undefined || filter === undefined)) {
        problem(['filter'], 'a bind name that is not a DN needs baseDn and filter to find the entry after the bind');
      }
    }
    if (filter !== undefined) {
      const p = filterProblem(filter, { needsCard: true });
      if (p) problem(o.filter === undefined ? ['urls'] : ['filter'], p, filter);
    }
    if (o.eligibilityFilter !== undefined) {
      const p = filterProblem(o.eligibilityFilter, { needsCard: false });
      if (p) problem(['eligibilityFilter'], p, o.eligibilityFilter);
    }
  });

export type LdapOptions = z.infer<typeof ldapOptionsSchema>;

// In each RDN (split at unescaped `,` or `+`), `{card}` must come after the `=`.
function cardInDnValues(template: string): boolean {
  return template.split(/(?<!\\)[,+]/).every((rdn) => {
    const card = rdn.indexOf(CARD_PLACEHOLDER);
    const equals = rdn.indexOf('=');
    return card < 0 || (equals >= 0 && equals < card);
  });
}

// The search to run: from baseDn/filter, or from an EZproxy-style URL.
export function searchOf(o: LdapOptions): { baseDn: string; filter: string; scope: 'one' | 'sub' } | undefined {
  const fromUrl = o.urls.map((u) => parseLdapUrl(u).search).find((s) => s !== undefined);
  const baseDn = o.baseDn ?? fromUrl?.baseDn;
  const filter = o.filter ?? fromUrl?.filter;
  if (baseDn === undefined || filter === undefined) return undefined;
  return { baseDn, filter, scope: o.baseDn !== undefined ? o.scope : (fromUrl?.scope ?? o.scope) };
}

// Read at load time (src/config/resources.ts): the CA file becomes its PEM
// text, which the authenticator takes as it is.
export function ldapResources(o: LdapOptions, context: ResourceContext): LdapOptions {
  if (o.tls.ca === undefined) return o;
  return { ...o, tls: { ...o.tls, ca: readPem(o.tls.ca, context, ['tls', 'ca'], 'a CA certificate (PEM)') } };
}
