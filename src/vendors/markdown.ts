// The vendor guide's Markdown (docs/vendors.md at /developers), read by
// markdown-it (CommonMark) rather than by hand. The guide is ours, but the
// page sits under a strict CSP and beside patron pages, so it is configured
// as if it were not: no raw HTML (escaped instead), no bare-URL links, no
// typographic rewriting (quotes in code-like prose stay straight), no
// images (a remote one would tell a third party who reads the guide), no
// style attributes, and links only to http(s), mailto, or this site.

import type { StateCore } from 'markdown-it';
import MarkdownIt from 'markdown-it';

export interface CodeBlock {
  // The fence's info string, e.g. `js vendor.mjs`.
  info: string;
  code: string;
}

// GitHub's anchors (lower case, punctuation dropped, spaces to hyphens), so
// links into the guide work on both sites.
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

// Only links a reader can follow safely; anything else is shown as text.
// markdown-it asks after normalizing, so percent-encoding cannot hide a
// scheme, and `//host` (another site, whatever this one's scheme) is out.
const SAFE_HREF = /^(?:https?:\/\/|mailto:|\/(?!\/)|#)/i;

// The default preset: CommonMark plus GitHub's tables, which the guide uses.
const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
md.disable('image');
md.validateLink = (url) => SAFE_HREF.test(url);

// Heading anchors from the heading's text as a reader sees it (a link's
// label, a code span's content), as GitHub does; and no alignment styles
// on table cells, which the CSP would refuse and report.
function decorate(state: StateCore): void {
  const { tokens } = state;
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open') {
      const text = (tokens[i + 1]?.children ?? [])
        .filter((child) => child.type === 'text' || child.type === 'code_inline')
        .map((child) => child.content)
        .join('');
      token.attrSet('id', slug(text));
    } else if (token.type === 'th_open' || token.type === 'td_open') {
      token.attrs = null;
    }
  });
}
md.core.ruler.push('patronym_decorate', decorate);

// Focusable, so a keyboard can scroll a long line or a wide table into view
// (WCAG 2.1.1); `.scroll` is the page stylesheet's horizontal scroller.
md.renderer.rules.table_open = () => '<div class="scroll" tabindex="0"><table>\n';
md.renderer.rules.table_close = () => '</table></div>\n';
md.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx];
  if (!token) return '';
  // Only a plain word becomes the class: an info string such as `js"x`
  // must not reach the attribute, even escaped.
  const language = /^[\w-]+/.exec(md.utils.unescapeAll(token.info).trim())?.[0];
  const attr = language ? ` class="language-${language}"` : '';
  return `<pre tabindex="0"><code${attr}>${md.utils.escapeHtml(token.content)}</code></pre>\n`;
};

export function renderMarkdown(markdown: string): string {
  return md.render(markdown);
}

// The fenced code blocks, for tests that run the guide's examples as written.
export function codeBlocks(markdown: string): CodeBlock[] {
  return md
    .parse(markdown, {})
    .flatMap((token) => (token.type === 'fence' ? [{ info: token.info.trim(), code: token.content }] : []));
}
