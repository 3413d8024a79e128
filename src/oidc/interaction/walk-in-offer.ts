// "Continue without signing in", only inside a library's buildings and only
// for vendors whose release policy allows walk-in access. Shared by the
// sign-in page (to offer it) and the walk-in step (to check it again).
import type { Context } from 'koa';
import type { Library } from '../../libraries/library.ts';
import type { VendorPolicies } from '../../policy/vendors.ts';
import type { Details } from './flow.ts';

export async function walkInOffer(
  libraries: ReadonlyMap<string, Library>,
  policies: VendorPolicies,
  ctx: Context,
  d: Details,
  shown: Library | undefined,
): Promise<Library | undefined> {
  if (!(await policies.get(String(d.params.client_id))).walkIn) return undefined;
  const ip = ctx.state.clientAddress ?? ctx.ip;
  if (shown) return shown.isWalkIn(ip) ? shown : undefined;
  const inside = [...libraries.values()].filter((l) => l.isWalkIn(ip));
  return inside.length === 1 ? inside[0] : undefined;
}
