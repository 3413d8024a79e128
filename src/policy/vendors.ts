// Each vendor's release policy, as the sysadmin configured it. Deny by
// default: a vendor nobody configured a policy for learns nothing but its
// pseudonym.
import type { Client } from '../config/load.ts';
import type { Releasable } from './release.ts';

export interface VendorPolicy {
  release: readonly Releasable[];
  walkIn: boolean;
}

export const NOTHING: VendorPolicy = Object.freeze({ release: Object.freeze([]), walkIn: false });

export class VendorPolicies {
  readonly #byClient: Map<string, VendorPolicy>;

  constructor(clients: readonly Client[]) {
    this.#byClient = new Map(clients.map((c) => [c.client_id, { release: c.release, walkIn: c.walkIn }]));
  }

  get(clientId: string | undefined): VendorPolicy {
    return (clientId && this.#byClient.get(clientId)) || NOTHING;
  }
}
