// The "Sign in with your library" button: its colours, its stylesheet and
// its SVG image, all made from one table so that what the tests check for
// contrast is what vendors copy. Pure; no third-party assets (the icon is
// our own two-page book).

export type Theme = 'light' | 'dark';

export interface ThemeColours {
  // The button's face and its words (and icon): WCAG AA text contrast.
  background: string;
  text: string;
  hover: string;
  // The page the button is meant for: the button must stand out from it
  // (WCAG 1.4.11, 3:1 for a control's boundary).
  page: string;
}

// Light: for light pages (a dark button). Dark: for dark pages.
export const THEMES: Record<Theme, ThemeColours> = {
  light: { background: '#1d4f91', text: '#ffffff', hover: '#163d70', page: '#ffffff' },
  dark: { background: '#8ab4f8', text: '#111111', hover: '#a8c7fa', page: '#121212' },
};

export const CLASS = 'library-signin';

// A 24×24 open book.
const ICON_PATH =
  'M2 5.2C4.9 4 8.3 4.2 11 5.8v13.6c-2.7-1.4-6-1.6-9-.6zM22 5.2c-2.9-1.2-6.3-1-9 .6v13.6c2.7-1.4 6-1.6 9-.6z';

export const iconSvg = (): string =>
  `<svg aria-hidden="true" focusable="false" viewBox="0 0 24 24"><path d="${ICON_PATH}"/></svg>`;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

// Self-contained, prefixed so it cannot collide with the vendor's styles.
export function buttonCss(): string {
  const { light, dark } = THEMES;
  const darkRules = (selector: string) =>
    `${selector} { background: ${dark.background}; color: ${dark.text}; }
${selector}:hover { background: ${dark.hover}; }
${selector}:focus-visible { outline-color: ${dark.background}; }`;
  return `/* "Sign in with your library" button (Patronym button kit). Copy to your site. */
.${CLASS} {
  display: inline-flex;
  align-items: center;
  gap: .6em;
  min-height: 2.75rem; /* a 44px touch target */
  padding: .55em 1.1em;
  border: 2px solid transparent;
  border-radius: .3em;
  font: 600 1rem/1.25 ${FONT};
  text-decoration: none;
  cursor: pointer;
  background: ${light.background};
  color: ${light.text};
}
.${CLASS}:hover { background: ${light.hover}; }
.${CLASS}:focus-visible { outline: 3px solid ${light.background}; outline-offset: 2px; }
.${CLASS} svg { width: 1.25em; height: 1.25em; flex: none; fill: currentColor; }
/* For dark pages. */
${darkRules(`.${CLASS}.${CLASS}-dark`)}
/* Follows the reader's colour scheme. */
@media (prefers-color-scheme: dark) {
${darkRules(`.${CLASS}.${CLASS}-auto`)}
}
/* Windows high contrast: keep the button's outline visible. */
@media (forced-colors: active) { .${CLASS} { border-color: ButtonText; } }
`;
}

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const xml = (text: string) => text.replace(/[&<>"']/g, (c) => XML[c] ?? c);

export const SVG_HEIGHT = 44;

// Wide enough for the label in a system font at 16px (about 9px a
// character at weight 600), plus the icon and the padding.
export const svgWidth = (label: string): number => 60 + Math.ceil([...label].length * 9);

// The image variant, for sites that cannot add a stylesheet. The label is
// in the image as text, in <title> and aria-label; the vendor's <img alt>
// gives it its accessible name on the page.
export function buttonSvg(theme: Theme, label: string): string {
  const { background, text } = THEMES[theme];
  const width = svgWidth(label);
  const name = xml(label);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${SVG_HEIGHT}" viewBox="0 0 ${width} ${SVG_HEIGHT}" role="img" aria-label="${name}">
<title>${name}</title>
<rect width="${width}" height="${SVG_HEIGHT}" rx="5" fill="${background}"/>
<path transform="translate(14 10)" fill="${text}" d="${ICON_PATH}"/>
<text x="48" y="27.5" fill="${text}" font-family="${xml(FONT)}" font-size="16" font-weight="600">${name}</text>
</svg>
`;
}
