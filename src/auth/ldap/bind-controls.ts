// ldapjs 3 drops the response controls of a failed result (its getError keeps
// only the result code, the text and the matched DN), yet the password-policy
// control on a refused bind is what tells a locked account from a wrong PIN
// (draft-behera-ldap-password-policy-11 section 6.2). ldapjs is no longer
// maintained (decommissioned May 2024), so nothing will warn when this breaks:
// its private message parser is read in this one file and nowhere else, and an
// ldapjs without it is refused, loudly, instead of letting every locked
// account read as "wrong PIN". A move to another client replaces this file.
import type { EventEmitter } from 'node:events';
import { createServer, type Socket } from 'node:net';
import ldap from 'ldapjs';
import { PatronymError } from '../../errors.ts';

export interface ResponseControl {
  type: string;
  value?: { error?: number };
}

interface ParsedMessage {
  type?: string;
  controls?: ResponseControl[];
}

// What we reach for: `client._tracker.parser`, the BER parser ldapjs feeds
// every message through before turning a failed result into an error.
function parserOf(client: unknown): EventEmitter | undefined {
  const parser = (client as { _tracker?: { parser?: unknown } } | null)?._tracker?.parser;
  return typeof (parser as EventEmitter | undefined)?.prependListener === 'function'
    ? (parser as EventEmitter)
    : undefined;
}

const unsupported = (): PatronymError =>
  new PatronymError(
    'ldap_client_unsupported',
    'ldap: the installed ldapjs has no "_tracker.parser"; refusing to bind, as a locked account would read as a wrong PIN (see src/auth/ldap/bind-controls.ts)',
  );

// Calls `onBindResponse` with the controls of every BindResponse on this
// connected client, before ldapjs settles the bind. Throws when it cannot.
export function watchBindResponses(client: unknown, onBindResponse: (controls: ResponseControl[]) => void): void {
  const parser = parserOf(client);
  if (!parser) throw unsupported();
  parser.prependListener('message', (message: ParsedMessage) => {
    if (message?.type === 'BindResponse') onBindResponse(message.controls ?? []);
  });
}

let selfCheck: Promise<void> | undefined;

// Start-up self-check, with no directory needed: connect an ldapjs client to
// a loopback socket of our own and look for the parser. Run once a process.
export function ldapClientSelfCheck(): Promise<void> {
  selfCheck ??= (async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = ldap.createClient({ url: `ldap://127.0.0.1:${port}`, connectTimeout: 10_000 });
    client.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('connectError', reject);
      });
      if (!parserOf(client)) throw unsupported();
    } finally {
      client.destroy();
      // Not awaited: close() waits for sockets, and a check must not hang.
      server.close();
      server.unref();
      for (const socket of sockets) socket.destroy();
    }
  })();
  return selfCheck;
}
