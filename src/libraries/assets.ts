// Each library's branding, served from the broker itself (no third-party
// assets): its logo file and a small stylesheet with its colours. Colours
// were checked for WCAG AA contrast at start-up (config/checks.ts): the light
// ones against a light page, the dark variant against the dark page. A
// library without a dark variant keeps its pages light in dark mode, as its
// accent was only checked against white.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Middleware } from 'koa';
import type { Library } from './library.ts';

const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};
const LIGHT = '--fg: #1b1b1b; --bg: #f4f4f2; --card: #fff; --error: #b00020; --muted: #555; color-scheme: light;';
// The dark page of patronym.css; checks.ts tests dark accents against its card.
const DARK_CARD = '#1e1e1e';
const DARK = `--fg: #eee; --bg: #121212; --card: ${DARK_CARD}; --error: #ff8a80; --muted: #bbb; color-scheme: dark;`;

export interface Branding {
  name: string;
  logo?: string;
  theme?: string;
}

export function brandingOf(library: Library): Branding {
  const branding: Branding = { name: library.name };
  if (library.logo) branding.logo = `/libraries/${library.id}/logo`;
  if (library.colours) branding.theme = `/libraries/${library.id}/theme.css`;
  return branding;
}

export function themeCss(colours: NonNullable<Library['colours']>): string {
  const light = `${LIGHT} --accent: ${colours.accent}; --accent-fg: ${colours.accentText};`;
  const dark = colours.dark
    ? `${DARK} --accent: ${colours.dark.accent}; --accent-fg: ${colours.dark.accentText};`
    : light;
  return `:root { ${light} }\n@media (prefers-color-scheme: dark) { :root { ${dark} } }\n`;
}

export function libraryAssets(libraries: ReadonlyMap<string, Library>): Middleware {
  const files = new Map<string, { type: string; body: Buffer | string }>();
  for (const library of libraries.values()) {
    if (library.logo) {
      files.set(`/libraries/${library.id}/logo`, {
        type: TYPES[extname(library.logo).toLowerCase()] ?? 'application/octet-stream',
        body: readFileSync(library.logo),
      });
    }
    if (library.colours) {
      files.set(`/libraries/${library.id}/theme.css`, { type: 'text/css', body: themeCss(library.colours) });
    }
  }
  return async (ctx, next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    // An SVG is a document: never let it run script.
    if (file.type === 'image/svg+xml')
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.body = file.body;
  };
}
