// Plain JavaScript on purpose: it runs before anything imports a `.ts` file,
// so that an older Node says what to install instead of failing with
// ERR_UNKNOWN_FILE_EXTENSION and a stack.

// Node runs TypeScript without a flag from 22.18 (and 23.6); package.json
// `engines` says the same.
const MINIMUM_NODE = '22.18';

export function nodeVersionProblem(version, execPath = 'node') {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major === 22 ? minor >= 18 : major === 23 ? minor >= 6 : major >= 24;
  if (ok) return undefined;
  return (
    `patronym: needs Node.js ${MINIMUM_NODE} or later, which runs its TypeScript directly; ` +
    `found Node.js ${version} (${execPath}). Install Node.js 22 LTS (22.18 or later) or 24 and run it again.`
  );
}
