// CQL string escaping for FOLIO queries (CQL 1.2, and RMB's reading of it):
// inside a quoted term a backslash escapes the next character; `*`, `?`
// and `^` are masking characters unless escaped. Without this a card of
// `*` would match every user.
export function cqlString(value: string): string {
  return `"${value.replace(/[\\"*?^]/g, (c) => `\\${c}`)}"`;
}
