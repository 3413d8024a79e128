// Server-rendered patron pages: eta templates (auto-escaping on) from views/,
// sentences from one ICU message catalogue per language (views/messages/),
// formatted by intl-messageformat, numbers and dates through Intl. Nothing
// here runs in the browser.
//
// The language belongs to the request: `views.middleware()` notes where it
// can come from (the switcher's cookie, Accept-Language) for each request,
// routes add what only they know (the vendor's ui_locales, the library
// shown) through `views.hint(ctx, …)`, and every sentence, date and page is
// asked for with the request's context. No AsyncLocalStorage: with one
// enabled, Node 22 runs a hook for every promise the process makes
// (oidc-provider keeps one for its own routes; a second doubled that cost,
// about 0.3 ms of CPU per sign-in, issue 18).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import { IntlMessageFormat } from 'intl-messageformat';
import type { Context, Middleware } from 'koa';
import { PatronymError } from './errors.ts';
import {
  DEFAULT_LOCALE,
  directionOf,
  isLocale,
  LOCALES,
  type Locale,
  type LocaleSources,
  negotiateLocale,
} from './locale.ts';

export type MessageValue = string | number | Date;
export type Translate = (key: string, vars?: Record<string, MessageValue>) => string;

// What a library may say in its own words (`libraries[].messages`) and
// which language it speaks by default.
export interface LocalLibrary {
  id: string;
  name: string;
  language?: Locale | undefined;
  messages?: Partial<Record<Locale, Record<string, string>>> | undefined;
  help?: { url?: string | undefined; phone?: string | undefined; email?: string | undefined } | undefined;
}

// The request a sentence is for: its Koa context (oidc-provider's hooks get
// the same object). Outside a request, or before the middleware ran, any
// object will do: the language is then the only library's, or English.
export type RequestContext = object;

export interface TemplateHelpers {
  t: Translate;
  date(value: string | number | Date): string;
  lang: Locale;
}

export interface Views {
  // The request's language.
  locale(ctx: RequestContext): Locale;
  t(ctx: RequestContext, key: string, vars?: Record<string, MessageValue>): string;
  // A date (YYYY-MM-DD, an ISO timestamp or epoch ms) in the request's language.
  date(ctx: RequestContext, value: string | number | Date): string;
  render(ctx: RequestContext, page: string, data: Record<string, unknown>): string;
  // What every template gets for the request: t, date and lang (a sysadmin's
  // own privacy page is rendered with these too).
  helpers(ctx: RequestContext): TemplateHelpers;
  // Notes the request's language sources (mounted once, before every page).
  middleware(): Middleware;
  // What a route learnt about the request's language: ui_locales, the library.
  // `here`: where the switcher's links lead when the page answers a form
  // post (which has no address of its own to come back to).
  hint(ctx: RequestContext, sources: { uiLocales?: unknown; library?: LocalLibrary | undefined; here?: string }): void;
}

export const VIEWS_DIR = join(import.meta.dirname, '..', 'views');
// The switcher's choice: only a language code, strictly necessary to keep
// the page in the language the patron picked.
export const LANG_COOKIE = 'patronym_lang';
export const LANG_COOKIE_DAYS = 180;

interface RequestLanguage extends LocaleSources {
  // The library the page is about: its default language and its wording.
  libraryEntry?: LocalLibrary | undefined;
  // Where the switcher's links lead (the page itself for a GET).
  here: string;
  // Worked out at the first use and kept until a hint changes the sources:
  // a page asks for the language once per sentence (the sign-in page some
  // thirty times), and negotiating parses Accept-Language every time.
  locale?: Locale | undefined;
  switcher?: LanguageLink[] | undefined;
}

interface LanguageLink {
  locale: Locale;
  dir: 'rtl' | 'ltr';
  name: string;
  href: string;
  current: boolean;
}

// A compiled message; `plain` when it has no arguments, so that its text is
// formatted once rather than at every use.
interface Compiled {
  format: IntlMessageFormat;
  numeric: Set<string>;
  plain?: string | undefined;
}

type Catalogue = Record<string, string>;

function loadCatalogue(dir: string, locale: Locale): Catalogue {
  const raw = JSON.parse(readFileSync(join(dir, 'messages', `${locale}.json`), 'utf8')) as Record<string, unknown>;
  // `_review` (and any other `_` key) is for translators, not a message.
  return Object.fromEntries(
    Object.entries(raw).filter((e): e is [string, string] => !e[0].startsWith('_') && typeof e[1] === 'string'),
  );
}

// Names of the arguments a message formats as numbers (plural, select
// ordinal, number): callers that pass "3" as text still get plural forms.
function numericArguments(format: IntlMessageFormat): Set<string> {
  const names = new Set<string>();
  const walk = (elements: ReturnType<IntlMessageFormat['getAst']>) => {
    for (const e of elements) {
      if ((e.type === 2 || e.type === 6) && 'value' in e) names.add(String(e.value));
      if ('options' in e && e.options) {
        for (const option of Object.values(e.options as Record<string, { value: typeof elements }>)) walk(option.value);
      }
    }
  };
  walk(format.getAst());
  return names;
}

export interface ViewsOptions {
  dir?: string;
  libraries?: readonly LocalLibrary[];
}

export function createViews(options: ViewsOptions = {}): Views {
  const dir = options.dir ?? VIEWS_DIR;
  const catalogues = new Map(LOCALES.map((l) => [l, loadCatalogue(dir, l)]));
  const english = catalogues.get(DEFAULT_LOCALE) as Catalogue;
  const formats = new Map<string, Compiled>();
  const compile = (cacheKey: string, text: string, locale: Locale): Compiled => {
    let compiled = formats.get(cacheKey);
    if (!compiled) {
      const format = new IntlMessageFormat(text, locale);
      // Literal elements only (type 0): no argument can change the text.
      const plain = format.getAst().every((e) => e.type === 0) ? String(format.format()) : undefined;
      compiled = { format, numeric: numericArguments(format), plain };
      formats.set(cacheKey, compiled);
    }
    return compiled;
  };
  checkLibraryMessages(options.libraries ?? [], english);
  // With one library, its language and help line serve every page.
  const only = options.libraries?.length === 1 ? options.libraries[0] : undefined;

  // Each request's language sources, from the middleware on.
  const requests = new WeakMap<RequestContext, RequestLanguage>();
  const negotiate = (sources: RequestLanguage): Locale =>
    negotiateLocale({ ...sources, library: (sources.libraryEntry ?? only)?.language });
  const localeOf = (sources: RequestLanguage | undefined): Locale => {
    if (!sources) return only?.language ?? DEFAULT_LOCALE;
    sources.locale ??= negotiate(sources);
    return sources.locale;
  };
  const locale = (ctx: RequestContext): Locale => localeOf(requests.get(ctx));

  const t = (ctx: RequestContext, key: string, vars?: Record<string, MessageValue>): string => {
    const sources = requests.get(ctx);
    const lang = localeOf(sources);
    const library = sources?.libraryEntry ?? only;
    const own = library?.messages?.[lang]?.[key];
    const text = own ?? catalogues.get(lang)?.[key] ?? english[key];
    if (text === undefined) throw new Error(`views: no message "${key}" in ${lang}.json`);
    const compiled = compile(own ? `${library?.id}\0${lang}\0${key}` : `${lang}\0${key}`, text, lang);
    if (compiled.plain !== undefined) return compiled.plain;
    const values: Record<string, MessageValue> = {};
    for (const [name, value] of Object.entries(vars ?? {})) {
      values[name] = compiled.numeric.has(name) && typeof value === 'string' && value !== '' ? Number(value) : value;
    }
    return String(compiled.format.format(values));
  };

  const date = (ctx: RequestContext, value: string | number | Date) => {
    // A bare date is a calendar day: read it as UTC and show it as UTC so
    // that no time zone moves it to the day before.
    const d =
      typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
    if (Number.isNaN(d.getTime())) return String(value);
    return new Intl.DateTimeFormat(locale(ctx), { dateStyle: 'long', timeZone: 'UTC' }).format(d);
  };

  // The switcher: one plain link per language to the same page.
  const switcher = (sources: RequestLanguage | undefined): LanguageLink[] => {
    const here = sources?.here ?? '/';
    const [raw = '/', search = ''] = here.split('?');
    // Only a path of this origin: "//host" or "/\\host" would leave it.
    const path = /^\/(?![/\\])/.test(raw) ? raw : '/';
    const shown = localeOf(sources);
    return LOCALES.map((l) => {
      const params = new URLSearchParams(search);
      params.set('lang', l);
      return {
        locale: l,
        dir: directionOf(l),
        name: catalogues.get(l)?.['language.name'] ?? l,
        href: `${path}?${params}`,
        current: l === shown,
      };
    });
  };
  const languages = (sources: RequestLanguage | undefined): LanguageLink[] => {
    if (!sources) return switcher(sources);
    sources.switcher ??= switcher(sources);
    return sources.switcher;
  };

  const footer = (sources: RequestLanguage | undefined) => {
    const library = sources?.libraryEntry ?? only;
    return { library: library ? { name: library.name, help: library.help } : undefined };
  };

  const eta = new Eta({ views: dir, cache: true, autoEscape: true, autoTrim: false });
  // Eta resolves a page's file at every render (path.join, path.relative)
  // even when the template is cached: each page's path and compiled
  // function are kept here instead, and the function is given its path so
  // that its layout resolves as before.
  const pages = new Map<string, { fn: ReturnType<Eta['compile']>; filepath: string }>();
  const pageOf = (page: string) => {
    let found = pages.get(page);
    if (!found) {
      const filepath = eta.resolvePath(`./${page}`, {});
      found = { fn: eta.compile(eta.readFile(filepath), { filepath }), filepath };
      pages.set(page, found);
    }
    return found;
  };
  const helpers = (ctx: RequestContext): TemplateHelpers => ({
    t: (key, vars) => t(ctx, key, vars),
    date: (value) => date(ctx, value),
    lang: locale(ctx),
  });
  return {
    locale,
    t,
    date,
    helpers,
    render: (ctx, page, data) => {
      const sources = requests.get(ctx);
      const { fn, filepath } = pageOf(page);
      const bound = helpers(ctx);
      const all = {
        ...data,
        ...bound,
        dir: directionOf(bound.lang),
        languages: languages(sources),
        footer: footer(sources),
      };
      return eta.render(fn, all, { filepath });
    },
    middleware: () => async (ctx, next) => {
      const asked = typeof ctx.query.lang === 'string' && isLocale(ctx.query.lang) ? ctx.query.lang : undefined;
      if (asked && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        // Unsigned: only a language code we offer is ever taken from it.
        ctx.cookies.set(LANG_COOKIE, asked, {
          signed: false,
          httpOnly: true,
          sameSite: 'lax',
          secure: ctx.secure,
          maxAge: LANG_COOKIE_DAYS * 24 * 3600 * 1000,
          overwrite: true,
        });
      }
      const cookie = ctx.cookies.get(LANG_COOKIE);
      // Pages rendered after the handlers (404s) and oidc-provider's own
      // pages are rendered for the same context, so they find these too.
      requests.set(ctx, {
        choice: asked ?? (isLocale(cookie) ? cookie : undefined),
        acceptLanguage: ctx.get('Accept-Language'),
        here: ctx.method === 'GET' ? ctx.url : '/',
      });
      await next();
    },
    hint: (ctx, hints) => {
      const sources = requests.get(ctx);
      if (!sources) return;
      if (typeof hints.uiLocales === 'string') sources.uiLocales = hints.uiLocales.slice(0, 200);
      if (hints.library) sources.libraryEntry = hints.library;
      if (hints.here) sources.here = hints.here;
      // Worked out again from the new sources at the next use.
      sources.locale = undefined;
      sources.switcher = undefined;
    },
  };
}

// Library wording must name messages that exist and parse as ICU: a typo
// would otherwise show English, or break the page, only for that library.
function checkLibraryMessages(libraries: readonly LocalLibrary[], english: Catalogue): void {
  const problems: string[] = [];
  libraries.forEach((library, i) => {
    for (const [locale, messages] of Object.entries(library.messages ?? {})) {
      for (const [key, text] of Object.entries(messages ?? {})) {
        const at = `libraries[${i}].messages.${locale}.${key}`;
        if (!(key in english)) problems.push(`${at}: expected a message key of views/messages/en.json; found "${key}"`);
        else {
          try {
            new IntlMessageFormat(text, locale);
          } catch (error) {
            problems.push(`${at}: expected an ICU message; found "${text}" (${(error as Error).message})`);
          }
        }
      }
    }
  });
  if (problems.length > 0) {
    throw new PatronymError('config_invalid', `views: library wording is not valid:\n  ${problems.join('\n  ')}`);
  }
}

// A rendered page as the response: never cached (pages carry per-request
// tokens and patron-specific text).
export function sendPage(ctx: Context, views: Views, page: string, data: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  // Caches in between must not serve one patron's language to another.
  ctx.vary('Accept-Language');
  ctx.vary('Cookie');
  ctx.body = views.render(ctx, page, data);
}

// The error page: a catalogue sentence for the patron and a code for the
// vendor's support, never an internal message.
export function sendError(ctx: Context, views: Views, status: number, messageKey: string, code?: string): void {
  const title = views.t(ctx, 'error.title');
  sendPage(ctx, views, 'error', { title, message: views.t(ctx, messageKey), code }, status);
}
