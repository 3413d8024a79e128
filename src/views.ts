// Server-rendered patron pages: eta templates (auto-escaping on) from views/,
// sentences from the message catalogue. Nothing here runs in the browser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import type { Context } from 'koa';

export type Translate = (key: string, vars?: Record<string, string>) => string;

export interface Views {
  readonly lang: string;
  t: Translate;
  render(page: string, data: Record<string, unknown>): string;
}

export const VIEWS_DIR = join(import.meta.dirname, '..', 'views');

export function createViews(dir = VIEWS_DIR, lang = 'en'): Views {
  const messages = JSON.parse(readFileSync(join(dir, 'messages', `${lang}.json`), 'utf8')) as Record<string, string>;
  const t: Translate = (key, vars = {}) => {
    const text = messages[key];
    if (text === undefined) throw new Error(`views: no message "${key}" in ${lang}.json`);
    return text.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? `{${name}}`);
  };
  const eta = new Eta({ views: dir, cache: true, autoEscape: true, autoTrim: false });
  return {
    lang,
    t,
    render: (page, data) => eta.render(`./${page}`, { ...data, t, lang }),
  };
}

// A rendered page as the response: never cached (pages carry per-request
// tokens and patron-specific text).
export function sendPage(ctx: Context, views: Views, page: string, data: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = views.render(page, data);
}

// The error page: a catalogue sentence for the patron and a code for the
// vendor's support, never an internal message.
export function sendError(ctx: Context, views: Views, status: number, messageKey: string, code?: string): void {
  sendPage(ctx, views, 'error', { title: views.t('error.title'), message: views.t(messageKey), code }, status);
}
