// Each vendor's release policy, set by the sysadmin: in the configuration
// for configured vendors, with `patronym clients policy` (kept in the store)
// for vendors that registered themselves. Deny by default: a vendor nobody
// gave a policy learns nothing but its pseudonym. A vendor can never set
// its own.
//
// Approval lives here too, as the sysadmin's word on a registered vendor:
// one that registered itself (/reg) signs no patron in and is listed nowhere
// until `patronym clients approve`. The approval is for the name the
// sysadmin saw: a vendor that renames itself (RFC 7592) waits again.
import type { Client } from '../config/config.ts';
import { PatronymError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { RELEASABLE, type Releasable } from './release.ts';

export interface VendorPolicy {
  release: readonly Releasable[];
  walkIn: boolean;
}

const NOTHING: VendorPolicy = Object.freeze({ release: Object.freeze([]), walkIn: false });
const MODEL = 'VendorPolicy';

export class VendorPolicies {
  readonly #configured: Map<string, VendorPolicy>;
  readonly #store: Store | undefined;

  constructor(clients: readonly Client[], store?: Store) {
    this.#configured = new Map(clients.map((c) => [c.client_id, { release: c.release, walkIn: c.walkIn }]));
    this.#store = store;
  }

  isConfigured(clientId: string): boolean {
    return this.#configured.has(clientId);
  }

  async get(clientId: string | undefined): Promise<VendorPolicy> {
    if (!clientId) return NOTHING;
    const configured = this.#configured.get(clientId);
    if (configured) return configured;
    const stored = await this.#store?.find(MODEL, clientId);
    if (!stored) return NOTHING;
    const release = (Array.isArray(stored.release) ? stored.release : []).filter((r): r is Releasable =>
      RELEASABLE.includes(r as Releasable),
    );
    return { release, walkIn: stored.walkIn === true };
  }

  // For registered vendors only; configured ones change in the file. Keeps
  // the approval (one atomic update, so a concurrent approve is not lost).
  async set(clientId: string, policy: VendorPolicy): Promise<void> {
    if (this.#configured.has(clientId))
      throw new PatronymError('client_configured', `policy: "${clientId}" is configured in the file; change it there`);
    await this.#store?.update(MODEL, clientId, (current) => ({
      ...current,
      release: [...policy.release],
      walkIn: policy.walkIn,
    }));
  }

  // Approves a registered vendor under the name it has now (null: none).
  async approve(clientId: string, name: string | null): Promise<void> {
    if (this.#configured.has(clientId))
      throw new PatronymError(
        'client_configured',
        `policy: "${clientId}" is configured in the file; it needs no approval`,
      );
    await this.#store?.update(MODEL, clientId, (current) => ({
      release: [],
      walkIn: false,
      ...current,
      approvedName: name,
    }));
  }

  // Whether a vendor waits for the sysadmin: a registered vendor never
  // approved, or approved under another name. Configured vendors and the
  // broker's own clients (not in the store) never wait.
  async isPending(clientId: string): Promise<boolean> {
    if (this.#configured.has(clientId) || !this.#store) return false;
    const client = await this.#store.find('Client', clientId);
    if (!client) return false;
    const stored = await this.#store.find(MODEL, clientId);
    const name = typeof client.client_name === 'string' ? client.client_name : null;
    return stored === undefined || !('approvedName' in stored) || stored.approvedName !== name;
  }

  async remove(clientId: string): Promise<void> {
    await this.#store?.destroy(MODEL, clientId);
  }
}
