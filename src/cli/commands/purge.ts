// `patronym purge`: delete every expired record now (the broker also does it
// every `sweepInterval` seconds) and print what went, by kind.
import { openStore } from '../../store/registry.ts';
import type { Store } from '../../store/store.ts';
import { loadConfig } from '../context.ts';

// What each stored model is, in a sysadmin's words.
const KINDS: Record<string, string> = {
  Session: 'sign-in sessions',
  Interaction: 'sign-ins in progress',
  AuthorizationCode: 'authorization codes',
  AccessToken: 'access tokens',
  RefreshToken: 'refresh tokens',
  Grant: 'grants',
  // Pseudonym generations (PseudonymGeneration) never expire, so never
  // appear here: an abandoned pseudonym must not come back.
  Account: 'patron records (realm, last library)',
  Consent: 'consents',
  ReleaseLog: 'release logs',
  AccountSession: 'privacy page sessions',
  StatsKey: 'statistics keys of ended days and months',
};

// Statistics are kept in one model per month (src/stats/recorder.ts).
const kind = (model: string): string =>
  KINDS[model] ?? (model.startsWith('StatsDay/') ? `usage statistics of ${model.slice(9)}` : model);

export async function purge(store: Store): Promise<Record<string, number>> {
  const removed = await store.sweep();
  await store.scrub();
  return removed;
}

export function formatPurge(removed: Record<string, number>): string {
  const total = Object.values(removed).reduce((a, b) => a + b, 0);
  const lines = Object.entries(removed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, n]) => `  ${String(n).padStart(6)}  ${kind(model)}`);
  return `purged ${total} expired record(s)${lines.length ? `\n${lines.join('\n')}` : ''}\n`;
}

export async function purgeCommand(): Promise<void> {
  const config = loadConfig();
  const store = openStore(config.store, { shared: true });
  try {
    process.stdout.write(formatPurge(await purge(store)));
  } finally {
    await store.close();
  }
}
