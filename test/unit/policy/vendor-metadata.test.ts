// The library's rules for what a vendor registers, as tables.
import { describe, expect, it } from 'vitest';
import { impersonatedLibrary, redirectUriProblem } from '../../../src/policy/vendor-metadata.ts';

describe('redirectUriProblem', () => {
  it.each([
    'https://vendor.example/cb',
    'https://vendor.example:8443/cb?x=1',
    'http://localhost:3001/callback',
    'http://vendor.localhost:4000/cb',
    'http://127.0.0.1:3002/callback',
    'http://127.8.9.10/cb',
    'http://[::1]:8080/cb',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeUndefined());

  it.each([
    ['http://vendor.example/cb', 'must use https (http only on the loopback)'],
    ['http://localhost.vendor.example/cb', 'must use https (http only on the loopback)'],
    ['http://127.0.0.1.nip.io/cb', 'must use https (http only on the loopback)'],
    ['http://[::ffff:127.0.0.1]/cb', 'must use https (http only on the loopback)'],
    ['http://10.0.0.1/cb', 'must use https (http only on the loopback)'],
    ['https://user:pw@vendor.example/cb', 'must not carry a user name or password'],
    ['https://:pw@vendor.example/cb', 'must not carry a user name or password'],
    ['http://user@localhost/cb', 'must not carry a user name or password'],
    ['https://vendor.example/cb#frag', 'must not have a fragment'],
    ['https://vendor.example/cb#', 'must not have a fragment'],
    ['javascript:alert(1)', 'must use https'],
    ['com.vendor.app:/cb', 'must use https'],
    ['not a url', 'is not a URL'],
  ])('refuses %s', (uri, why) => expect(redirectUriProblem(uri)).toBe(`"${uri}" ${why}`));
});

describe('impersonatedLibrary', () => {
  const libraries = [{ name: 'Springfield Public Library' }, { name: 'Bibliothèque de Montréal' }];
  it.each([
    ['Springfield Public Library', 'Springfield Public Library'],
    ['springfield public library (official)', 'Springfield Public Library'],
    ['SPRINGFIELD\tPUBLIC\u00a0LIBRARY e-books', 'Springfield Public Library'],
    ['Spring-field Públic Library', 'Springfield Public Library'],
    ['bibliotheque de montreal', 'Bibliothèque de Montréal'],
    ['ＳｐｒｉｎｇｆｉｅｌｄＰｕｂｌｉｃＬｉｂｒａｒｙ', 'Springfield Public Library'],
  ])('refuses %s', (name, library) => expect(impersonatedLibrary(name, libraries)).toBe(library));

  it.each(['Springfield E-books', 'Public Library Services Inc', 'Montreal Books'])('accepts %s', (name) =>
    expect(impersonatedLibrary(name, libraries)).toBeUndefined(),
  );
});
