// A reload replaces the broker (its libraries, authenticators and their
// connections); the one replaced must finish the requests it is answering,
// then go at once: a run of reloads must not keep old configurations (for a
// consortium, a thousand libraries each) alive for the whole drain period.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/app.ts';
import { useBroker } from '../support/use-broker.ts';

function watchClose(broker: Broker): { closed: boolean } {
  const seen = { closed: false };
  const close = broker.close.bind(broker);
  broker.close = async () => {
    seen.closed = true;
    await close();
  };
  return seen;
}

describe('a broker replaced by a reload', () => {
  const b = useBroker({ drainMs: 60_000 }, { per: 'test' });

  it('closes at once when it is answering nothing, long before the drain period', async () => {
    const old = watchClose(b.broker);
    expect(await b.reload()).toBe(true);
    expect(old.closed).toBe(true);
  });

  it('finishes a request in flight, then closes', async () => {
    const old = watchClose(b.broker);
    // A form post whose body is still arriving: the old broker is answering it.
    const socket = connect(b.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = 'card=21234000000001&pin=1234';
    socket.write(
      `POST /interaction/unknown/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\ncard=`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await b.reload()).toBe(true);
    expect(old.closed).toBe(false);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += String(chunk);
      });
      socket.once('close', () => resolve(text));
    });
    socket.write(body.slice('card='.length));
    expect(await answer).toMatch(/^HTTP\/1\.1 [1-5]\d\d /);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(old.closed).toBe(true);
  });
});
