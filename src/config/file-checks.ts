// The files named outside authenticators (logos, CA certificates, the
// privacy page template), checked on the input as written so that they are
// reported in the same run as any schema problem elsewhere.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { type At, fileFailure, type ResourceContext, readPem } from './resources.ts';

const LOGO_TYPES = new Set(['.png', '.jpg', '.jpeg', '.svg']);
const LOGO_MAX = 200 * 1024;

const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

function checkLogo(path: string, at: At, context: ResourceContext): void {
  if (!LOGO_TYPES.has(extname(path).toLowerCase())) {
    context.problem(at, `found ${JSON.stringify(path)}; expected a .png, .jpg or .svg file`);
    return;
  }
  if (!context.files) return;
  try {
    const size = statSync(path).size;
    if (size > LOGO_MAX)
      context.problem(at, `found ${Math.round(size / 1024)} kB in ${JSON.stringify(path)}; expected at most 200 kB`);
  } catch (error) {
    context.problem(at, `cannot read ${JSON.stringify(path)}: ${fileFailure(error)}; expected a logo file`);
  }
}

// SQLite opens the file for reading and writing and keeps its journal
// beside it, so both the file and its folder must be writable; otherwise
// the store fails later with "unable to open database file" or "attempt to
// write a readonly database", naming neither the file nor the fix.
function checkSqlitePath(path: string, context: ResourceContext): void {
  const at = ['store', 'path'];
  const expected =
    "expected the broker's user to be able to read and write it and its folder (SQLite keeps a journal beside it)";
  const absolute = resolve(path);
  try {
    if (existsSync(absolute)) {
      if (statSync(absolute).isDirectory()) {
        context.problem(at, `${JSON.stringify(path)} is a directory; expected a database file name`);
        return;
      }
      accessSync(absolute, constants.R_OK | constants.W_OK);
    }
  } catch (error) {
    context.problem(
      at,
      `cannot read and write ${JSON.stringify(path)}: ${fileFailure(error).replace('read access', 'read and write access')}; ${expected}`,
    );
    return;
  }
  // The folder, or the nearest existing parent (the store creates the rest).
  let folder = dirname(absolute);
  while (!existsSync(folder) && dirname(folder) !== folder) folder = dirname(folder);
  if (!statSync(folder).isDirectory()) {
    context.problem(at, `${JSON.stringify(folder)} in ${JSON.stringify(path)} is a file, not a folder; ${expected}`);
    return;
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    context.problem(
      at,
      `cannot write in the folder ${JSON.stringify(folder)} of ${JSON.stringify(path)}: ${fileFailure(error).replace('read access', 'write access')}; ${expected}`,
    );
  }
}

export function checkNamedFiles(input: Record<string, unknown>, context: ResourceContext): void {
  const libraries = Array.isArray(input.libraries) ? input.libraries : [];
  libraries.forEach((library, i) => {
    const logo = field(library, 'logo');
    if (typeof logo === 'string' && logo !== '') checkLogo(logo, ['libraries', i, 'logo'], context);
  });
  const store = input.store as { kind?: unknown; path?: unknown } | undefined;
  if (context.files && store?.kind === 'sqlite' && typeof store.path === 'string' && store.path !== '')
    checkSqlitePath(store.path, context);
  const storeCa = field(field(input.store, 'tls'), 'ca');
  if (typeof storeCa === 'string' && storeCa !== '')
    readPem(storeCa, context, ['store', 'tls', 'ca'], 'the CA certificate (PEM) of the database server');
  const outboundCa = field(input.outbound, 'ca');
  if (typeof outboundCa === 'string' && outboundCa !== '')
    readPem(outboundCa, context, ['outbound', 'ca'], "a CA certificate (PEM) for vendors' private addresses");
  if (typeof input.privacyPage === 'string' && input.privacyPage !== '' && context.files)
    context.file(input.privacyPage, ['privacyPage'], 'an eta template for the /privacy page');
}
