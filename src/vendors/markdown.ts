// A small Markdown renderer for our own documentation (docs/vendors.md at
// /developers): headings, paragraphs, fenced code, lists, block quotes,
// tables, links, inline code and bold. Not CommonMark: just the subset the
// guide uses, so no dependency is needed for one trusted file. Everything is
// HTML-escaped all the same, and links only go to http(s), mailto, or paths
// on this site, so a careless edit of the guide cannot put markup or a
// `javascript:` URL on a page.

export interface CodeBlock {
  // The fence's info string, e.g. `js vendor.mjs`.
  info: string;
  code: string;
}

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'code'; info: string; code: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'quote'; text: string }
  | { kind: 'table'; head: string[]; rows: string[][] };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

// GitHub's anchors (lower case, punctuation dropped, spaces to hyphens), so
// links into the guide work on both sites.
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

const FENCE = /^(`{3,})\s*(.*)$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*$/;
const ITEM = /^\s{0,3}(?:([-*])|(\d+)[.)])\s+(.*)$/;
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

function parse(markdown: string): Block[] {
  const lines = markdown.replace(/\r\n?/g, '\n').replace(/\0/g, '').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      const close = fence[1] as string;
      i++;
      while (i < lines.length && !(lines[i] as string).startsWith(close)) body.push(lines[i++] as string);
      i++;
      blocks.push({ kind: 'code', info: (fence[2] ?? '').trim(), code: body.length ? `${body.join('\n')}\n` : '' });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: (heading[1] as string).length, text: heading[2] ?? '' });
      i++;
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    if (line.startsWith('>')) {
      const text: string[] = [];
      while (i < lines.length && (lines[i] as string).startsWith('>'))
        text.push((lines[i++] as string).replace(/^>\s?/, ''));
      blocks.push({ kind: 'quote', text: text.join(' ') });
      continue;
    }
    if (line.trimStart().startsWith('|') && /^\s*\|?[\s:-]+\|/.test(lines[i + 1] ?? '')) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && (lines[i] as string).trimStart().startsWith('|'))
        rows.push(cells(lines[i++] as string));
      blocks.push({ kind: 'table', head, rows });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = item[2] !== undefined;
      const items: string[] = [];
      // An item runs on over indented continuation lines; a blank line
      // followed by another item keeps the list going.
      while (i < lines.length) {
        const current = ITEM.exec(lines[i] as string);
        if (current && (current[2] !== undefined) === ordered) {
          items.push(current[3] ?? '');
          i++;
        } else if (/^\s{2,}\S/.test(lines[i] as string) && items.length > 0) {
          items[items.length - 1] += ` ${(lines[i++] as string).trim()}`;
        } else if ((lines[i] as string).trim() === '' && ITEM.exec(lines[i + 1] ?? '')) {
          i++;
        } else break;
      }
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    const text: string[] = [];
    while (i < lines.length) {
      const next = lines[i] as string;
      if (next.trim() === '' || FENCE.test(next) || HEADING.test(next) || next.startsWith('>') || ITEM.test(next))
        break;
      text.push(next.trim());
      i++;
    }
    blocks.push({ kind: 'paragraph', text: text.join(' ') });
  }
  return blocks;
}

// Only links a reader can follow safely; anything else is shown as text.
const SAFE_HREF = /^(?:https?:\/\/|mailto:|\/(?!\/)|#)/i;

export function inline(text: string): string {
  // Code spans first, so nothing inside them is read as a link or bold.
  const spans: string[] = [];
  // NUL marks the held spans, so none may come from the text.
  const held = text.replace(/\0/g, '').replace(/`([^`]+)`/g, (_, code: string) => {
    spans.push(`<code>${escapeHtml(code)}</code>`);
    return `\0${spans.length - 1}\0`;
  });
  return escapeHtml(held)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, href: string) =>
      SAFE_HREF.test(href) ? `<a href="${href}">${label}</a>` : label,
    )
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\0(\d+)\0/g, (_, n: string) => spans[Number(n)] ?? '');
}

function render(block: Block): string {
  switch (block.kind) {
    case 'heading':
      return `<h${block.level} id="${slug(block.text)}">${inline(block.text)}</h${block.level}>`;
    case 'paragraph':
      return `<p>${inline(block.text)}</p>`;
    case 'quote':
      return `<blockquote><p>${inline(block.text)}</p></blockquote>`;
    case 'code': {
      const language = /^[\w-]+/.exec(block.info)?.[0];
      const attr = language ? ` class="language-${escapeHtml(language)}"` : '';
      // Focusable, so a keyboard can scroll a long line into view (WCAG 2.1.1).
      return `<pre tabindex="0"><code${attr}>${escapeHtml(block.code)}</code></pre>`;
    }
    case 'list': {
      const tag = block.ordered ? 'ol' : 'ul';
      return `<${tag}>${block.items.map((item) => `<li>${inline(item)}</li>`).join('')}</${tag}>`;
    }
    case 'table': {
      const head = block.head.map((c) => `<th>${inline(c)}</th>`).join('');
      const rows = block.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('');
      return `<div class="scroll" tabindex="0"><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
    }
  }
}

export function renderMarkdown(markdown: string): string {
  return parse(markdown).map(render).join('\n');
}

// The fenced code blocks, for tests that run the guide's examples as written.
export function codeBlocks(markdown: string): CodeBlock[] {
  return parse(markdown).flatMap((b) => (b.kind === 'code' ? [{ info: b.info, code: b.code }] : []));
}
