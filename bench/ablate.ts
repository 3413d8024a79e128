// BENCH_PAIRED=ablate BENCH_ABLATE=throttle,headers,…: bare, Patronym, and
// Patronym once more for each name with that one of its functions switched
// off, all in the same rounds (with BENCH_INTERLEAVE=1, on the same seconds
// of the machine): what each function costs a sign-in, measured, where a CPU
// profile only apportions samples. The switches are not in src/:
// bench/ablate.patch adds them (`git apply bench/ablate.patch` before,
// `git apply -R bench/ablate.patch` after; test/unit/bench/ablate.test.ts
// keeps it applicable; after a change to the lines it touches, apply it,
// mend, then `git add -N src/bench-ablate.ts && git diff -- src >
// bench/ablate.patch`). They read PATRONYM_BENCH_ABLATE, set here in the
// row's own process.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ABLATIONS: Record<string, string> = {
  throttle: 'no attempt counted before the check, nothing reset after it',
  touch: 'each account record written once a process, not read again at each sign-in',
  ldapattrs: 'the LDAP search asks for the stable id only; the bind goes without the password-policy control',
  cookies: 'no remembered-library or device cookie',
  logm: 'no login log line or metrics',
  release: 'no release log or library statistics at the token endpoint',
  sub: "pseudonyms without the account's generations (always the first)",
  mw: 'the five middlewares in front of oidc-provider skipped on its own routes',
  headers: 'no security headers',
  page: "bare's minimal sign-in form instead of the library's page",
  all: 'every one of the above at once',
};

// The names asked for, each one known.
export function ablations(): string[] {
  const names = (process.env.BENCH_ABLATE ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !Object.hasOwn(ABLATIONS, name));
  if (unknown.length > 0) {
    throw new Error(
      `bench: BENCH_ABLATE: expected names from ${Object.keys(ABLATIONS).join(', ')}; found ${unknown.join(', ')}`,
    );
  }
  return names;
}

// In the row's process, before the broker starts. A row without the
// switches would measure the whole product under another name.
export function switchOff(names: string): void {
  if (!existsSync(fileURLToPath(new URL('../src/bench-ablate.ts', import.meta.url)))) {
    throw new Error('bench: BENCH_PAIRED=ablate needs `git apply bench/ablate.patch` first (and `git apply -R` after)');
  }
  process.env.PATRONYM_BENCH_ABLATE = names;
}
