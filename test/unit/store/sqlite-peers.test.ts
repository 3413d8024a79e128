// SQLite's write-behind across workers (issue 18): two handles on one file,
// each holding what it wrote, linked as cluster.ts links workers (here in
// one process, the question passed on at once). What one holds the other
// must find, consume once, revoke and forget; and neither ever reads an
// older copy from the file while the other holds a newer one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/registry.ts';
import { SqliteStore } from '../../../src/store/sqlite.ts';
import type { StorePeers } from '../../../src/store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function workers() {
  const path = join(dir, `peers-${n++}.sqlite`);
  type Answers = Parameters<StorePeers['answer']>;
  const held = new Map<number, { flushHeld: Answers[0]; writeHeld: Answers[1] }>();
  // Who asked, and what for.
  const asked: number[] = [];
  const questions: string[] = [];
  const others = (me: number) => [...held].filter(([w]) => w !== me).map(([, answers]) => answers);
  const peersOf = (me: number): StorePeers => ({
    flush: async () => {
      asked.push(me);
      questions.push('everything');
      await Promise.all(others(me).map((o) => o.flushHeld()));
    },
    fetch: async (model, wanted) => {
      asked.push(me);
      questions.push(`${model} ${'id' in wanted ? wanted.id : `uid ${wanted.uid}`}`);
      await Promise.all(others(me).map((o) => o.writeHeld(model, wanted)));
    },
    answer: (flushHeld, writeHeld) => held.set(me, { flushHeld, writeHeld }),
  });
  const open = (me: number) => openStore({ kind: 'sqlite', path }, { shared: true, peers: peersOf(me) }) as SqliteStore;
  const a = open(0);
  const b = open(1);
  // What a restart would read: only what was committed.
  const file = openStore({ kind: 'sqlite', path }, { shared: true });
  return { a, b, file, asked, questions, close: () => Promise.all([a.close(), b.close(), file.close()]) };
}

describe('sqlite write-behind across workers', () => {
  it('holds a new record until another worker looks for it, then that one finds it', async () => {
    const { a, b, file, asked, close } = workers();
    await a.upsert('AuthorizationCode', 'c1', { grantId: 'g1', accountId: 'acc' }, 60);
    expect(await file.find('AuthorizationCode', 'c1')).toBeUndefined();
    expect(await b.find('AuthorizationCode', 'c1')).toEqual({ grantId: 'g1', accountId: 'acc' });
    expect(asked).toEqual([1]);
    expect(await file.find('AuthorizationCode', 'c1')).toBeDefined();
    // Found where it is: nobody asked again.
    expect(await b.find('AuthorizationCode', 'c1')).toBeDefined();
    expect(await a.find('AuthorizationCode', 'c1')).toBeDefined();
    expect(asked).toEqual([1]);
    // A record nobody has: asked once, still nothing.
    expect(await b.find('AuthorizationCode', 'nope')).toBeUndefined();
    expect(asked).toEqual([1, 1]);
    // Patronym's own records are never held: a miss asks nobody.
    expect(await b.find('Account', 'nope')).toBeUndefined();
    expect(asked).toEqual([1, 1]);
    await close();
  });

  it('writes only the record another worker missed: the rest of a sign-in in progress stays held', async () => {
    const { a, b, file, questions, close } = workers();
    // A sign-in half-done at a: its interaction, session, grant and code.
    await a.upsert('Interaction', 'i1', { uid: 'u1' }, 600);
    await a.upsert('Session', 's1', { uid: 'u2', accountId: 'acc' }, 600);
    await a.upsert('Grant', 'g1', { accountId: 'acc' }, 600);
    await a.upsert('AuthorizationCode', 'c1', { grantId: 'g1', sessionUid: 'u2' }, 60);
    // The vendor redeems the code at b: b asks for the code, and gets with
    // it what the redemption reads next (its grant and session).
    expect(await b.consume('AuthorizationCode', 'c1')).toBe(true);
    expect(await b.find('Grant', 'g1')).toEqual({ accountId: 'acc' });
    expect(await b.findByUid('Session', 'u2')).toEqual({ uid: 'u2', accountId: 'acc' });
    expect(questions).toEqual(['AuthorizationCode c1']);
    // The interaction nobody asked for is still held at a, not in the file.
    expect(await file.find('Interaction', 'i1')).toBeUndefined();
    expect(await a.find('Interaction', 'i1')).toEqual({ uid: 'u1' });
    // What was asked for is in the file, and a writes its changes through.
    await a.upsert('Session', 's1', { uid: 'u2', accountId: 'acc', v: 2 }, 600);
    expect(await file.find('Session', 's1')).toEqual({ uid: 'u2', accountId: 'acc', v: 2 });
    expect(await a.consume('AuthorizationCode', 'c1')).toBe(false);
    // A token issued at b, read at a (userinfo on another connection): its
    // grant is in the file already, so one question.
    await b.upsert('AccessToken', 't1', { grantId: 'g1', accountId: 'acc' }, 600);
    expect(await a.find('AccessToken', 't1')).toEqual({ grantId: 'g1', accountId: 'acc' });
    expect(await a.find('Grant', 'g1')).toEqual({ accountId: 'acc' });
    expect(questions).toEqual(['AuthorizationCode c1', 'AccessToken t1']);
    // "Forget me" and lists still ask for everything.
    expect((await b.findByAccount('acc')).map((r) => r.id).sort()).toEqual(['g1', 's1', 't1']);
    expect(questions.at(-1)).toBe('everything');
    await close();
  });

  it('answers a question for a record in a write under way once that write committed', async () => {
    const { a, file, close } = workers();
    await a.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60);
    // The flush's statements run now; its COMMIT comes a turn later.
    const flushed = a.flushPending();
    await a.writeHeld('AuthorizationCode', { id: 'c1' });
    expect(await file.find('AuthorizationCode', 'c1')).toEqual({ grantId: 'g1' });
    await flushed;
    // Not held: answered at once, nothing written.
    await a.writeHeld('AuthorizationCode', { id: 'nope' });
    await a.writeHeld('Session', { uid: 'nope' });
    expect(await file.find('AuthorizationCode', 'nope')).toBeUndefined();
    await close();
  });

  it('redeems a code held by one worker exactly once when 200 redemptions arrive at both', async () => {
    const { a, b, close } = workers();
    await a.upsert('AuthorizationCode', 'c1', { grantId: 'g1' }, 60);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? b : a).consume('AuthorizationCode', 'c1')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    // And once redeemed at one worker, a replay at the other is caught.
    await b.upsert('AuthorizationCode', 'c2', { grantId: 'g2' }, 60);
    expect(await b.consume('AuthorizationCode', 'c2')).toBe(true);
    expect(await a.consume('AuthorizationCode', 'c2')).toBe(false);
    expect((await a.find('AuthorizationCode', 'c2'))?.consumed).toBeTypeOf('number');
    // Consumed at b without b having read it first (a's copy).
    await a.upsert('AuthorizationCode', 'c3', { grantId: 'g3' }, 60);
    expect(await b.consume('AuthorizationCode', 'c3')).toBe(true);
    expect(await a.consume('AuthorizationCode', 'c3')).toBe(false);
    await close();
  });

  it('writes a change to a record the file has at once, so no worker reads the older copy', async () => {
    const { a, b, file, close } = workers();
    await a.upsert('Session', 's1', { uid: 'u1', v: 1 }, 600);
    expect(await b.find('Session', 's1')).toEqual({ uid: 'u1', v: 1 });
    // The file has s1 now: a's change is written, not held.
    await a.upsert('Session', 's1', { uid: 'u1', v: 2 }, 600);
    expect(await file.find('Session', 's1')).toEqual({ uid: 'u1', v: 2 });
    expect(await b.find('Session', 's1')).toEqual({ uid: 'u1', v: 2 });
    await b.upsert('Session', 's1', { uid: 'u1', v: 3 }, 600);
    expect(await a.find('Session', 's1')).toEqual({ uid: 'u1', v: 3 });
    await close();
  });

  it('writes a change made while its record’s flush is written but not yet committed (no older copy left in the file)', async () => {
    const { a, b, file, close } = workers();
    await a.upsert('Session', 's1', { uid: 'u1', v: 1 }, 600);
    await a.update('Session', 's1', (p) => ({ ...p, v: 2 }), 600);
    // The flush's statements run now; its COMMIT comes a turn later.
    const flushed = a.flushPending();
    await a.upsert('Session', 's1', { uid: 'u1', v: 3 }, 600);
    await flushed;
    expect(await file.find('Session', 's1')).toEqual({ uid: 'u1', v: 3 });
    expect(await b.find('Session', 's1')).toEqual({ uid: 'u1', v: 3 });
    const again = a.flushPending();
    await a.update('Session', 's1', (p) => ({ ...p, v: 4 }), 600);
    await again;
    expect(await b.find('Session', 's1')).toEqual({ uid: 'u1', v: 4 });
    await close();
  });

  it('reads its own change, not the copy of a flush written but not yet committed', async () => {
    const { a, close } = workers();
    await a.upsert('Session', 's1', { uid: 'u1', v: 1 }, 600);
    await a.upsert('Grant', 'g1', { v: 1 }, 600);
    // The flush's statements run now; its COMMIT comes a turn later. The
    // changes below are written through (the file has both records now)
    // and read back before that COMMIT.
    const flushed = a.flushPending();
    const writes = [
      a.upsert('Session', 's1', { uid: 'u1', v: 2 }, 600),
      a.update('Grant', 'g1', () => ({ v: 2 }), 600),
    ];
    const read = await Promise.all([a.find('Session', 's1'), a.findByUid('Session', 'u1'), a.find('Grant', 'g1')]);
    expect(read).toEqual([{ uid: 'u1', v: 2 }, { uid: 'u1', v: 2 }, { v: 2 }]);
    await Promise.all([flushed, ...writes]);
    await close();
  });

  it('reads again a record another worker wrote between its miss and the check of the file', async () => {
    // The race of a real broker: the read misses, the other worker's timer
    // flush commits the record, then the check finds it in the file. Here
    // the "other worker" writes at the moment the check starts.
    const path = join(dir, `peers-${n++}.sqlite`);
    const other = new Database(path);
    let wrote = 0;
    const write = (model: string, id: string, payload: string) => {
      wrote++;
      other
        .prepare('INSERT INTO records (model, id, payload, expires_at) VALUES (?, ?, ?, ?)')
        .run(model, id, payload, Date.now() + 60_000);
    };
    const trace = (sql: string) => {
      if (sql.startsWith('SELECT 1 AS one') && sql.includes("'c1'"))
        write('AuthorizationCode', 'c1', '{"grantId":"g1"}');
      if (sql.startsWith('SELECT 1 AS one') && sql.includes("'c2'"))
        write('AuthorizationCode', 'c2', '{"grantId":"g2"}');
    };
    const peers: StorePeers = { flush: async () => {}, fetch: async () => {}, answer: () => {} };
    const store = new SqliteStore(path, { writeBehind: { peers }, trace });
    expect(await store.find('AuthorizationCode', 'c1')).toEqual({ grantId: 'g1' });
    expect(await store.consume('AuthorizationCode', 'c2')).toBe(true);
    expect(wrote).toBe(2);
    other.close();
    await store.close();
  });

  it('asks nobody for a record the file has, expired', async () => {
    let now = Date.now();
    const path = join(dir, `peers-${n++}.sqlite`);
    const asked: string[] = [];
    const peers: StorePeers = {
      flush: async () => {
        asked.push('flush');
      },
      fetch: async () => {
        asked.push('fetch');
      },
      answer: () => {},
    };
    const store = openStore({ kind: 'sqlite', path }, { shared: true, peers, now: () => now }) as SqliteStore;
    await store.upsert('Session', 's1', { uid: 'u1' }, 60);
    await store.flushPending();
    now += 120_000;
    expect(await store.find('Session', 's1')).toBeUndefined();
    expect(asked).toEqual([]);
    expect(await store.find('Session', 's2')).toBeUndefined();
    expect(asked).toEqual(['fetch']);
    await store.close();
  });

  it('finds by uid what another worker holds (an interaction started at one, continued at the other)', async () => {
    const { a, b, close } = workers();
    await a.upsert('Interaction', 'i1', { uid: 'u9' }, 600);
    expect(await b.findByUid('Interaction', 'u9')).toEqual({ uid: 'u9' });
    await b.destroy('Interaction', 'i1');
    expect(await a.find('Interaction', 'i1')).toBeUndefined();
    await close();
  });

  it('destroys, revokes and lists what another worker holds', async () => {
    const { a, b, file, close } = workers();
    // Destroyed at b without b having read it first.
    await a.upsert('Session', 's1', { uid: 'u1' }, 600);
    await b.destroy('Session', 's1');
    expect(await a.find('Session', 's1')).toBeUndefined();
    expect(await file.find('Session', 's1')).toBeUndefined();
    // A grant's tokens, held at a, revoked at b.
    await a.upsert('AccessToken', 't1', { grantId: 'g1' }, 600);
    await a.upsert('RefreshToken', 'r1', { grantId: 'g1' }, 600);
    await a.upsert('AccessToken', 't2', { grantId: 'g2' }, 600);
    await b.revokeByGrantId('g1');
    expect(await a.find('AccessToken', 't1')).toBeUndefined();
    expect(await a.find('RefreshToken', 'r1')).toBeUndefined();
    expect(await a.find('AccessToken', 't2')).toBeDefined();
    // "Forget me" at b reaches the session a holds for the patron.
    await a.upsert('Session', 's2', { uid: 'u2', accountId: 'acc' }, 600);
    expect((await b.findByAccount('acc')).map((r) => r.id)).toEqual(['s2']);
    expect((await b.list('Session')).map((r) => r.id)).toEqual(['s2']);
    await close();
  });

  it('counts the throttle in the file at once (every worker counts the same card)', async () => {
    const { a, b, close } = workers();
    const options = { keyPrefix: 'card', points: 3, duration: 900, blockDuration: 0 };
    const atA = await a.limiter(options);
    const atB = await b.limiter(options);
    await atA.consume('k', 1);
    await atA.consume('k', 1);
    expect((await atB.get('k'))?.consumedPoints).toBe(2);
    // A success's reset at one worker is seen by the other at once.
    await atA.delete('k');
    expect(await atB.get('k')).toBeNull();
    await close();
  });
});
