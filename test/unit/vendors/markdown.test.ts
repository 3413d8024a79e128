// The guide's Markdown (markdown-it, configured in src/vendors/markdown.ts):
// GitHub's heading anchors, focusable code blocks and tables, everything
// escaped, no raw HTML, no inline styles (the CSP refuses them) and only
// safe links.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUIDE_PATH } from '../../../src/vendors/developers.ts';
import { codeBlocks, renderMarkdown, slug } from '../../../src/vendors/markdown.ts';

// Whitespace between tags and soft line breaks are the renderer's business;
// a browser shows them the same.
const flat = (html: string) =>
  html
    .replace(/\s*\n\s*</g, '<')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
const inline = (text: string) => flat(renderMarkdown(text)).replace(/^<p>|<\/p>$/g, '');

describe('markdown renderer', () => {
  it('renders headings with GitHub anchors, paragraphs, lists, quotes and tables', () => {
    const html = renderMarkdown(
      [
        '# Title',
        '',
        'One line',
        'continued, with **bold** and `code`.',
        '',
        '## Node.js with openid-client 6',
        '',
        '1. first',
        '   continued',
        '2. second',
        '',
        '- a',
        '- b',
        '',
        '> a note',
        '',
        '| what | value |',
        '|---|---|',
        '| `sub` | a pseudonym |',
      ].join('\n'),
    );
    expect(flat(html)).toBe(
      [
        '<h1 id="title">Title</h1>',
        '<p>One line continued, with <strong>bold</strong> and <code>code</code>.</p>',
        '<h2 id="nodejs-with-openid-client-6">Node.js with openid-client 6</h2>',
        '<ol><li>first continued</li><li>second</li></ol>',
        '<ul><li>a</li><li>b</li></ul>',
        '<blockquote><p>a note</p></blockquote>',
        '<div class="scroll" tabindex="0"><table><thead><tr><th>what</th><th>value</th></tr></thead><tbody><tr><td><code>sub</code></td><td>a pseudonym</td></tr></tbody></table></div>',
      ].join(''),
    );
    expect(slug('Apache with mod_auth_openidc')).toBe('apache-with-mod_auth_openidc');
    expect(slug('When the patron does not sign in: access_denied')).toBe(
      'when-the-patron-does-not-sign-in-access_denied',
    );
    // The anchor comes from the heading's text, not its Markdown.
    expect(renderMarkdown('## When the patron does not sign in: `access_denied`')).toContain(
      '<h2 id="when-the-patron-does-not-sign-in-access_denied">',
    );
    expect(renderMarkdown('### See [the spec](https://openid.net/)')).toContain('<h3 id="see-the-spec">');
  });

  it('reads CommonMark, not a subset: nested lists, emphasis, lazy quotes, escapes', () => {
    expect(flat(renderMarkdown('- a\n  - a1\n  - a2\n- b'))).toBe(
      '<ul><li>a<ul><li>a1</li><li>a2</li></ul></li><li>b</li></ul>',
    );
    expect(inline('*one* _two_ \\*three\\*')).toBe('<em>one</em> <em>two</em> *three*');
    expect(flat(renderMarkdown('> quoted\nlazy line'))).toBe('<blockquote><p>quoted lazy line</p></blockquote>');
  });

  it('escapes HTML everywhere: text, headings, list items, table cells, code', () => {
    const html = renderMarkdown(
      [
        '# <script>alert(1)</script>',
        '',
        'Hello <img src=x onerror=alert(1)> & "friends"',
        '',
        '- <b>item</b>',
        '',
        '| <i>h</i> |',
        '|---|',
        '| <u>c</u> |',
        '',
        '<div onclick="alert(1)">raw block</div>',
        '',
        '```html',
        '<a href="/login">Sign in</a>',
        '```',
      ].join('\n'),
    );
    expect(html).not.toMatch(/<(script|img|b|i|u|div onclick)[ >]/);
    expect(html).toContain('<h1 id="scriptalert1script">&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(html).toContain('Hello &lt;img src=x onerror=alert(1)&gt; &amp; &quot;friends&quot;');
    expect(html).toContain(
      '<pre tabindex="0"><code class="language-html">&lt;a href=&quot;/login&quot;&gt;Sign in&lt;/a&gt;\n</code></pre>',
    );
  });

  it('puts no style attribute on a page (the CSP refuses inline styles): aligned table columns too', () => {
    const html = renderMarkdown('| left | right |\n|:---|---:|\n| a | b |');
    expect(html).not.toMatch(/style=/i);
    expect(flat(html)).toContain('<tr><td>a</td><td>b</td></tr>');
  });

  it('shows no images: a remote one would tell a third party who reads the guide', () => {
    const html = renderMarkdown('![tracker](https://evil.example/pixel.png)');
    expect(html).not.toContain('<img');
  });

  it('links only to http(s), mailto, this site and anchors; anything else stays text', () => {
    expect(inline('[spec](https://openid.net/specs/)')).toBe('<a href="https://openid.net/specs/">spec</a>');
    expect(inline('[kit](/button) and [up](#top)')).toBe('<a href="/button">kit</a> and <a href="#top">up</a>');
    expect(inline('[mail](mailto:help@library.example)')).toBe('<a href="mailto:help@library.example">mail</a>');
    for (const bad of [
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x](data:text/html,hi)',
      '[x](//evil.example/)',
      '[x](vbscript:msgbox)',
      '<javascript:alert(1)>',
      '[x][ref]\n\n[ref]: javascript:alert(1)',
    ])
      expect(renderMarkdown(bad), bad).not.toContain('<a');
    // Bare URLs are not turned into links (linkify is off).
    expect(inline('see https://evil.example/')).toBe('see https://evil.example/');
    // A quote cannot leave the attribute.
    const quoted = inline('[x](https://a.example/"onmouseover="alert(1))');
    expect(quoted).toMatch(/^<a href="[^"]*">x<\/a>$/);
    expect(quoted).not.toContain('"onmouseover');
  });

  it('leaves code spans alone, and an info string or NUL cannot inject', () => {
    expect(inline('`**not bold** [not](https://link)`')).toBe('<code>**not bold** [not](https://link)</code>');
    expect(inline('a\0 0\0 b')).not.toContain('\0');
    expect(renderMarkdown('```"><script>\nx\n```')).toBe('<pre tabindex="0"><code>x\n</code></pre>\n');
    expect(renderMarkdown('```js"onclick\nx\n```')).toBe(
      '<pre tabindex="0"><code class="language-js">x\n</code></pre>\n',
    );
  });

  it('lists code blocks with their info strings', () => {
    expect(codeBlocks('text\n\n```js vendor.mjs\nconst a = 1;\n```\n\n```\nplain\n```\n')).toEqual([
      { info: 'js vendor.mjs', code: 'const a = 1;\n' },
      { info: '', code: 'plain\n' },
    ]);
  });

  it('renders the whole vendor guide: every code block, every internal link to a heading', () => {
    const guide = readFileSync(GUIDE_PATH, 'utf8');
    const html = renderMarkdown(guide);
    expect(html).not.toMatch(/<script|<style|<img| on\w+=|style=/i);
    const ids = new Set([...html.matchAll(/<h\d id="([^"]+)"/g)].map((m) => m[1]));
    for (const [, anchor] of guide.matchAll(/\]\(#([^)]+)\)/g)) expect(ids, anchor).toContain(anchor);
    const blocks = codeBlocks(guide);
    expect(blocks.map((b) => b.info)).toEqual(expect.arrayContaining(['js vendor.mjs', 'apache library-signin.conf']));
    expect(html.match(/<pre tabindex="0"><code/g)).toHaveLength(blocks.length);
  });
});
