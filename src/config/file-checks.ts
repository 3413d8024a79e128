// The files named outside authenticators (logos, CA certificates, the
// privacy page template), checked on the input as written so that they are
// reported in the same run as any schema problem elsewhere.
import { statSync } from 'node:fs';
import { extname } from 'node:path';
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

export function checkNamedFiles(input: Record<string, unknown>, context: ResourceContext): void {
  const libraries = Array.isArray(input.libraries) ? input.libraries : [];
  libraries.forEach((library, i) => {
    const logo = field(library, 'logo');
    if (typeof logo === 'string' && logo !== '') checkLogo(logo, ['libraries', i, 'logo'], context);
  });
  const storeCa = field(field(input.store, 'tls'), 'ca');
  if (typeof storeCa === 'string' && storeCa !== '')
    readPem(storeCa, context, ['store', 'tls', 'ca'], 'the CA certificate (PEM) of the database server');
  const outboundCa = field(input.outbound, 'ca');
  if (typeof outboundCa === 'string' && outboundCa !== '')
    readPem(outboundCa, context, ['outbound', 'ca'], "a CA certificate (PEM) for vendors' private addresses");
  if (typeof input.privacyPage === 'string' && input.privacyPage !== '' && context.files)
    context.file(input.privacyPage, ['privacyPage'], 'an eta template for the /privacy page');
}
