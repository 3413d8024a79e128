// Calls the broker makes to vendors (sector identifier documents, JWK sets,
// back-channel logout). A vendor chooses those URLs, so a vendor could point
// them at the broker's own network (SSRF). The check is made where it cannot
// be dodged: on the address actually dialled, after DNS, in the connector of
// the broker's own undici Agent, so a name that resolves to 127.0.0.1 (or
// changes its answer between a check and the call) opens no connection.
// oidc-provider's own guard only closes the socket after it has connected.
// A consortium with vendors on a private network can allow them
// (`outbound.allowPrivateAddresses`), with its own CA if needed.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { rootCertificates, connect as tlsConnect } from 'node:tls';
import type { Configuration } from 'oidc-provider';
import { Agent, type buildConnector, fetch as undiciFetch } from 'undici';
import type { Config } from '../config/config.ts';
import { PatronymError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { specialUse } from '../security/special-addresses.ts';

// undici's connector contract (the `connect` option of its Agent).
interface ConnectOptions {
  hostname: string;
  protocol: string;
  port: string | number;
}
type Connector = (options: ConnectOptions, callback: (error: Error | null, socket: Socket | null) => void) => void;
export type Resolve = (host: string) => Promise<string[]>;

const CONNECT_TIMEOUT_MS = 10_000;

const resolveAll: Resolve = async (host) =>
  isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface ConnectorOptions {
  allowPrivateAddresses: boolean;
  ca?: string | undefined;
  log: Logger;
  resolve?: Resolve;
}

// Resolves, refuses special-use addresses, then dials the first address
// that is left: never a name, so nothing resolves it a second time.
function guardedConnector(options: ConnectorOptions): Connector {
  const resolve = options.resolve ?? resolveAll;
  // An extra CA adds to the public ones rather than replacing them.
  const ca = options.ca ? [...rootCertificates, readFileSync(options.ca, 'utf8')] : undefined;
  return ({ hostname, protocol, port }, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '');
    const secure = protocol === 'https:';
    const portNumber = Number(port) || (secure ? 443 : 80);
    resolve(host)
      .then((addresses) => {
        const usable = options.allowPrivateAddresses ? addresses : addresses.filter((a) => !specialUse(a));
        const address = usable[0];
        if (address === undefined) {
          const refused = addresses[0] ?? '(no address)';
          const kind = addresses[0] ? specialUse(addresses[0]) : 'unresolved';
          options.log.warn(
            { event: 'outbound_refused', host, address: refused, kind },
            `outbound: refused to connect to "${host}" (${refused}, a ${kind} address); outbound.allowPrivateAddresses is off`,
          );
          throw new PatronymError(
            'outbound_refused',
            `outbound: refused to connect to "${host}": ${refused} is a ${kind} address`,
          );
        }
        return dial(address, portNumber, secure ? { servername: isIP(host) ? undefined : host, ca } : undefined);
      })
      .then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error, null),
      );
  };
}

function dial(
  address: string,
  port: number,
  tls: { servername: string | undefined; ca: string[] | undefined } | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // The certificate is checked against the name (servername), not the address.
    const socket = tls
      ? tlsConnect({
          host: address,
          port,
          ALPNProtocols: ['http/1.1'],
          ...(tls.servername ? { servername: tls.servername } : {}),
          ...(tls.ca ? { ca: tls.ca } : {}),
        })
      : netConnect({ host: address, port });
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error(`outbound: connect to ${address} timed out`)));
    socket.once('error', reject);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export function outboundFetch(
  outbound: Config['outbound'],
  log: Logger,
  resolve?: Resolve,
): NonNullable<Configuration['fetch']> {
  // undici as a dependency, its Agent and its fetch together: an Agent of
  // one undici version handed to another version's fetch (Node's built-in)
  // does not work.
  let dispatcher: Agent | undefined;
  return (url, options) => {
    dispatcher ??= new Agent({
      // undici types the callback's two cases as a union of tuples; ours is
      // the same contract written as one signature.
      connect: guardedConnector({
        allowPrivateAddresses: outbound.allowPrivateAddresses,
        ca: outbound.ca,
        log,
        ...(resolve ? { resolve } : {}),
      }) as unknown as buildConnector.connector,
    });
    // Replaces oidc-provider's own dispatcher (see the top of this file).
    // oidc-provider passes a URL or a string, and reads status, headers and
    // the body: undici's Response is the one Node's fetch returns, by another
    // version's type.
    return undiciFetch(url as URL | string, { ...(options as object), dispatcher }) as unknown as Promise<Response>;
  };
}
