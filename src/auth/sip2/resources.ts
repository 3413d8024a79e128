// Read at load time (src/config/resources.ts): certificate files become
// their PEM text, and the secrets (already resolved) are checked to be
// sendable over SIP2, so every problem is reported in one pass.
import { type At, type ResourceContext, readPem } from '../../config/resources.ts';
import type { SecretRef } from '../../config/schema.ts';
import { valueProblem } from './message.ts';
import type { Sip2Options } from './options.ts';

const PEM = {
  ca: 'the CA certificate(s) (PEM) that signed the server certificate',
  cert: 'a client certificate (PEM)',
  key: 'the private key (PEM) of `cert`',
} as const;

export function sip2Resources(o: Sip2Options, context: ResourceContext): Sip2Options {
  const sendable = (value: SecretRef | undefined, at: At): void => {
    if (typeof value !== 'string') return; // unresolved: already reported
    const problem = valueProblem(value, o.encoding);
    if (problem) context.problem(at, `cannot be sent over SIP2 (${problem})`);
  };
  sendable(o.terminalPassword, ['terminalPassword']);
  sendable(o.login?.password, ['login', 'password']);
  const servers = o.servers.map((server, i) => {
    if (!server.tls) return server;
    const tls = { ...server.tls };
    for (const key of ['ca', 'cert', 'key'] as const) {
      const value = tls[key];
      if (value !== undefined) tls[key] = readPem(value, context, ['servers', i, 'tls', key], PEM[key]);
    }
    return { ...server, tls };
  });
  return { ...o, servers };
}
