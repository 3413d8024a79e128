// `patronym check`: asks every configured authenticator whether its backend
// answers; with --card, shows the outcome a sign-in would get. Exit 0 when
// all is well, 1 when a backend failed, 2 when the card would be refused,
// so a script or a monitor can act on it.
import type { Authenticator } from '../../auth/authenticator.ts';
import { normaliseCredentials } from '../../auth/credentials.ts';
import { createAuthenticator } from '../../auth/registry.ts';
import type { ResolvedAuthenticator } from '../../config/config.ts';
import { describeError, PatronymError } from '../../errors.ts';
import { loadConfigAndKeys } from '../context.ts';
import { readSecret } from '../prompt.ts';

// Each authenticator once, however many libraries share it (a system's
// twenty branches on one ILS are one backend: asking it twenty times would
// say nothing new and load the ILS for nothing), with the libraries it
// serves. `--library` narrows to the authenticators of that library.
export async function checkCommand(options: { library?: string; card?: string }): Promise<number> {
  const { config, keys } = await loadConfigAndKeys();
  const libraries = config.libraries.filter((l) => !options.library || l.id === options.library);
  if (libraries.length === 0) throw new PatronymError('library_unknown', `check: no library "${options.library}"`);
  const backends = new Map<string, { entry: ResolvedAuthenticator; libraries: string[] }>();
  for (const library of libraries) {
    for (const entry of library.authenticators) {
      const known = backends.get(entry.id);
      if (known) known.libraries.push(library.id);
      else backends.set(entry.id, { entry, libraries: [library.id] });
    }
  }
  const pin = options.card !== undefined ? await readSecret('PIN: ') : undefined;
  let failures = 0;
  // Whether some authenticator would sign the card in (a chain tries each
  // until one knows the card, so one `ok` is enough).
  let signedIn = false;
  for (const { entry, libraries: served } of backends.values()) {
    const label = `${entry.id} (${entry.kind}) for ${servedBy(served)}`;
    let authenticator: Authenticator | undefined;
    try {
      authenticator = createAuthenticator(entry, {
        pinPepper: keys.pinPepper,
        warn: (m) => process.stdout.write(`  warning: ${m}\n`),
      });
      const summary = authenticator.check ? await authenticator.check() : 'no health check for this kind';
      process.stdout.write(`pass  ${label}: ${summary}\n`);
      if (options.card !== undefined && pin !== undefined) {
        const checked = normaliseCredentials(options.card, pin);
        const result = checked.ok ? await authenticator.authenticate(checked.credentials) : undefined;
        if (result?.kind === 'ok') signedIn = true;
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
      process.stdout.write(`FAIL  ${label}: ${describeError(error)}\n`);
    } finally {
      await authenticator?.close();
    }
  }
  process.stdout.write(
    `${backends.size} authenticator${backends.size === 1 ? '' : 's'} for ${libraries.length} librar${libraries.length === 1 ? 'y' : 'ies'}: ` +
      `${backends.size - failures} answered, ${failures} failed\n`,
  );
  if (failures > 0) return 1;
  if (options.card !== undefined && !signedIn) {
    process.stdout.write('that card would not be signed in\n');
    return 2;
  }
  return 0;
}

// "library l", "libraries a, b and c", or the first few and a count.
function servedBy(ids: readonly string[]): string {
  if (ids.length === 1) return `library ${ids[0]}`;
  const shown = ids.length <= 4 ? ids : ids.slice(0, 3);
  const rest = ids.length - shown.length;
  const head = shown.slice(0, rest > 0 ? shown.length : -1).join(', ');
  return rest > 0 ? `libraries ${head} and ${rest} more` : `libraries ${head} and ${ids.at(-1)}`;
}
