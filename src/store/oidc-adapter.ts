// oidc-provider's adapter contract, over a Store. oidc-provider creates one
// adapter per model name (Session, AuthorizationCode, …); all share the store.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Store } from './store.ts';

export function oidcAdapter(store: Store): new (name: string) => Adapter {
  return class StoreAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await store.upsert(this.name, id, payload as Record<string, unknown>, expiresIn);
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await store.find(this.name, id)) as AdapterPayload | undefined;
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return (await store.findByUid(this.name, uid)) as AdapterPayload | undefined;
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await store.findByUserCode(this.name, userCode)) as AdapterPayload | undefined;
    }
    async consume(id: string): Promise<void> {
      await store.consume(this.name, id);
    }
    async destroy(id: string): Promise<void> {
      await store.destroy(this.name, id);
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      await store.revokeByGrantId(grantId);
    }
  };
}
