// What a vendor may register (itself at /reg, or the sysadmin with
// `patronym clients add`). Pure; each function returns the problem, in
// words for the vendor or the sysadmin, or undefined.

// Loopback only: a vendor's development machine, or a native app's local
// listener (RFC 8252 7.3). `*.localhost` names resolve to the loopback too
// (RFC 6761 6.3), and browsers treat them as secure contexts.
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host)
  );
}

// https only; http only on the loopback; never a user name or password
// (a code sent to https://user:pw@host ends up in logs and proxies, and
// the URL misleads whoever reads it); never a fragment (OAuth 2.0 3.1.2).
export function redirectUriProblem(uri: string): string | undefined {
  const url = URL.parse(uri);
  if (!url) return `"${uri}" is not a URL`;
  if (url.username !== '' || url.password !== '') return `"${uri}" must not carry a user name or password`;
  if (url.hash !== '' || uri.includes('#')) return `"${uri}" must not have a fragment`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopback(url.hostname) ? undefined : `"${uri}" must use https (http only on the loopback)`;
  return `"${uri}" must use https`;
}

// Names compared as a patron reads them: case, accents, spacing and
// punctuation do not make "SPRINGFIELD public-library" another name.
const fold = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

// The library a vendor's name would pass itself off as: a vendor named
// "Springfield Public Library (official)" is not the library.
export function impersonatedLibrary(name: string, libraries: Iterable<{ name: string }>): string | undefined {
  const vendor = fold(name);
  for (const library of libraries) {
    const folded = fold(library.name);
    if (folded !== '' && vendor.includes(folded)) return library.name;
  }
  return undefined;
}
