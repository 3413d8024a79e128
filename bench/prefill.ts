// Fills a store with records shaped like real sign-ins' (copies of the
// records a few real sign-ins left, under fresh ids), half of them already
// expired and not yet swept: what a store looks like after a busy day, or
// after downtime, between two sweeps. The bench then shows whether a
// sign-in's cost depends on them (it must not).
import { randomBytes } from 'node:crypto';
import type { Payload, Store, StoredRecord } from '../src/store/store.ts';

// The models a sign-in leaves behind that expire (Account, ReleaseLog,
// Consent and PseudonymGeneration are one per patron, not per sign-in).
const PER_SIGN_IN = new Set(['Session', 'AuthorizationCode', 'AccessToken', 'Grant', 'Interaction']);

const fresh = (): string => randomBytes(32).toString('base64url');

export interface PrefillCounts {
  expired: number;
  live: number;
}

// Templates: every live per-sign-in record in the store now.
async function templates(store: Store): Promise<StoredRecord[]> {
  const found: StoredRecord[] = [];
  for await (const record of store.dump()) if (PER_SIGN_IN.has(record.model)) found.push(record);
  if (found.length === 0) throw new Error('bench: prefill needs a few real sign-ins first');
  return found;
}

// A copy of a template under new ids: its uid and grant are new too, so no
// copy shares a lookup key with a real record (only the accountId, as a
// patron's many sign-ins do).
function copy(template: StoredRecord): { id: string; payload: Payload } {
  const payload: Payload = { ...template.payload };
  if (typeof payload.uid === 'string') payload.uid = fresh();
  if (typeof payload.grantId === 'string') payload.grantId = fresh();
  if (typeof payload.sessionUid === 'string') payload.sessionUid = fresh();
  return { id: fresh(), payload };
}

// Writes `counts.expired` records whose expiry passed between a minute and
// eight hours ago and `counts.live` that expire in one to eight hours,
// `parallel` writes at a time (PostgreSQL's pool).
export async function prefill(store: Store, counts: PrefillCounts, parallel = 16): Promise<void> {
  const from = await templates(store);
  const total = counts.expired + counts.live;
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const template = from[n % from.length] as StoredRecord;
      const { id, payload } = copy(template);
      const seconds = 60 + ((n * 7919) % (8 * 3600 - 60));
      await store.upsert(template.model, id, payload, n < counts.expired ? -seconds : seconds);
    }
  };
  await Promise.all(Array.from({ length: parallel }, writer));
}
