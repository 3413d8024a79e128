// A reverse proxy keeps its connections to the broker open between requests
// (nginx's `keepalive` in an upstream, idle up to 60 s) and reuses them. If
// the broker closes an idle connection first (Node's own default: 5 s), a
// request the proxy sends on it just then gets no answer: a 502 for the
// patron, often on the PIN form. The broker keeps idle connections longer
// than such proxies do, says so in `Keep-Alive`, and a reload applies a new
// value.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/use-broker.ts';

// One request on an open connection; resolves with the response head.
function ask(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += String(chunk);
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(text.slice(0, end));
      }
    };
    const onClose = () => reject(new Error(`connection closed by the broker (after: ${JSON.stringify(text)})`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

const closedWithin = (socket: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe('kept-alive connections', () => {
  const b = useBroker({}, { per: 'test' });

  it('stay open past Node’s 5 s default, announced as 65 s', async () => {
    const socket = await open(b.port);
    try {
      expect(await ask(socket)).toMatch(/^keep-alive: timeout=65$/im);
      // Idle as long as a quiet library's proxy connection often is.
      expect(await closedWithin(socket, 6_000)).toBe(false);
      expect(await ask(socket)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  }, 15_000);

  it('follow `keepAliveTimeout`, and a reload’s new value', async () => {
    b.writeConfig({ keepAliveTimeout: 1 });
    expect(await b.reload()).toBe(true);
    const socket = await open(b.port);
    try {
      expect(await ask(socket)).toMatch(/^keep-alive: timeout=1$/im);
      expect(await closedWithin(socket, 3_000)).toBe(true);
    } finally {
      socket.destroy();
    }
  }, 15_000);
});
