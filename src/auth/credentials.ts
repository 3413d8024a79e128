// What a patron typed, made safe before any backend sees it: Unicode NFKC
// (full-width digits from a phone keyboard become ASCII), trimmed, length
// limited. Card numbers also lose inner spaces and dashes, which patrons copy
// from the printed card.
import type { Credentials } from './authenticator.ts';

export const CARD_MAX = 64;
const PIN_MAX = 128;

export type CredentialProblem = 'card-missing' | 'pin-missing' | 'card-too-long' | 'pin-too-long';

export function normaliseCredentials(
  card: unknown,
  pin: unknown,
): { ok: true; credentials: Credentials } | { ok: false; problem: CredentialProblem } {
  const rawCard = typeof card === 'string' ? card : '';
  const rawPin = typeof pin === 'string' ? pin : '';
  // Check raw lengths first so a 10 MB field is never normalised.
  if (rawCard.length > CARD_MAX * 4) return { ok: false, problem: 'card-too-long' };
  if (rawPin.length > PIN_MAX * 4) return { ok: false, problem: 'pin-too-long' };
  const c = rawCard
    .normalize('NFKC')
    .trim()
    .replace(/[\s-]+/g, '');
  const p = rawPin.normalize('NFKC').trim();
  if (c === '') return { ok: false, problem: 'card-missing' };
  if (c.length > CARD_MAX) return { ok: false, problem: 'card-too-long' };
  if (p === '') return { ok: false, problem: 'pin-missing' };
  if (p.length > PIN_MAX) return { ok: false, problem: 'pin-too-long' };
  return { ok: true, credentials: { card: c, pin: p } };
}
