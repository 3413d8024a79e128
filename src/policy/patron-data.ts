// What the broker holds for one patron, and the patron's rights over it:
// end a vendor's sessions and tokens, and "forget me". Everything is found
// through the store's account index (payloads carrying `accountId`; the
// oidc adapter puts interactions there too).
import type { Store } from '../store/store.ts';

export class PatronData {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  // Revokes every grant this patron gave this vendor, with the tokens and
  // codes issued under it. Returns how many grants ended.
  async endVendor(accountId: string, clientIds: readonly string[]): Promise<number> {
    let ended = 0;
    for (const record of await this.#store.findByAccount(accountId)) {
      if (record.model !== 'Grant' || !clientIds.includes(String(record.payload.clientId))) continue;
      await this.#store.revokeByGrantId(record.id);
      await this.#store.destroy('Grant', record.id);
      ended++;
    }
    return ended;
  }

  // Deletes every record keyed by this patron: broker sessions, sign-ins in
  // progress (interactions), grants, tokens, the account record, consents,
  // the release log, privacy-page sessions. Returns the count. (The durable
  // pseudonym generations stay, keyed only by keyed hashes: see
  // pseudonym/generations.ts.)
  async forget(accountId: string): Promise<number> {
    const records = await this.#store.findByAccount(accountId);
    for (const record of records) {
      if (record.model === 'Grant') await this.#store.revokeByGrantId(record.id);
      await this.#store.destroy(record.model, record.id);
    }
    // Expired records are invisible to findByAccount but still in the
    // files until swept: sweep now rather than at the next interval.
    await this.#store.sweep();
    await this.#store.scrub();
    return records.length;
  }
}
