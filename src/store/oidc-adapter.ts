// oidc-provider's adapter contract, over a Store. oidc-provider creates one
// adapter per model name (Session, AuthorizationCode, …); all share the store.
//
// Where a record's id is itself a bearer secret (a token, a code, a cookie
// value), the store keys it by its SHA-256 instead: a copy of the store
// file then holds no token, code or session that can be used.
import { hash } from 'node:crypto';
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Store } from './store.ts';

const BEARER_MODELS = new Set([
  'Session',
  'Interaction',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'ClientCredentials',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
]);

export const storedId = (model: string, id: string): string =>
  BEARER_MODELS.has(model) ? hash('sha256', id, 'base64url') : id;

// A token's payload repeats its value as `jti`: leave it out and give it
// back on the way out, from the value oidc-provider asked with. Sessions and
// interactions keep theirs (oidc-provider finds a session by uid and saves
// it again under its jti); their cookies are signed with the cookie keys, so
// a copy of the store alone cannot forge one.
const TOKEN_MODELS = new Set([...BEARER_MODELS].filter((m) => m !== 'Session' && m !== 'Interaction'));

// An Interaction names its patron only inside (`result.login.accountId`,
// `lastSubmission.login.accountId`, `session.accountId`); repeated at the
// top it enters the store's account index, so "forget me" finds sign-ins in
// progress too (one cut off before it reached a grant included).
function interactionAccount(payload: AdapterPayload): string | undefined {
  type Login = { login?: { accountId?: unknown } };
  const p = payload as { result?: Login; lastSubmission?: Login; session?: { accountId?: unknown } };
  const accountId = p.result?.login?.accountId ?? p.lastSubmission?.login?.accountId ?? p.session?.accountId;
  return typeof accountId === 'string' ? accountId : undefined;
}

function toStore(model: string, payload: AdapterPayload): Record<string, unknown> {
  if (model === 'Interaction') {
    const accountId = interactionAccount(payload);
    return accountId ? { ...payload, accountId } : (payload as Record<string, unknown>);
  }
  if (!TOKEN_MODELS.has(model)) return payload as Record<string, unknown>;
  const { jti: _jti, ...rest } = payload as Record<string, unknown>;
  return rest;
}

function fromStore(
  model: string,
  id: string,
  payload: Record<string, unknown> | undefined,
): AdapterPayload | undefined {
  if (!payload) return undefined;
  if (model === 'Interaction') {
    const { accountId: _indexed, ...rest } = payload;
    return rest as AdapterPayload;
  }
  return (TOKEN_MODELS.has(model) ? { ...payload, jti: id } : payload) as AdapterPayload;
}

export function oidcAdapter(store: Store): new (name: string) => Adapter {
  return class StoreAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await store.upsert(this.name, storedId(this.name, id), toStore(this.name, payload), expiresIn);
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return fromStore(this.name, id, await store.find(this.name, storedId(this.name, id)));
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return (await store.findByUid(this.name, uid)) as AdapterPayload | undefined;
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await store.findByUserCode(this.name, userCode)) as AdapterPayload | undefined;
    }
    // oidc-provider checks `consumed` on the record it read, then consumes:
    // two redemptions at once (on two instances) would both pass that
    // check. The store's consume is atomic; the loser is a replay, answered
    // as oidc-provider answers one (the grant revoked, invalid_grant).
    async consume(id: string): Promise<void> {
      if (await store.consume(this.name, storedId(this.name, id))) return;
      const record = await store.find(this.name, storedId(this.name, id));
      if (typeof record?.grantId === 'string') await store.revokeByGrantId(record.grantId);
      throw new errors.InvalidGrant(`${this.name} already consumed`);
    }
    async destroy(id: string): Promise<void> {
      await store.destroy(this.name, storedId(this.name, id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      await store.revokeByGrantId(grantId);
    }
  };
}
