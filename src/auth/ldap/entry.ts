// Reading what we need from a directory entry. Pure.
import type { Entry } from './connection.ts';

const raw = (entry: Entry, attribute: string): readonly Buffer[] => entry.attributes.get(attribute.toLowerCase()) ?? [];

export const text = (entry: Entry, attribute: string): string[] => raw(entry, attribute).map((b) => b.toString('utf8'));

// The DN to bind as, as the server wrote it: OpenLDAP's and 389-DS's
// `entryDN` (RFC 5020), AD's `distinguishedName`; the protocol's own entry
// name only as a last resort, because ldapjs re-prints it and can lose
// escapes on the way.
export const DN_ATTRIBUTES = ['entryDN', 'distinguishedName'];
export function dnOf(entry: Entry): string {
  for (const a of DN_ATTRIBUTES) {
    const value = text(entry, a)[0];
    if (value) return value;
  }
  return entry.dn;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
// Printable text without control characters.
const PRINTABLE = /^[^\p{Cc}]+$/u;

// AD's objectGUID is 16 bytes, the first three fields little-endian; the
// usual text form is the one sysadmins see in their tools.
function guid(b: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...b.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

export type StableId = { ok: true; value: string } | { ok: false; problem: string };

// The same bytes always give the same stableId: text when they are
// printable UTF-8 (entryUUID, nsUniqueId, a record number), base64url
// otherwise (binary keys).
export function stableIdOf(entry: Entry, attribute: string): StableId {
  const values = raw(entry, attribute);
  if (values.length === 0) return { ok: false, problem: `the entry has no "${attribute}" (stableIdAttribute)` };
  if (values.length > 1) {
    return {
      ok: false,
      problem: `"${attribute}" has ${values.length} values; the stableIdAttribute must be single-valued`,
    };
  }
  const value = values[0] as Buffer;
  if (attribute.toLowerCase() === 'objectguid' && value.length === 16) return { ok: true, value: guid(value) };
  try {
    const decoded = utf8.decode(value);
    if (PRINTABLE.test(decoded)) return { ok: true, value: decoded };
  } catch {
    // not UTF-8: binary
  }
  return { ok: true, value: `b64:${value.toString('base64url')}` };
}
