// A SIP2 server simulator for tests and benchmarks, written from the spec
// and SIP2.md, not from the client: its framing and checksum code are its
// own, so a bug in src/auth/sip2 cannot hide behind shared code.
//
// Server behaviour follows Evergreen's SIPServer where SIP2.md describes it:
// only CR ends a message (a leading LF is dropped); a bad checksum gets 96,
// and during a 93 login the connection is then closed; a message without
// AY/AZ switches error detection off for the session; messages before a
// successful 93 (when a login is configured), or of an unknown type, close
// the connection without a reply; 97 re-sends this connection's last reply.
//
// Quirks reproduce what issue 13 saw a real server (Evergreen's SIPServer)
// do, one switch per finding, so the tests keep each one fixed.
import net, { type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import { patronReply, SIP2_PATRONS, type SimPatron, type Sip2Dialect, simTimestamp } from './sip2-dialects.ts';

export { SIP2_CARDS, SIP2_DIALECTS, SIP2_PATRONS, type SimPatron, type Sip2Dialect } from './sip2-dialects.ts';

type Encoding = 'utf-8' | 'latin1';

// Misbehaviours apply to replies to the message codes in `on` (default: the
// patron requests 63 and 23, including 97 re-sends of those replies), at
// most `times` times (default: until changed).
// `cleanResends`: a 97 re-send is never misbehaved, so a damaged reply can
// always be recovered.
export type Misbehaviour = { on?: string[]; times?: number; cleanResends?: boolean } & (
  | { kind: 'bad-checksum' } // reply with a wrong AZ
  | { kind: 'split'; gapMs?: number } // reply in three writes
  | { kind: 'two-in-one'; order?: 'duplicate' | 'stale-first' } // two replies in one write
  | { kind: 'slow'; ms: number } // reply late
  | { kind: 'drop' } // close the connection instead of replying
  | { kind: 'resend'; close?: boolean } // answer 96 (and then close, as Evergreen does after a bad 93)
  | { kind: 'garbage'; bytes?: Uint8Array } // send these bytes instead of the reply
  | { kind: 'silent' } // never reply
);

export interface Sip2Quirks {
  // "resends with AY0": a 97 is answered with the last reply re-framed with
  // sequence number 0, whatever the request's was.
  resendWithSeqZero?: boolean;
  // How AA is echoed in a 64/24: "ascii" as an ASCII SIP account does
  // (a known card as its record's barcode with accents stripped, an unknown
  // one as its UTF-8 bytes read as Latin-1 and then stripped: müller →
  // mA?ller); "double-encoded" as a UTF-8 account does for unknown cards
  // (UTF-8 bytes read as Latin-1, encoded again: müller → mÃ¼ller).
  echo?: 'faithful' | 'ascii' | 'double-encoded';
  // "idle timeout N s": close a connection that sent nothing this long.
  idleTimeoutMs?: number;
  // "replays last reply to new connections": like a pre-forking server
  // whose workers keep their last reply, a new connection is served by the
  // worker idle longest and a 97 on it, before any login, re-sends that
  // worker's last reply, which may be another client's patron record.
  replayToNewConnections?: boolean;
  // Reply checksums over the characters of the text instead of its bytes,
  // as a server that decodes before it sums does: a client reading the
  // bytes in another encoding sees bad checksums on non-ASCII replies.
  checksumOverCharacters?: boolean;
}

export interface Sip2ServerOptions {
  quirks?: Sip2Quirks;
  dialect?: Sip2Dialect;
  patrons?: readonly SimPatron[];
  institution?: string;
  library?: string;
  // BX of the 98: 16 Y/N in spec order; default: patron status, SC status,
  // resend, login, patron information and end session.
  supportedMessages?: string;
  // 93 credentials; when given, nothing but 93 is answered before a
  // successful login. `false`: no login required, any 93 accepted.
  login?: { user: string; password: string } | false;
  encoding?: Encoding;
  host?: string;
  port?: number;
  tls?: tls.TlsOptions;
  clock?: () => Date;
}

export interface ReceivedMessage {
  code: string;
  fields: Map<string, string>;
  errorDetection: boolean;
}

export interface Sip2Simulator {
  host: string;
  port: number;
  stop(): Promise<void>;
  setMisbehaviour(misbehaviour: Misbehaviour | undefined): void;
  setDialect(dialect: Sip2Dialect): void;
  setQuirks(quirks: Sip2Quirks): void;
  // Closes every open connection, as a restarted server would.
  dropConnections(): void;
  // Open connections now.
  readonly connections: number;
  // Connections accepted since start.
  readonly accepted: number;
  // Workers waiting for a connection, each holding its last reply
  // (replayToNewConnections).
  readonly idleWorkers: number;
  // Every well-formed message received, in order.
  readonly received: ReceivedMessage[];
  // Messages that arrived on a connection before the previous one there
  // was answered: a client that pipelines, which SIP2 cannot match up.
  readonly overlapped: number;
}

const FIXED: Record<string, number> = { '93': 2, '99': 8, '63': 31, '23': 21, '35': 18, '97': 0 };

// What an ASCII account or a double-decoding server makes of a card in AA
// (see Sip2Quirks.echo).
export function mangleEcho(echo: 'ascii' | 'double-encoded', card: string, known: boolean): string {
  const misread = Buffer.from(card, 'utf8').toString('latin1');
  if (echo === 'double-encoded') return known ? card : misread;
  const stripped = (known ? card : misread).normalize('NFD').replace(/\p{M}/gu, '');
  return stripped.replace(/[^\x20-\x7e]/g, '?');
}

function sum16(bytes: Iterable<number>): number {
  let s = 0;
  for (const b of bytes) s += b;
  return s & 0xffff;
}

export function simChecksum(bytes: Iterable<number>): string {
  return ((0x10000 - sum16(bytes)) & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

// A server process that serves one connection at a time and keeps its last
// reply between connections (replayToNewConnections).
interface Worker {
  lastReply?: Buffer;
  lastBody?: string;
}

interface Session {
  worker: Worker;
  loggedIn: boolean;
  errorDetection: boolean;
  lastCode?: string;
  queue: Promise<void>;
  pending: Buffer;
  unanswered: number;
}

export async function startSip2Server(options: Sip2ServerOptions = {}): Promise<Sip2Simulator> {
  let dialect = options.dialect ?? 'koha';
  const patrons = new Map((options.patrons ?? SIP2_PATRONS).map((p) => [p.card, p]));
  const institution = options.institution ?? 'sim';
  const encoding = options.encoding ?? 'utf-8';
  const login = options.login ?? false;
  const clock = options.clock ?? (() => new Date());
  let misbehaviour: Misbehaviour | undefined;
  let quirks: Sip2Quirks = { ...options.quirks };
  // Idle workers, longest idle first (replayToNewConnections).
  const workers: Worker[] = [];
  let accepted = 0;
  let overlapped = 0;
  const sockets = new Set<Socket>();
  const received: ReceivedMessage[] = [];

  // The bytes of a reply, with AY/AZ when the request used them.
  const frame = (body: string, session: Session, seq: string | undefined): Buffer => {
    let head = Buffer.from(body, encoding);
    if (session.errorDetection) head = Buffer.concat([head, Buffer.from(seq === undefined ? 'AZ' : `AY${seq}AZ`)]);
    // A server that sums its text's characters, not the bytes it sends.
    const summed = quirks.checksumOverCharacters
      ? Uint16Array.from([...head.toString(encoding)].map((ch) => (ch.codePointAt(0) ?? 0) & 0xffff))
      : head;
    const tail = session.errorDetection ? `${simChecksum(summed)}\r` : '\r';
    return Buffer.concat([head, Buffer.from(tail)]);
  };

  const answer = (code: string, fixed: string, fields: Map<string, string>, session: Session): string | 'close' => {
    if (code === '93') {
      const good = !login || (fields.get('CN') === login.user && fields.get('CO') === login.password);
      session.loggedIn ||= good;
      return `94${good ? '1' : '0'}`;
    }
    if (code === '99') {
      const version = fixed.slice(4, 8) || '2.00';
      return (
        `98YYYYNN100003${simTimestamp(clock())}${version}` +
        `AO${institution}|AM${options.library ?? 'Simulated Library'}|BX${options.supportedMessages ?? 'YNNNYYYYYNNNNNNN'}|`
      );
    }
    if (code === '63' || code === '23') {
      const card = fields.get('AA') ?? '';
      const patron = patrons.get(card);
      const body = patronReply(dialect, { code, language: fixed.slice(0, 3), fields }, patron, institution, clock());
      const echo = quirks.echo ?? 'faithful';
      if (echo === 'faithful') return body;
      const sent = `|AA${patron?.card ?? card}|`;
      return body.replace(sent, `|AA${mangleEcho(echo, card, patron !== undefined)}|`);
    }
    if (code === '35') return `36Y${simTimestamp(clock())}AO${institution}|AA${fields.get('AA') ?? ''}|`;
    return 'close';
  };

  const send = async (socket: Socket, session: Session, reply: Buffer, forCode: string, resend = false) => {
    const m = misbehaviour;
    const applies =
      m !== undefined && (m.on ?? ['63', '23']).includes(forCode) && (m.times ?? Number.POSITIVE_INFINITY) > 0;
    const previous = session.worker.lastReply;
    session.worker.lastReply = reply;
    if (!applies || (m.cleanResends && resend)) {
      socket.write(reply);
      return;
    }
    if (m.times !== undefined) m.times -= 1;
    switch (m.kind) {
      case 'bad-checksum': {
        const broken = Buffer.from(reply);
        // Change one byte of the message body: the AZ no longer matches.
        broken[2] = (broken[2] ?? 0) ^ 0x01;
        socket.write(broken);
        return;
      }
      case 'split': {
        const a = Math.max(1, Math.floor(reply.length / 3));
        for (const [i, piece] of [reply.subarray(0, a), reply.subarray(a, 2 * a), reply.subarray(2 * a)].entries()) {
          if (i > 0) await new Promise((r) => setTimeout(r, m.gapMs ?? 5));
          socket.write(piece);
        }
        return;
      }
      case 'two-in-one':
        socket.write(Buffer.concat(m.order === 'stale-first' && previous ? [previous, reply] : [reply, reply]));
        return;
      case 'slow':
        await new Promise((r) => setTimeout(r, m.ms));
        if (!socket.destroyed) socket.write(reply);
        return;
      case 'drop':
        socket.destroy();
        return;
      case 'resend':
        session.worker.lastReply = previous;
        socket.write(frame('96', session, undefined));
        if (m.close) socket.end();
        return;
      case 'garbage':
        socket.write(m.bytes ?? Buffer.from([0x00, 0xff, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65, 0x1b, 0x0d]));
        return;
      case 'silent':
        return;
    }
  };

  const handle = async (socket: Socket, session: Session, raw: Buffer): Promise<void> => {
    let bytes = raw;
    let seq: string | undefined;
    const tail = bytes.subarray(-6).toString('latin1');
    const checked = /^AZ[0-9A-Fa-f]{4}$/.test(tail);
    const code = bytes.subarray(0, 2).toString('latin1');
    if (checked) {
      session.errorDetection = true;
      if ((sum16(bytes.subarray(0, -4)) + Number.parseInt(tail.slice(2), 16)) & 0xffff) {
        socket.write(frame('96', session, undefined));
        if (code === '93') socket.end();
        return;
      }
      bytes = bytes.subarray(0, -6);
      const ay = bytes.subarray(-3).toString('latin1');
      if (/^AY\d$/.test(ay)) {
        seq = ay[2];
        bytes = bytes.subarray(0, -3);
      }
    } else {
      session.errorDetection = false;
    }
    const text = bytes.toString(encoding);
    const fixedLength = FIXED[code];
    if (fixedLength === undefined || text.length < 2 + fixedLength) {
      socket.destroy();
      return;
    }
    const fixed = text.slice(2, 2 + fixedLength);
    const fields = new Map<string, string>();
    for (const piece of text.slice(2 + fixedLength).split('|'))
      if (piece.length >= 2) fields.set(piece.slice(0, 2), piece.slice(2));
    received.push({ code, fields, errorDetection: session.errorDetection });
    if (code === '97') {
      const { lastReply, lastBody } = session.worker;
      if (!lastReply) socket.write(frame('96', session, undefined));
      else if (quirks.resendWithSeqZero && lastBody !== undefined && session.errorDetection) {
        await send(socket, session, frame(lastBody, session, '0'), session.lastCode ?? '97', true);
      } else await send(socket, session, lastReply, session.lastCode ?? '97', true);
      return;
    }
    if (login && !session.loggedIn && code !== '93') {
      socket.destroy();
      return;
    }
    const body = answer(code, fixed, fields, session);
    if (body === 'close') {
      socket.destroy();
      return;
    }
    session.lastCode = code;
    session.worker.lastBody = body;
    await send(socket, session, frame(body, session, seq), code);
  };

  const onConnection = (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      clearTimeout(idle);
      if (quirks.replayToNewConnections) workers.push(worker);
    });
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      if (quirks.idleTimeoutMs !== undefined) idle = setTimeout(() => socket.destroy(), quirks.idleTimeoutMs);
    };
    armIdle();
    socket.on('error', () => {});
    const worker = (quirks.replayToNewConnections ? workers.shift() : undefined) ?? {};
    const session: Session = {
      worker,
      loggedIn: !login,
      errorDetection: false,
      queue: Promise.resolve(),
      pending: Buffer.alloc(0),
      unanswered: 0,
    };
    socket.on('data', (chunk: Buffer) => {
      armIdle();
      let data = Buffer.concat([session.pending, chunk]);
      for (let cr = data.indexOf(0x0d); cr !== -1; cr = data.indexOf(0x0d)) {
        const message = data.subarray(data[0] === 0x0a ? 1 : 0, cr);
        data = data.subarray(cr + 1);
        if (message.length === 0) continue;
        if (session.unanswered > 0) overlapped += 1;
        session.unanswered += 1;
        const copy = Buffer.from(message);
        session.queue = session.queue
          .then(() => (socket.destroyed ? undefined : handle(socket, session, copy)))
          .finally(() => {
            session.unanswered -= 1;
          });
      }
      session.pending = Buffer.from(data);
    });
  };

  const server: Server = options.tls ? tls.createServer(options.tls, onConnection) : net.createServer(onConnection);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host,
    port,
    received,
    get connections() {
      return sockets.size;
    },
    get accepted() {
      return accepted;
    },
    get idleWorkers() {
      return workers.length;
    },
    get overlapped() {
      return overlapped;
    },
    setMisbehaviour(m) {
      misbehaviour = m === undefined ? undefined : { ...m };
    },
    setDialect(d) {
      dialect = d;
    },
    setQuirks(q) {
      quirks = { ...q };
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// Tags of a 64/24/36 that say something about a patron (the card, name,
// address, email, phone, PIN verdict, validity, dates, ids).
export const PATRON_TAGS = ['AA', 'AE', 'BD', 'BE', 'BF', 'BL', 'CQ', 'PA', 'PB', 'PX', 'XI'] as const;

// An outside probe, as anyone on the network could send it: a fresh TCP
// connection that sends a 97 before any login and returns what came back
// (empty when nothing did within `ms`, or the server closed).
export async function probeLastReply(sim: { host: string; port: number }, ms = 500): Promise<string> {
  const socket = net.connect(sim.port, sim.host);
  socket.on('error', () => {});
  let text = '';
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write('97\r');
    const until = Date.now() + ms;
    socket.on('data', (d: Buffer) => {
      text += d.toString('utf8');
    });
    while (!text.includes('\r') && !socket.destroyed && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  } finally {
    socket.destroy();
  }
  return text;
}

// The patron tags in a probe's answer (none for a 98, a 96 or nothing).
export function patronFieldsIn(reply: string): string[] {
  return [
    ...new Set(
      reply.split('|').flatMap((piece, i) => {
        // The first piece holds the code and fixed fields, then the first tag.
        const tagAt = i === 0 ? piece.search(/[A-Z]{2}[^|]*$/) : 0;
        const tag = tagAt < 0 ? '' : piece.slice(tagAt, tagAt + 2);
        return (PATRON_TAGS as readonly string[]).includes(tag) ? [tag] : [];
      }),
    ),
  ];
}
