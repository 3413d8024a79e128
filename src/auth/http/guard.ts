// What every ILS REST authenticator does around its own logic: refuse an
// empty PIN before asking (some ILSs accept it for patrons without one),
// turn an IlsUnavailable into `unavailable`, and turn any other throw (a
// defect) into `unavailable` too, with the card and PIN scrubbed from it.
import { describeError } from '../../errors.ts';
import { type AuthResult, type Credentials, denied, unavailable } from '../authenticator.ts';
import { IlsUnavailable } from './ils-client.ts';

export async function guarded(
  component: string,
  { card, pin }: Credentials,
  check: () => Promise<AuthResult>,
): Promise<AuthResult> {
  if (pin.trim() === '') return denied('bad-credentials', 'empty PIN');
  // Causes are built from templates, but a low-level error text could
  // still quote what was sent: scrub the card and PIN from every cause.
  const scrub = (text: string) => text.split(card).join('…').split(pin).join('…');
  try {
    return await check();
  } catch (error) {
    if (error instanceof IlsUnavailable) return unavailable(scrub(error.message));
    return unavailable(`${component}: unexpected error: ${scrub(describeError(error))}`);
  }
}

// The date part (YYYY-MM-DD) of an ILS date, or undefined when there is none.
export function isoDay(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  return m?.[1];
}

// A card is valid through its expiry day (local to the library, so UTC day
// comparison errs by hours at most, never by a day's meaning).
export function expiredOn(day: string | undefined, now: number): boolean {
  return day !== undefined && day < new Date(now).toISOString().slice(0, 10);
}
