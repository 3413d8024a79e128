// Which language a patron page speaks: a pure decision over the request's
// sources, tested with a table (test/unit/locale.test.ts). The patron's own
// choice from the switcher wins (they clicked it), then the vendor's
// `ui_locales` (OIDC Core 3.1.2.1), then the browser's Accept-Language
// (RFC 9110 12.5.4), then the library's default language, then English.

export const LOCALES = ['en', 'es', 'fr', 'zh-Hans', 'ar'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

const RTL: ReadonlySet<Locale> = new Set(['ar']);
export const directionOf = (locale: Locale): 'rtl' | 'ltr' => (RTL.has(locale) ? 'rtl' : 'ltr');

export const isLocale = (value: unknown): value is Locale =>
  typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

// A BCP 47 tag as a supported locale, if any: an exact tag (any case),
// Chinese by script or by region (zh-CN, zh-SG are written in simplified
// characters; zh-TW, zh-HK and zh-Hant are not, and get no match rather
// than the wrong script), otherwise by its primary language.
export function matchLocale(tag: string): Locale | undefined {
  const lower = tag.trim().toLowerCase();
  if (!/^[a-z]{1,8}(-[a-z0-9]{1,8})*$/.test(lower)) return undefined;
  const exact = LOCALES.find((l) => l.toLowerCase() === lower);
  if (exact) return exact;
  const [language, ...rest] = lower.split('-');
  if (language === 'zh') {
    if (rest.includes('hant') || rest.some((s) => ['tw', 'hk', 'mo'].includes(s))) return undefined;
    return 'zh-Hans';
  }
  return LOCALES.find((l) => l === language);
}

// The first supported locale of a list in order of preference.
const firstMatch = (tags: readonly string[]): Locale | undefined => {
  for (const tag of tags) {
    const match = matchLocale(tag);
    if (match) return match;
  }
  return undefined;
};

// Accept-Language's tags by weight, highest first (stable for equal
// weights); `q=0` means "not this one" and `*` names nothing we can use.
export function acceptedTags(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 1000)
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';').map((s) => s.trim());
      const q = params.find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag, weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((t) => t.tag !== '' && t.tag !== '*' && t.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((t) => t.tag);
}

export interface LocaleSources {
  // The switcher's `?lang=` or its cookie.
  choice?: string | undefined;
  // OIDC `ui_locales`: space-separated tags in order of preference.
  uiLocales?: string | undefined;
  acceptLanguage?: string | undefined;
  // The language of the library the page is about (`libraries[].language`).
  library?: string | undefined;
}

export function negotiateLocale(sources: LocaleSources): Locale {
  return (
    (isLocale(sources.choice) ? sources.choice : undefined) ??
    firstMatch((sources.uiLocales ?? '').split(' ').filter(Boolean).slice(0, 20)) ??
    firstMatch(acceptedTags(sources.acceptLanguage)) ??
    (isLocale(sources.library) ? sources.library : undefined) ??
    DEFAULT_LOCALE
  );
}
