// What the broker holds for one patron, and the patron's rights over it:
// end a vendor's sessions and tokens, and "forget me". Everything is found
// through the store's account index (payloads carrying `accountId`).
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

  // Deletes every record keyed by this patron: sessions, grants, tokens,
  // pseudonym generations, consents, the release log. Returns the count.
  async forget(accountId: string): Promise<number> {
    const records = await this.#store.findByAccount(accountId);
    for (const record of records) {
      if (record.model === 'Grant') await this.#store.revokeByGrantId(record.id);
      await this.#store.destroy(record.model, record.id);
    }
    await this.#store.scrub();
    return records.length;
  }
}
