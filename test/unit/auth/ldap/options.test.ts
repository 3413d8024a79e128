import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ldapOptionsSchema, searchOf } from '../../../../src/auth/ldap/options.ts';
import { authenticatorKinds } from '../../../../src/auth/registry.ts';
import { ConfigError, parseConfig } from '../../../../src/config/load.ts';

const SEARCH = {
  urls: ['ldaps://ldap.library.org'],
  bindDn: 'cn=patronym,ou=services,dc=library,dc=org',
  bindPassword: { env: 'LDAP_PASSWORD' },
  baseDn: 'ou=patrons,dc=library,dc=org',
  filter: '(|(uid={card})(employeeNumber={card}))',
};

function problems(options: Record<string, unknown>): string[] {
  const result = ldapOptionsSchema.safeParse(options);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('ldap options', () => {
  it('fills documented defaults, and parsing twice changes nothing (the registry parses again)', () => {
    const once = ldapOptionsSchema.parse(SEARCH);
    expect(once).toMatchObject({
      mode: 'search',
      scope: 'sub',
      stableIdAttribute: 'entryUUID',
      attributes: [],
      tls: { rejectUnauthorized: true, startTls: false },
      allowInsecure: false,
      connectTimeout: 5,
      timeout: 10,
      poolSize: 4,
    });
    expect(ldapOptionsSchema.parse(once)).toEqual(once);
  });

  it('documents every key, nested ones too, in the JSON Schema the reference is generated from', () => {
    type Node = { description?: string; properties?: Record<string, Node> };
    const undocumented: string[] = [];
    const walk = (node: Node, path: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undocumented.push(`${path}${key}`);
        // Not into a secret's `{ env }` / `{ file }`: the shared secretSchema documents those.
        walk(child, `${path}${key}.`);
      }
    };
    const schema = z.toJSONSchema(ldapOptionsSchema, { io: 'input', unrepresentable: 'any' }) as Node;
    walk(schema, '');
    expect(Object.keys(schema.properties?.tls?.properties ?? {})).toContain('startTls');
    expect(undocumented).toEqual([]);
  });

  it.each([
    [{ ...SEARCH, urls: ['ldap://ldap.library.org'] }, /urls\.0: plain ldap:\/\/ sends PINs in clear/],
    [{ ...SEARCH, urls: ['ldaps://a', 'ldap://b'] }, /urls\.1: plain ldap:\/\//],
    [{ ...SEARCH, urls: ['ldaps://a'], tls: { startTls: true } }, /urls\.0: ldaps:\/\/ cannot also use StartTLS/],
    [{ ...SEARCH, urls: ['https://a'] }, /urls\.0: not an LDAP URL/],
    [{ ...SEARCH, urls: [] }, /urls: /],
    [{ ...SEARCH, baseDn: undefined }, /baseDn: required in search mode/],
    [{ ...SEARCH, filter: undefined }, /filter: required in search mode/],
    [{ ...SEARCH, filter: '(uid=x)' }, /filter: expected a filter containing \{card\}/],
    [{ ...SEARCH, filter: '(uid={card}' }, /filter: not a valid LDAP filter/],
    [{ ...SEARCH, filter: '({card}=1)' }, /filter: \{card\} may only stand in a value/],
    [{ ...SEARCH, eligibilityFilter: '(!(patronStatus=blocked)' }, /eligibilityFilter: not a valid LDAP filter/],
    [{ ...SEARCH, eligibilityFilter: '(uid={card})' }, /eligibilityFilter: \{card\} is not allowed here/],
    [{ ...SEARCH, bindPassword: undefined }, /bindPassword: bindDn and bindPassword go together/],
    [{ ...SEARCH, dnTemplate: 'uid={card},dc=x' }, /dnTemplate: only used in direct mode/],
    [{ urls: ['ldaps://a'], mode: 'direct' }, /dnTemplate: required in direct mode/],
    [{ urls: ['ldaps://a'], mode: 'direct', dnTemplate: 'uid=x,dc=x' }, /dnTemplate: expected \{card\}/],
    [
      { urls: ['ldaps://a'], mode: 'direct', dnTemplate: '{card}=x,dc=x' },
      /dnTemplate: \{card\} may only stand in an attribute value/,
    ],
    [
      { urls: ['ldaps://a'], mode: 'direct', dnTemplate: '{card}@library.org' },
      /filter: a bind name that is not a DN needs baseDn and filter/,
    ],
    [{ ...SEARCH, urls: ['ldaps://a/ou=p,dc=x?uid'] }, /urls: the search is given both in a URL and in baseDn\/filter/],
    [
      { ...SEARCH, baseDn: undefined, filter: undefined, urls: ['ldaps://a/ou=p,dc=x?uid', 'ldaps://b/ou=q,dc=x?uid'] },
      /urls: the URLs give different search parts/,
    ],
    [{ ...SEARCH, expiry: { attribute: 'patronExpires', format: 'unix' } }, /expiry\.format/],
    [{ ...SEARCH, attributes: ['mail', 'not an attribute'] }, /attributes\.1: an LDAP attribute name/],
    [{ ...SEARCH, connectTimeout: 0 }, /connectTimeout/],
    [{ ...SEARCH, stableIdAttribute: '' }, /stableIdAttribute/],
    [{ ...SEARCH, unknownKey: 1 }, /unrecognized key/i],
  ])('refuses %j', (options, expected) => {
    expect(problems(options as Record<string, unknown>).join('\n')).toMatch(expected);
  });

  it.each([
    [{ ...SEARCH, urls: ['ldap://127.0.0.1:3890'], allowInsecure: true }],
    [{ ...SEARCH, urls: ['ldap://ldap.library.org'], tls: { startTls: true, ca: '/etc/patronym/ca.pem' } }],
    [{ urls: ['ldaps://a'], mode: 'direct', dnTemplate: 'uid={card},ou=patrons,dc=library,dc=org' }],
    [
      {
        urls: ['ldaps://dc1', 'ldaps://dc2'],
        mode: 'direct',
        dnTemplate: '{card}@library.org',
        baseDn: 'dc=library,dc=org',
        filter: '(userPrincipalName={card}@library.org)',
      },
    ],
    [
      {
        ...SEARCH,
        eligibilityFilter: '(!(userAccountControl:1.2.840.113556.1.4.803:=2))',
        expiry: { attribute: 'accountExpires', format: 'filetime' },
      },
    ],
  ])('accepts %j', (options) => {
    expect(problems(options)).toEqual([]);
  });

  it('takes the search from an EZproxy-style URL', () => {
    const o = ldapOptionsSchema.parse({
      urls: [
        'ldaps://ldap1.library.org/ou=patrons,dc=library,dc=org?employeeNumber?one?(objectClass=inetOrgPerson)',
        'ldaps://ldap2.library.org/ou=patrons,dc=library,dc=org?employeeNumber?one?(objectClass=inetOrgPerson)',
      ],
    });
    expect(searchOf(o)).toEqual({
      baseDn: 'ou=patrons,dc=library,dc=org',
      scope: 'one',
      filter: '(&(objectClass=inetOrgPerson)(employeeNumber={card}))',
    });
  });

  it('reports every problem at once with dotted paths, hiding the password', () => {
    const config = {
      libraries: [
        {
          id: 'springfield',
          name: 'Springfield',
          authenticators: [
            {
              kind: 'ldap',
              urls: ['ldap://ldap.library.org'],
              bindDn: 'cn=svc',
              bindPassword: 'hunter2',
              filter: '(uid=x)',
              eligibilityFilter: '((',
            },
          ],
        },
      ],
    };
    let error: unknown;
    try {
      parseConfig(config, 'test', { kinds: authenticatorKinds, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const found = (error as ConfigError).problems.join('\n');
    expect(found).toMatch(/libraries\[0\]\.authenticators\[0\]\.urls\[0\]: plain ldap:\/\//);
    expect(found).toMatch(/libraries\[0\]\.authenticators\[0\]\.baseDn: required/);
    expect(found).toMatch(/libraries\[0\]\.authenticators\[0\]\.filter: expected a filter containing/);
    expect(found).toMatch(/libraries\[0\]\.authenticators\[0\]\.eligibilityFilter: not a valid LDAP filter/);
    expect(found).not.toContain('hunter2');
  });
});
