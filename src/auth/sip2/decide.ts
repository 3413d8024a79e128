// What a 64 (or 24) means for a sign-in: the rules of SIP2.md, "What
// authenticated must mean". Pure, so every rule is pinned by a table test.
//
// Order matters: the card and PIN are settled first (BL, then CQ), and only
// a patron whose PIN is right learns that the card is expired or blocked.
// Denial details name the rule, never a value read about the patron.
import { type AuthResult, denied, ok, unavailable } from '../authenticator.ts';
import { parseExpiry } from './dates.ts';
import { allFields, firstField, type Sip2Message } from './message.ts';
import { type Sip2Options, STATUS_FLAGS, type StatusFlag } from './options.ts';

export interface DecisionRules {
  blocking: { flags: readonly StatusFlag[]; afPattern?: RegExp; feesOverLimit: boolean; feeLimit?: number };
  expiry: { field?: string; formats: readonly string[]; afPattern?: RegExp; expiredFlagField?: string };
  stableIdField?: string;
  attributes: Readonly<Record<string, string>>;
}

export function rulesFrom(o: Pick<Sip2Options, 'blocking' | 'expiry' | 'stableIdField' | 'attributes'>): DecisionRules {
  const { afPattern: blockAf, ...blocking } = o.blocking;
  const { afPattern: expiryAf, ...expiry } = o.expiry;
  return {
    blocking: blockAf === undefined ? blocking : { ...blocking, afPattern: new RegExp(blockAf, 'i') },
    expiry: expiryAf === undefined ? expiry : { ...expiry, afPattern: new RegExp(expiryAf, 'i') },
    ...(o.stableIdField === undefined ? {} : { stableIdField: o.stableIdField }),
    attributes: o.attributes,
  };
}

// The 14 flags lead the fixed part of both 24 and 64; `Y` means set.
function statusFlags(reply: Sip2Message): Set<StatusFlag> {
  return new Set(STATUS_FLAGS.filter((_, i) => reply.fixed[i] === 'Y'));
}

function amount(text: string | undefined): number | undefined {
  const t = text?.trim().replace(',', '.');
  return t && /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined;
}

// A card as a stable key: what patrons type and servers echo differs in
// spacing, dashes, width and case, never in the patron it names.
export function normaliseCard(card: string): string {
  return card
    .normalize('NFKC')
    .trim()
    .replace(/[\s-]+/g, '')
    .toUpperCase();
}

function expired(reply: Sip2Message, rules: DecisionRules['expiry'], now: Date): AuthResult | undefined {
  if (rules.expiredFlagField && firstField(reply, rules.expiredFlagField)?.trim().toUpperCase() === 'Y') {
    return denied('expired', `${rules.expiredFlagField}=Y`);
  }
  if (rules.afPattern && allFields(reply, 'AF').some((af) => rules.afPattern?.test(af))) {
    return denied('expired', 'AF matched expiry.afPattern');
  }
  const value = rules.field ? firstField(reply, rules.field)?.trim() : undefined;
  if (rules.field && value) {
    const until = parseExpiry(value, rules.formats);
    // Fail closed: a date we cannot read is a configuration mismatch the
    // sysadmin must see, not a patron to let in.
    if (!until) return unavailable(`sip2: expiry field ${rules.field} matches none of expiry.formats`);
    if (until.getTime() < now.getTime()) return denied('expired', `${rules.field} date passed`);
  }
  return undefined;
}

function blocked(reply: Sip2Message, rules: DecisionRules['blocking']): AuthResult | undefined {
  const flags = statusFlags(reply);
  const flag = rules.flags.find((f) => flags.has(f));
  if (flag) return denied('blocked', `status flag ${flag}`);
  if (rules.afPattern && allFields(reply, 'AF').some((af) => rules.afPattern?.test(af))) {
    return denied('blocked', 'AF matched blocking.afPattern');
  }
  const fees = amount(firstField(reply, 'BV'));
  if (fees !== undefined) {
    const limit = amount(firstField(reply, 'CC'));
    if (rules.feesOverLimit && limit !== undefined && fees > limit) return denied('blocked', 'BV over CC');
    if (rules.feeLimit !== undefined && fees > rules.feeLimit) return denied('blocked', 'BV over blocking.feeLimit');
  }
  return undefined;
}

// `card` is what was sent, used only when the reply carries no AA.
export function decide(reply: Sip2Message, rules: DecisionRules, now: Date, card: string): AuthResult {
  const bl = firstField(reply, 'BL')?.trim().toUpperCase();
  const cq = firstField(reply, 'CQ')?.trim().toUpperCase();
  if (bl === 'N') return denied('unknown-card', 'BL=N');
  if (cq === 'N') return denied('bad-credentials', 'CQ=N');
  // Anything but an explicit Y is a failure: a server that omits CQ for
  // unknown barcodes would otherwise let made-up cards in.
  if (bl !== 'Y') return denied('unknown-card', 'reply has no BL=Y');
  if (cq !== 'Y') return denied('bad-credentials', 'reply has no CQ=Y: PIN not verified');

  const stop = expired(reply, rules.expiry, now) ?? blocked(reply, rules.blocking);
  if (stop) return stop;

  let stableId: string;
  if (rules.stableIdField) {
    const id = firstField(reply, rules.stableIdField)?.trim();
    // Never fall back to the card: the patron's pseudonyms would change.
    if (!id) return unavailable(`sip2: reply has no ${rules.stableIdField} (stableIdField)`);
    stableId = id;
  } else {
    stableId = normaliseCard(firstField(reply, 'AA') || card);
    if (!stableId) return unavailable('sip2: reply has no AA and no card to fall back on');
  }
  const attributes: Record<string, string[]> = {};
  for (const [name, tag] of Object.entries(rules.attributes)) {
    const values = allFields(reply, tag).filter((v) => v.trim() !== '');
    if (values.length > 0) attributes[name] = values;
  }
  return ok({ stableId, attributes });
}
