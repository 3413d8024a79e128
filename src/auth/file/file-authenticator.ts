// `file` authenticator: checks card + PIN against the patron file. The file is
// re-read when it changes on disk, so `patronym patrons add` needs no restart.
import { statSync } from 'node:fs';
import { describeError } from '../../errors.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, ok, unavailable } from '../authenticator.ts';
import type { FileOptions } from './options.ts';
import { expiryOf, type PatronEntry, readPatronFile } from './patron-file.ts';
import { hashPin, verifyPin } from './pin-hash.ts';

export interface FileAuthenticatorContext {
  pinPepper: Buffer;
  now?: () => number;
}

export class FileAuthenticator implements Authenticator {
  readonly kind = 'file';
  readonly id: string;
  readonly #path: string;
  readonly #pepper: Buffer;
  readonly #now: () => number;
  #patrons = new Map<string, PatronEntry>();
  #mtime = -1;
  // Verified against when the card is unknown, so that an unknown card costs
  // the same time as a wrong PIN.
  #decoy: Promise<string>;

  constructor(id: string, options: FileOptions, context: FileAuthenticatorContext) {
    this.id = id;
    this.#path = options.path;
    this.#pepper = context.pinPepper;
    this.#now = context.now ?? Date.now;
    this.#decoy = hashPin(this.#pepper, 'decoy');
    this.#reload();
  }

  #reload(): void {
    const mtime = statSync(this.#path).mtimeMs;
    if (mtime === this.#mtime) return;
    this.#patrons = new Map(readPatronFile(this.#path).map((p) => [p.card, p]));
    this.#mtime = mtime;
  }

  async authenticate({ card, pin }: Credentials): Promise<AuthResult> {
    try {
      this.#reload();
    } catch (error) {
      return unavailable(describeError(error));
    }
    if (pin.trim() === '') return denied('bad-credentials', 'empty PIN');
    const entry = this.#patrons.get(card);
    if (!entry) {
      await verifyPin(this.#pepper, pin, await this.#decoy);
      return denied('unknown-card');
    }
    if (!(await verifyPin(this.#pepper, pin, entry.pin))) return denied('bad-credentials');
    // Status only after the PIN is right: a guesser learns nothing about the card.
    if (entry.status === 'blocked') return denied('blocked');
    const expiry = expiryOf(entry);
    if (entry.status === 'expired' || (expiry && expiry.getTime() < this.#now())) return denied('expired');
    return ok({ stableId: entry.id, attributes: entry.attributes ?? {} });
  }

  // The patron file is a map keyed by the card as written: exact match.
  canonicalCard(card: string): string {
    return card;
  }

  async check(): Promise<string> {
    this.#reload();
    return `${this.#patrons.size} patrons in ${this.#path}`;
  }

  async close(): Promise<void> {}
}
