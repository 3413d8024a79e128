// The guide's Markdown renderer: the subset docs/vendors.md uses, with
// everything escaped and only safe links.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUIDE_PATH } from '../../../src/vendors/developers.ts';
import { codeBlocks, inline, renderMarkdown, slug } from '../../../src/vendors/markdown.ts';

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
    expect(html).toBe(
      [
        '<h1 id="title">Title</h1>',
        '<p>One line continued, with <strong>bold</strong> and <code>code</code>.</p>',
        '<h2 id="nodejs-with-openid-client-6">Node.js with openid-client 6</h2>',
        '<ol><li>first continued</li><li>second</li></ol>',
        '<ul><li>a</li><li>b</li></ul>',
        '<blockquote><p>a note</p></blockquote>',
        '<div class="scroll" tabindex="0"><table><thead><tr><th>what</th><th>value</th></tr></thead><tbody><tr><td><code>sub</code></td><td>a pseudonym</td></tr></tbody></table></div>',
      ].join('\n'),
    );
    expect(slug('Apache with mod_auth_openidc')).toBe('apache-with-mod_auth_openidc');
    expect(slug('When the patron does not sign in: `access_denied`')).toBe(
      'when-the-patron-does-not-sign-in-access_denied',
    );
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
        '```html',
        '<a href="/login">Sign in</a>',
        '```',
      ].join('\n'),
    );
    expect(html).not.toMatch(/<(script|img|b|i|u)[ >]/);
    expect(html).toContain('<h1 id="scriptalert1script">&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(html).toContain('Hello &lt;img src=x onerror=alert(1)&gt; &amp; &quot;friends&quot;');
    expect(html).toContain(
      '<pre tabindex="0"><code class="language-html">&lt;a href=&quot;/login&quot;&gt;Sign in&lt;/a&gt;\n</code></pre>',
    );
  });

  it('links only to http(s), mailto, this site and anchors; anything else stays text', () => {
    expect(inline('[spec](https://openid.net/specs/)')).toBe('<a href="https://openid.net/specs/">spec</a>');
    expect(inline('[kit](/button) and [up](#top)')).toBe('<a href="/button">kit</a> and <a href="#top">up</a>');
    expect(inline('[x](javascript:alert(1))')).not.toContain('<a');
    expect(inline('[x](JaVaScRiPt:alert(1))')).not.toContain('<a');
    expect(inline('[x](data:text/html,hi)')).not.toContain('<a');
    expect(inline('[x](//evil.example/)')).not.toContain('<a');
    // A quote cannot leave the attribute.
    expect(inline('[x](https://a.example/"onmouseover="alert(1))')).toBe(
      '<a href="https://a.example/&quot;onmouseover=&quot;alert(1">x</a>)',
    );
  });

  it('leaves code spans alone, and an info string or NUL cannot inject', () => {
    expect(inline('`**not bold** [not](https://link)`')).toBe('<code>**not bold** [not](https://link)</code>');
    expect(inline('a\0 0\0 b')).not.toContain('\0');
    expect(renderMarkdown('```"><script>\nx\n```')).toBe('<pre tabindex="0"><code>x\n</code></pre>');
    expect(renderMarkdown('```js"onclick\nx\n```')).toBe(
      '<pre tabindex="0"><code class="language-js">x\n</code></pre>',
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
    expect(html).not.toMatch(/<script|<style| on\w+=/i);
    const ids = new Set([...html.matchAll(/<h\d id="([^"]+)"/g)].map((m) => m[1]));
    for (const [, anchor] of guide.matchAll(/\]\(#([^)]+)\)/g)) expect(ids, anchor).toContain(anchor);
    const blocks = codeBlocks(guide);
    expect(blocks.map((b) => b.info)).toEqual(expect.arrayContaining(['js vendor.mjs', 'apache library-signin.conf']));
    expect(html.match(/<pre tabindex="0"><code/g)).toHaveLength(blocks.length);
  });
});
