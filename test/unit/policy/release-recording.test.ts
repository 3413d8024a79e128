// src/policy/release-recording.ts at the token endpoint: the release log and
// the library's statistics are written for every code redeemed, and the
// patron's library comes from the account oidc-provider has just loaded for
// this request (issue 18: a store read less per sign-in), from the store
// only when that account is not the code's.
import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';
import type { Client } from '../../../src/config/config.ts';
import type { Library } from '../../../src/libraries/library.ts';
import { createLogger } from '../../../src/log.ts';
import { Consents } from '../../../src/policy/consent.ts';
import { ReleaseLog } from '../../../src/policy/release-log.ts';
import { recordReleases } from '../../../src/policy/release-recording.ts';
import { VendorPolicies } from '../../../src/policy/vendors.ts';
import { MemoryStore } from '../../../src/store/memory.ts';

const accountId = 'account-1';

function setup() {
  const store = new MemoryStore();
  const reads: string[] = [];
  const accounts = {
    async get(id: string) {
      reads.push(id);
      return { library: 'springfield' };
    },
  };
  const library = { id: 'springfield', retention: { releaseLog: 30 } } as unknown as Library;
  const releaseLog = new ReleaseLog(store);
  const recorded: string[] = [];
  const middleware = recordReleases({
    accounts,
    libraries: new Map([['springfield', library]]),
    consents: new Consents(store),
    policies: new VendorPolicies([{ client_id: 'vendor', release: [], walkIn: false } as unknown as Client]),
    releaseLog,
    retentionDays: 90,
    stats: {
      record: async (libraryId: string, vendor: string) => void recorded.push(`${libraryId} ${vendor}`),
    } as never,
    log: createLogger('silent'),
  });
  // The context oidc-provider leaves after answering a token request.
  const tokenRequest = (account: unknown) =>
    ({
      status: 200,
      oidc: {
        route: 'token',
        client: { clientId: 'vendor' },
        entities: { AuthorizationCode: { accountId, scope: 'openid' }, Account: account },
      },
    }) as unknown as Context;
  return { middleware, reads, recorded, releaseLog, tokenRequest, store };
}

describe('release recording', () => {
  it('takes the library from the account oidc-provider loaded for the request', async () => {
    const s = setup();
    await s.middleware(s.tokenRequest({ accountId, record: { realm: 'r', library: 'springfield' } }), async () => {});
    expect(s.reads).toEqual([]);
    expect(s.recorded).toEqual(['springfield vendor']);
    expect(Object.keys(await s.releaseLog.list(accountId))).toEqual(['vendor']);
    await s.store.close();
  });

  it('asks the store when the loaded account is another one, or none', async () => {
    const s = setup();
    await s.middleware(s.tokenRequest({ accountId: 'someone-else', record: { library: 'elsewhere' } }), async () => {});
    await s.middleware(s.tokenRequest(undefined), async () => {});
    expect(s.reads).toEqual([accountId, accountId]);
    expect(s.recorded).toEqual(['springfield vendor', 'springfield vendor']);
    expect(Object.keys(await s.releaseLog.list(accountId))).toEqual(['vendor']);
    await s.store.close();
  });
});
