// `patronym check`: asks every configured authenticator whether its backend
// answers; with --card, shows the outcome a sign-in would get.
import type { Authenticator } from '../../auth/authenticator.ts';
import { normaliseCredentials } from '../../auth/credentials.ts';
import { createAuthenticator } from '../../auth/registry.ts';
import { describeError, PatronymError } from '../../errors.ts';
import { loadConfigAndKeys } from '../context.ts';
import { readSecret } from '../prompt.ts';

export async function checkCommand(options: { library?: string; card?: string }): Promise<number> {
  const { config, keys } = await loadConfigAndKeys();
  const libraries = config.libraries.filter((l) => !options.library || l.id === options.library);
  if (libraries.length === 0) throw new PatronymError('library_unknown', `check: no library "${options.library}"`);
  const pin = options.card !== undefined ? await readSecret('PIN: ') : undefined;
  let failures = 0;
  for (const library of libraries) {
    for (const entry of library.authenticators) {
      let authenticator: Authenticator | undefined;
      try {
        authenticator = createAuthenticator(entry, {
          pinPepper: keys.pinPepper,
          warn: (m) => process.stdout.write(`  warning: ${m}\n`),
        });
        const summary = authenticator.check ? await authenticator.check() : 'no health check for this kind';
        process.stdout.write(`pass  ${library.id} / ${entry.id} (${entry.kind}): ${summary}\n`);
        if (options.card !== undefined && pin !== undefined) {
          const checked = normaliseCredentials(options.card, pin);
          const result = checked.ok ? await authenticator.authenticate(checked.credentials) : undefined;
          const outcome = !result
            ? `refused before asking: ${checked.ok ? '' : checked.problem}`
            : result.kind === 'ok'
              ? 'ok (the patron would be signed in)'
              : result.kind === 'denied'
                ? `denied: ${result.reason}${result.detail ? ` (${result.detail})` : ''}`
                : `unavailable: ${result.cause}`;
          process.stdout.write(`      sign-in with that card: ${outcome}\n`);
        }
      } catch (error) {
        failures++;
        process.stdout.write(`FAIL  ${library.id} / ${entry.id} (${entry.kind}): ${describeError(error)}\n`);
      } finally {
        await authenticator?.close();
      }
    }
  }
  return failures === 0 ? 0 : 1;
}
