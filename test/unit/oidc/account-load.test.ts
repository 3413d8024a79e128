// The token and userinfo endpoints put the pseudonym in what they answer,
// so they read the account and its pseudonym generations together
// (Store.findMany: one round trip to PostgreSQL instead of two), and the
// pseudonym is still the current one: after a reset, and after generations
// an older version kept in the account record were taken over.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Accounts } from '../../../src/oidc/account.ts';
import { GENERATION_MODEL } from '../../../src/pseudonym/generations.ts';
import { MemoryStore } from '../../../src/store/memory.ts';
import { login, type RunningBroker, startBroker, vendor } from '../../support/broker.ts';

const KEY = Buffer.alloc(32, 7);

describe('Accounts.load', () => {
  it('with generations: one read of both, and the snapshot needs no other', async () => {
    const store = new MemoryStore();
    const accounts = new Accounts(store, 86_400, KEY);
    await accounts.touch('acc', 'springfield', 'springfield');
    await accounts.resetPseudonym('acc', 'vendor.example');
    const find = vi.spyOn(store, 'find');
    const findMany = vi.spyOn(store, 'findMany');
    const known = await accounts.load('acc', { withGenerations: true });
    const snapshot = await known?.generations();
    expect(snapshot?.of('vendor.example')).toBe(1);
    expect(snapshot?.of('other.example')).toBe(0);
    expect(findMany).toHaveBeenCalledTimes(1);
    expect(findMany.mock.calls[0]?.[0].map((k) => k.model)).toEqual(['Account', GENERATION_MODEL]);
    expect(find).not.toHaveBeenCalled();
  });

  it('without: the account alone, the generations once and only when asked for', async () => {
    const store = new MemoryStore();
    const accounts = new Accounts(store, 86_400, KEY);
    await accounts.touch('acc', 'springfield', 'springfield');
    const find = vi.spyOn(store, 'find');
    const known = await accounts.load('acc');
    expect(find.mock.calls.map(([model]) => model)).toEqual(['Account']);
    await known?.generations();
    await known?.generations();
    expect(find.mock.calls.map(([model]) => model)).toEqual(['Account', GENERATION_MODEL]);
    expect(await accounts.load('missing', { withGenerations: true })).toBeUndefined();
  });

  it('generations taken over from an older account record count at once', async () => {
    const store = new MemoryStore();
    const accounts = new Accounts(store, 86_400, KEY);
    // As a version before durable generations wrote it: by plain sector.
    await store.upsert('Account', 'acc', {
      realm: 'springfield',
      library: 'springfield',
      generations: { 'vendor.example': 3 },
    });
    const known = await accounts.load('acc', { withGenerations: true });
    expect((await known?.generations())?.of('vendor.example')).toBe(3);
  });
});

describe('a sign-in reads the account with its generations where the pseudonym is made', () => {
  let b: RunningBroker;
  // The in-process store, whose findMany asks nothing of find (SQLite's
  // is made of finds): the calls seen are the account layer's.
  beforeAll(async () => {
    b = await startBroker({ config: { store: { kind: 'memory' } } });
  });
  afterAll(async () => {
    await b.stop();
  });

  it('at the token and userinfo endpoints: two combined reads, none of the generations alone', async () => {
    const v = await vendor(b.issuer, 'demo-vendor', 'demo-vendor-secret');
    await login(v, b.issuer, '21234000000001', '1234');
    const find = vi.spyOn(b.store, 'find');
    const findMany = vi.spyOn(b.store, 'findMany');
    const { tokens } = await login(v, b.issuer, '21234000000001', '1234');
    const sub = tokens.claims()?.sub ?? '';
    const info = await oidc.fetchUserInfo(v.config, tokens.access_token, sub);
    expect(info.sub).toBe(sub);
    expect(findMany.mock.calls.map(([keys]) => keys.map((k) => k.model))).toEqual([
      ['Account', GENERATION_MODEL],
      ['Account', GENERATION_MODEL],
    ]);
    expect(find.mock.calls.filter(([model]) => model === GENERATION_MODEL)).toEqual([]);
    find.mockRestore();
    findMany.mockRestore();
  });
});
