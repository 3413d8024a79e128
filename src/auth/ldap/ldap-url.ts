// LDAP URLs (RFC 4516 section 2): `ldap[s]://host[:port][/dn[?attrs[?scope[?filter[?exts]]]]]`.
// Servers are usually written bare; the long form is accepted because
// sysadmins coming from EZproxy paste their `ldaps://host/base?uid?sub?(filter)`
// line, where `attrs` names the attribute holding the card and `filter`
// narrows the search.

import { PatronymError } from '../../errors.ts';
import { CARD_PLACEHOLDER } from './escape.ts';

export interface LdapUrlSearch {
  baseDn: string;
  scope: 'one' | 'sub';
  // The search filter with its `{card}` placeholder, built from the URL.
  filter: string;
}

export interface LdapUrl {
  // `ldap://host:port`, without the search part: what we connect to and log.
  server: string;
  secure: boolean;
  host: string;
  port: number;
  search?: LdapUrlSearch;
}

const SHAPE = /^(ldaps?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#[\]@\s]+)(?::(\d{1,5}))?(?:\/([^#\s]*))?$/i;

function decode(part: string, what: string, text: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PatronymError('ldap_url_invalid', `ldap: bad percent-encoding in the ${what} of "${text}"`);
  }
}

export function parseLdapUrl(text: string): LdapUrl {
  const m = SHAPE.exec(text.trim());
  if (!m)
    throw new PatronymError(
      'ldap_url_invalid',
      `ldap: not an LDAP URL "${text}" (expected ldap://host[:port] or ldaps://host[:port])`,
    );
  const scheme = (m[1] as string).toLowerCase();
  const secure = scheme === 'ldaps';
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? (secure ? 636 : 389) : Number(m[3]);
  if (port < 1 || port > 65535) throw new PatronymError('ldap_url_invalid', `ldap: port out of range in "${text}"`);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url: LdapUrl = { server: `${scheme}://${hostPart.toLowerCase()}:${port}`, secure, host, port };
  const rest = m[4];
  if (rest === undefined || rest === '') return url;

  const [dn = '', attrs = '', scope = '', filter = '', extensions = ''] = rest.split('?');
  if (rest.split('?').length > 5) throw new PatronymError('ldap_url_invalid', `ldap: too many "?" parts in "${text}"`);
  if (extensions !== '')
    throw new PatronymError('ldap_url_invalid', `ldap: URL extensions are not supported in "${text}"`);
  const baseDn = decode(dn, 'DN', text);
  if (baseDn === '')
    throw new PatronymError('ldap_url_invalid', `ldap: the URL "${text}" has a search part but no base DN`);
  const attributes = decode(attrs, 'attributes', text)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (attributes.length > 1) {
    throw new PatronymError(
      'ldap_url_invalid',
      `ldap: the URL "${text}" names ${attributes.length} attributes; give the one attribute that holds the card`,
    );
  }
  const decodedScope = decode(scope, 'scope', text).toLowerCase() || 'sub';
  if (decodedScope !== 'one' && decodedScope !== 'sub') {
    throw new PatronymError(
      'ldap_url_invalid',
      `ldap: scope "${decodedScope}" in "${text}" cannot find patrons (expected one or sub)`,
    );
  }
  const attribute = attributes[0] ?? 'uid';
  const raw = decode(filter, 'filter', text).trim();
  // RFC 4516 filters are RFC 4515 strings, but bare `objectClass=person` is common.
  const extra = raw === '' || raw.startsWith('(') ? raw : `(${raw})`;
  // EZproxy's filter narrows a search on the card attribute; a filter that
  // already holds `{card}` is taken as written.
  const searchFilter = extra.includes(CARD_PLACEHOLDER)
    ? extra
    : extra === ''
      ? `(${attribute}=${CARD_PLACEHOLDER})`
      : `(&${extra}(${attribute}=${CARD_PLACEHOLDER}))`;
  url.search = { baseDn, scope: decodedScope, filter: searchFilter };
  return url;
}
