// Backend failures are PatronymErrors with a code, and carry the socket error
// that caused them (a sysadmin debugging an outage wants errno, not only our
// sentence). Real sockets: a loopback port nobody listens on.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { LdapConnection, LdapTransportError } from '../../../src/auth/ldap/connection.ts';
import { Sip2Connection, Sip2Failure } from '../../../src/auth/sip2/connection.ts';
import { PatronymError } from '../../../src/errors.ts';

// A port that was free a moment ago: connecting is refused.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('backend errors', () => {
  it('ldap: a refused connection is an LdapTransportError (ldap_transport) with the socket error as cause', async () => {
    const port = await closedPort();
    const error = await LdapConnection.open({
      server: `ldap://127.0.0.1:${port}`,
      secure: false,
      host: '127.0.0.1',
      port,
      startTls: false,
      tls: {},
      connectTimeoutMs: 10_000,
      timeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LdapTransportError);
    expect(error).toBeInstanceOf(PatronymError);
    expect(error).toMatchObject({ code: 'ldap_transport', expose: true });
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('sip2: a refused connection is a Sip2Failure (sip2_failure) with the socket error as cause', async () => {
    const port = await closedPort();
    const error = await Sip2Connection.open(
      { host: '127.0.0.1', port, label: `127.0.0.1:${port}` },
      { encoding: 'utf-8', errorDetection: false, connectTimeoutMs: 10_000, timeoutMs: 10_000, retries: 0 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Sip2Failure);
    expect(error).toMatchObject({ code: 'sip2_failure', kind: 'connect' });
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });
});
