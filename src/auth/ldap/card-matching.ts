// The card as the directory compares it. Under caseIgnoreMatch (RFC 4517
// section 4.2.11, the rule of uid, cn, employeeNumber, mail…) "P123" and
// "p123" find the same entry, so they must share one throttling counter.
// RFC 4518 folds case with Unicode case folding; upper- then lower-casing
// gives the same result for the characters cards are made of (and for
// "ß" → "ss"). Inner spaces, which RFC 4518 also folds, are already gone
// (auth/credentials.ts).
import type { LdapOptions } from './options.ts';

export function canonicalLdapCard(matching: LdapOptions['cardMatching'], card: string): string {
  return matching === 'caseExactMatch' ? card : card.toUpperCase().toLowerCase();
}
