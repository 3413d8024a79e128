// Connection keeping without a server: fake connections that only know
// whether they are alive, as the pool sees them.
import { describe, expect, it } from 'vitest';
import { type LdapConnection, LdapResultError, LdapTransportError } from '../../../../src/auth/ldap/connection.ts';
import { BindPool, SharedConnection } from '../../../../src/auth/ldap/pool.ts';

interface Fake {
  id: number;
  alive: boolean;
  destroy(): void;
}

function factory() {
  let n = 0;
  const made: Fake[] = [];
  const open = async (): Promise<LdapConnection> => {
    await new Promise((r) => setTimeout(r, 5));
    const fake: Fake = {
      id: ++n,
      alive: true,
      destroy() {
        this.alive = false;
      },
    };
    made.push(fake);
    // A fake stands in for the class: the pool only reads `alive` and calls destroy().
    return fake as unknown as LdapConnection;
  };
  return { open, made };
}
const id = (c: LdapConnection) => (c as unknown as Fake).id;
const kill = (c: LdapConnection) => {
  (c as unknown as Fake).alive = false;
};

describe('SharedConnection (the service account)', () => {
  it('opens one connection for concurrent callers and keeps it', async () => {
    const { open, made } = factory();
    const shared = new SharedConnection(open);
    const ids = await Promise.all(Array.from({ length: 8 }, () => shared.use(async (c) => id(c))));
    expect(new Set(ids)).toEqual(new Set([1]));
    expect(await shared.use(async (c) => id(c))).toBe(1);
    expect(made).toHaveLength(1);
  });

  it('replaces a connection that died between uses', async () => {
    const { open } = factory();
    const shared = new SharedConnection(open);
    const first = await shared.use(async (c) => c);
    kill(first);
    expect(await shared.use(async (c) => id(c))).toBe(2);
  });

  it('retries once on a fresh connection when a reused one turns out dead mid-operation', async () => {
    const { open } = factory();
    const shared = new SharedConnection(open);
    await shared.use(async () => {});
    const seen: number[] = [];
    const result = await shared.use(async (c) => {
      seen.push(id(c));
      if (id(c) === 1) {
        kill(c);
        throw new LdapTransportError('ldap://x:389', 'connection closed during search');
      }
      return 'answered';
    });
    expect(result).toBe('answered');
    expect(seen).toEqual([1, 2]);
  });

  it('does not retry a fresh connection, a live one, or a server answer', async () => {
    const { open, made } = factory();
    const shared = new SharedConnection(open);
    const transport = new LdapTransportError('ldap://x:389', 'search timed out after 1s');
    await expect(
      shared.use(async (c) => {
        kill(c);
        throw transport;
      }),
    ).rejects.toBe(transport);
    const refused = new LdapResultError(32, 'no such object');
    await expect(
      shared.use(async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(made).toHaveLength(2);
  });

  it('shares a failure to open, then tries again on the next use', async () => {
    let fail = true;
    const { open } = factory();
    const shared = new SharedConnection(async () => {
      if (fail) throw new LdapTransportError('', 'ldap://x:389 connect refused (ECONNREFUSED)');
      return open();
    });
    const results = await Promise.allSettled([shared.use(async () => 1), shared.use(async () => 2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await shared.use(async (c) => id(c))).toBe(1);
  });

  it('refuses work once closed, and destroys its connection', async () => {
    const { open, made } = factory();
    const shared = new SharedConnection(open);
    await shared.use(async () => {});
    await shared.close();
    expect(made[0]?.alive).toBe(false);
    await expect(shared.use(async () => {})).rejects.toThrow('authenticator closed');
  });
});

describe('BindPool (patron binds)', () => {
  it('lends each connection to one login at a time, at most `max` at once, and reuses them', async () => {
    const { open, made } = factory();
    const pool = new BindPool(open, 3);
    let inUse = 0;
    let peak = 0;
    const busy = new Set<number>();
    await Promise.all(
      Array.from({ length: 20 }, () =>
        pool.use(async (c) => {
          expect(busy.has(id(c))).toBe(false);
          busy.add(id(c));
          peak = Math.max(peak, ++inUse);
          await new Promise((r) => setTimeout(r, 3));
          inUse -= 1;
          busy.delete(id(c));
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(made).toHaveLength(3);
    await pool.use(async () => {});
    expect(made).toHaveLength(3);
  });

  it('drops dead connections instead of lending them again', async () => {
    const { open, made } = factory();
    const pool = new BindPool(open, 2);
    await pool.use(async (c) => kill(c));
    expect(await pool.use(async (c) => id(c))).toBe(2);
    expect(made).toHaveLength(2);
  });

  it('lets waiting logins through when a login fails', async () => {
    const { open } = factory();
    const pool = new BindPool(open, 1);
    const failing = pool.use(async () => {
      throw new LdapResultError(49, 'invalid credentials');
    });
    const waiting = pool.use(async () => 'served');
    await expect(failing).rejects.toBeInstanceOf(LdapResultError);
    expect(await waiting).toBe('served');
  });
});
