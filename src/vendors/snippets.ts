// The copy-paste snippets of the button kit, as plain text (the page
// escapes them). The button links to the vendor's own sign-in route: that
// route builds the authorization request with its state, nonce and PKCE
// verifier, so no snippet can start a sign-in without them. Pure.
import { buttonCss, CLASS, iconSvg, SVG_HEIGHT, svgWidth } from './button-style.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

export interface SnippetInput {
  issuer: string;
  // The button's words, in the broker's language.
  label: string;
  // The library the vendor names on the authorization request, if any.
  library?: { id: string; name: string } | undefined;
}

export interface Snippets {
  html: string;
  css: string;
  svg: string;
  request: string;
}

// Where the vendor's own sign-in route and copied files are assumed to be.
const LOGIN = '/login';
const CSS_PATH = '/css/library-signin.css';
const IMG_PATH = '/img';

export function buttonSnippets({ issuer, label: words, library }: SnippetInput): Snippets {
  // The snippets are HTML the vendor pastes: a translation with a quote in
  // it must not break an attribute.
  const label = escapeHtml(words);
  const html = `<!-- "${label}": from ${issuer}/button. href: your own route that starts the sign-in. -->
<link rel="stylesheet" href="${CSS_PATH}">
<a class="${CLASS}" href="${LOGIN}">
  ${iconSvg()}
  <span>${label}</span>
</a>
<!-- On a dark page: class="${CLASS} ${CLASS}-dark"; following the reader's scheme: "${CLASS} ${CLASS}-auto". -->
`;
  const width = svgWidth(words);
  const svg = `<!-- Copy library-light.svg and library-dark.svg from ${issuer}/button to your site. -->
<a href="${LOGIN}">
  <picture>
    <source srcset="${IMG_PATH}/library-dark.svg" media="(prefers-color-scheme: dark)">
    <img src="${IMG_PATH}/library-light.svg" alt="${label}" width="${width}" height="${SVG_HEIGHT}">
  </picture>
</a>
`;
  const named = library
    ? `
# Send the patron straight to ${library.name}:
library=${library.id}

# openid-client 6: one more parameter for buildAuthorizationUrl
library: '${library.id}',

# Apache mod_auth_openidc
OIDCAuthRequestParams library=${library.id}
`
    : `
# No library named: the patron's card number, or the list of libraries, decides.
`;
  const request = `# Discovery URL, for any OpenID Connect client
${issuer}/.well-known/openid-configuration

# Your sign-in route (${LOGIN}) sends the patron to ${issuer}/auth with
# response_type=code, scope=openid, your client_id and redirect_uri,
# state, nonce and PKCE (code_challenge_method=S256).
${named}`;
  return { html, css: buttonCss(), svg, request };
}
