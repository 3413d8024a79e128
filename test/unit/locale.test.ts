// Which language a page speaks: the patron's own choice, then the vendor's
// ui_locales, then Accept-Language, then the library's default, then English.
import { describe, expect, it } from 'vitest';
import { acceptedTags, type LocaleSources, matchLocale, negotiateLocale } from '../../src/locale.ts';

describe('locale negotiation', () => {
  const table: [LocaleSources, string][] = [
    [{}, 'en'],
    [{ library: 'fr' }, 'fr'],
    [{ acceptLanguage: 'es-MX,es;q=0.9,en;q=0.5', library: 'fr' }, 'es'],
    [{ uiLocales: 'ar', acceptLanguage: 'es', library: 'fr' }, 'ar'],
    [{ choice: 'zh-Hans', uiLocales: 'ar', acceptLanguage: 'es', library: 'fr' }, 'zh-Hans'],
    // The first of ui_locales we speak, not the first named.
    [{ uiLocales: 'de-DE fr-CA es', acceptLanguage: 'es' }, 'fr'],
    // None of ui_locales spoken: the browser decides.
    [{ uiLocales: 'de ja', acceptLanguage: 'ja, ar;q=0.4' }, 'ar'],
    // Weights, not order; q=0 refuses; * names nothing.
    [{ acceptLanguage: 'fr;q=0.3, es;q=0.8' }, 'es'],
    [{ acceptLanguage: 'es;q=0, *', library: 'fr' }, 'fr'],
    [{ acceptLanguage: 'zh-CN,zh;q=0.9' }, 'zh-Hans'],
    // Traditional Chinese is not offered simplified characters.
    [{ acceptLanguage: 'zh-TW', library: 'en' }, 'en'],
    [{ acceptLanguage: 'zh-Hant-HK, zh-Hans;q=0.5' }, 'zh-Hans'],
    // A switcher value we do not have is ignored, as is garbage.
    [{ choice: 'de', acceptLanguage: 'fr' }, 'fr'],
    [{ uiLocales: '<script>', acceptLanguage: ';;;,q=,', library: 'ar' }, 'ar'],
  ];
  it.each(table)('%j → %s', (sources, expected) => {
    expect(negotiateLocale(sources)).toBe(expected);
  });

  it('matches tags without regard to case and by primary language', () => {
    expect(matchLocale('ES-419')).toBe('es');
    expect(matchLocale('zh-hans-sg')).toBe('zh-Hans');
    expect(matchLocale('ar-EG')).toBe('ar');
    expect(matchLocale('de')).toBeUndefined();
  });

  it('orders Accept-Language by weight, keeping the order of equal weights', () => {
    expect(acceptedTags('a;q=0.5, b, c;q=0.5, d;q=1')).toEqual(['b', 'd', 'a', 'c']);
  });
});
