// The privacy page's own short session: a random cookie value, kept in the
// store only as its SHA-256 (a bearer secret), naming the patron by
// accountId. It also carries the page's one-time notice ("… now sees a new
// pseudonym"), from a closed set and naming a vendor by client id only, so
// nothing a link can carry becomes text on the page.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';

export const SESSION_COOKIE = 'patronym_account';
// The privacy page is for a few minutes' use, often on a shared computer.
export const SESSION_SECONDS = 15 * 60;
const MODEL = 'AccountSession';

const NOTICES = ['reset', 'withdraw'] as const;
export interface Notice {
  id: (typeof NOTICES)[number];
  vendor: string;
}

export interface PrivacySession {
  sessionId: string;
  accountId: string;
  // Epoch ms: writing a notice into the session keeps its lifetime.
  expiresAt: number;
  notice: Notice | undefined;
}

export const S256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

function noticeOf(value: unknown): Notice | undefined {
  const n = value as Partial<Notice> | undefined;
  return n && NOTICES.includes(n.id as Notice['id']) && typeof n.vendor === 'string' ? (n as Notice) : undefined;
}

export class PrivacySessions {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  // Resolves with the cookie value.
  async open(accountId: string): Promise<string> {
    const sessionId = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + SESSION_SECONDS * 1000;
    await this.#store.upsert(MODEL, S256(sessionId), { accountId, expiresAt }, SESSION_SECONDS);
    return sessionId;
  }

  async find(sessionId: string): Promise<PrivacySession | undefined> {
    const record = await this.#store.find(MODEL, S256(sessionId));
    if (typeof record?.accountId !== 'string') return undefined;
    return {
      sessionId,
      accountId: record.accountId,
      expiresAt: typeof record.expiresAt === 'number' ? record.expiresAt : Date.now() + SESSION_SECONDS * 1000,
      notice: noticeOf(record.notice),
    };
  }

  // Sets (or, with undefined, clears) the notice the next page shows.
  async setNotice(who: PrivacySession, notice: Notice | undefined): Promise<void> {
    const left = Math.ceil((who.expiresAt - Date.now()) / 1000);
    if (left <= 0) return;
    await this.#store.update(
      MODEL,
      S256(who.sessionId),
      (current) => {
        const { notice: _old, ...rest } = current ?? { accountId: who.accountId, expiresAt: who.expiresAt };
        return notice ? { ...rest, notice } : rest;
      },
      left,
    );
  }

  async close(sessionId: string): Promise<void> {
    await this.#store.destroy(MODEL, S256(sessionId));
  }
}
