// grantLifetime and lengthen on oidc-provider's own Grant (not a stand-in):
// the bound without offline_access, the cap, and offline_access never below
// the lifetime every grant had before.
import Provider from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { grantLifetime, lengthen } from '../../../src/oidc/grants.ts';

const { Grant } = new Provider('http://127.0.0.1:1', {});
const HOUR = 3600;
const DEFAULTS = {
  session: 8 * HOUR,
  sharedSession: HOUR,
  accessToken: HOUR,
  idToken: HOUR,
  authorizationCode: 60,
  refreshToken: 14 * 24 * HOUR,
  grant: 14 * 24 * HOUR,
};

const grantWith = (scope: string) => {
  const grant = new Grant({ clientId: 'demo-vendor', accountId: 'a' });
  grant.addOIDCScope(scope);
  return grant;
};

describe('grantLifetime', () => {
  it('without offline_access: the session plus the longest token issued at its end', () => {
    expect(grantLifetime(DEFAULTS, grantWith('openid'))).toBe(9 * HOUR);
    expect(grantLifetime({ ...DEFAULTS, idToken: 2 * HOUR }, grantWith('openid'))).toBe(10 * HOUR);
    // a shared-computer session configured longer than the ordinary one
    expect(grantLifetime({ ...DEFAULTS, sharedSession: 12 * HOUR }, grantWith('openid'))).toBe(13 * HOUR);
  });

  it('ttl.grant caps a grant without offline_access', () => {
    expect(grantLifetime({ ...DEFAULTS, grant: 2 * HOUR }, grantWith('openid'))).toBe(2 * HOUR);
  });

  it('with offline_access: the longer of refreshToken and ttl.grant', () => {
    expect(grantLifetime(DEFAULTS, grantWith('openid offline_access'))).toBe(14 * 24 * HOUR);
    expect(grantLifetime({ ...DEFAULTS, refreshToken: 30 * 24 * HOUR }, grantWith('openid offline_access'))).toBe(
      30 * 24 * HOUR,
    );
    expect(grantLifetime({ ...DEFAULTS, refreshToken: HOUR }, grantWith('openid offline_access'))).toBe(14 * 24 * HOUR);
  });
});

describe('lengthen', () => {
  it('moves a saved short grant’s expiry out when it gains offline_access, never in', () => {
    const now = 1_000_000;
    const grant = grantWith('openid');
    grant.exp = now + 9 * HOUR;
    lengthen(grant, DEFAULTS, now);
    expect(grant.exp).toBe(now + 9 * HOUR);
    grant.addOIDCScope('offline_access');
    lengthen(grant, DEFAULTS, now + HOUR);
    expect(grant.exp).toBe(now + HOUR + 14 * 24 * HOUR);
    lengthen(grant, { ...DEFAULTS, refreshToken: HOUR, grant: HOUR }, now + 2 * HOUR);
    expect(grant.exp).toBe(now + HOUR + 14 * 24 * HOUR);
  });

  it('leaves an unsaved grant to the ttl function', () => {
    const grant = grantWith('openid offline_access');
    lengthen(grant, DEFAULTS);
    expect(grant.exp).toBeUndefined();
  });
});
