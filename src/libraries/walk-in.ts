// Walk-in access: a visitor inside a library building uses a vendor without
// signing in. oidc-provider needs an accountId for the session, so a walk-in
// gets a random one that names only the library; its pseudonym is derived
// from it, so it is new for every session and ties to nobody. Real accountIds
// are base64url and never contain ".", so the two cannot collide.
import { randomBytes } from 'node:crypto';

const PREFIX = 'walk-in.';

export function walkInAccountId(libraryId: string): string {
  return `${PREFIX}${libraryId}.${randomBytes(16).toString('base64url')}`;
}

// The library of a walk-in accountId, or undefined for a patron's accountId.
export function walkInLibrary(accountId: string): string | undefined {
  if (!accountId.startsWith(PREFIX)) return undefined;
  const rest = accountId.slice(PREFIX.length);
  const dot = rest.lastIndexOf('.');
  return dot > 0 ? rest.slice(0, dot) : undefined;
}
