// Calls the broker makes to vendors (back-channel logout, sector identifier
// documents). oidc-provider refuses private and loopback addresses, which
// protects the broker's own network (SSRF); a consortium with vendors on a
// private network can allow them, with its own CA if needed.
import { readFileSync } from 'node:fs';
import type { Configuration } from 'oidc-provider';
import type { Config } from '../config/load.ts';

type Dispatcher = object;
type AgentConstructor = new (options: { connect?: { ca?: string } }) => Dispatcher;

// Node's fetch is undici; its Agent class is reachable through the global
// dispatcher (the same way oidc-provider finds it) without a second copy.
function undiciAgent(): AgentConstructor | undefined {
  const global = globalThis as Record<symbol, { constructor: AgentConstructor } | undefined>;
  return (global[Symbol.for('undici.globalDispatcher.2')] ?? global[Symbol.for('undici.globalDispatcher.1')])
    ?.constructor;
}

export function outboundFetch(outbound: Config['outbound']): NonNullable<Configuration['fetch']> {
  if (!outbound.allowPrivateAddresses) return (url, options) => globalThis.fetch(url, options);
  let dispatcher: Dispatcher | undefined;
  return (url, options) => {
    if (dispatcher === undefined) {
      // The first call: Node has created its global dispatcher by now.
      const Agent = undiciAgent();
      dispatcher = Agent ? new Agent({ connect: outbound.ca ? { ca: readFileSync(outbound.ca, 'utf8') } : {} }) : {};
    }
    return globalThis.fetch(url, { ...options, dispatcher } as RequestInit);
  };
}
