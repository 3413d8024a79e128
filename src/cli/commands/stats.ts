// `patronym stats`: the library's usage statistics as CSV or JSON, in a
// shape close to COUNTER reports; `patronym stats hash-password`: the hash
// for `stats.page.passwordHash`.
import { PatronymError } from '../../errors.ts';
import { hashStatsPassword, MIN_PASSWORD_LENGTH } from '../../stats/password.ts';
import { buildReport, checkQuery, formatReport, type QueryInput } from '../../stats/request.ts';
import { openStore } from '../../store/registry.ts';
import { loadConfig } from '../context.ts';
import { readSecret } from '../prompt.ts';

export interface StatsOptions extends QueryInput {
  format?: string;
}

export async function statsCommand(options: StatsOptions, now = Date.now()): Promise<void> {
  const format = options.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') {
    throw new PatronymError('stats_query_invalid', `stats: --format must be "csv" or "json"; found "${format}"`);
  }
  const config = loadConfig();
  const query = checkQuery(options, now);
  const store = openStore(config.store, { shared: true });
  try {
    process.stdout.write(formatReport(await buildReport(store, config, query, now), format));
  } finally {
    await store.close();
  }
}

export async function hashPasswordCommand(): Promise<void> {
  const password = await readSecret('Password for /stats: ');
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new PatronymError(
      'stats_password_short',
      `stats: a password for /stats needs at least ${MIN_PASSWORD_LENGTH} characters; found ${password.length}`,
    );
  }
  process.stdout.write(`${await hashStatsPassword(password)}\n`);
}
