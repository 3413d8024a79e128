// The library chooser: search, an A–Z index and pages of libraries grouped
// by system, each a link back to the interaction with that library picked.
import type { Context } from 'koa';
import { chooserView } from '../../libraries/chooser.ts';
import type { Library } from '../../libraries/library.ts';
import { sendPage, type Views } from '../../views.ts';
import type { Details } from './flow.ts';

export type RenderChooser = (ctx: Context, d: Details, candidates: Library[], query: string, error?: string) => void;

export function chooserPage(views: Views): RenderChooser {
  return (ctx, d, candidates, query, error) => {
    const action = `/interaction/${d.uid}/libraries`;
    const letter = typeof ctx.query.letter === 'string' ? ctx.query.letter : undefined;
    const view = chooserView(candidates, {
      query,
      letter,
      page: Number(ctx.query.page) || 1,
      searchFirst: error !== undefined,
    });
    const link = (params: Record<string, string | undefined>) => {
      const search = new URLSearchParams(
        Object.entries({ q: query || undefined, ...params }).filter((e): e is [string, string] => e[1] !== undefined),
      ).toString();
      return search ? `${action}?${search}` : action;
    };
    sendPage(ctx, views, 'chooser', {
      title: views.t(ctx, 'chooser.title'),
      action,
      abort: `/interaction/${d.uid}/abort`,
      query,
      error,
      errorCount: error ? 1 : 0,
      total: view.total,
      letters: view.letters.map((l) => ({ letter: l, href: link({ letter: l }), current: l === view.letter })),
      groups: view.groups.map((g) => ({
        system: g.system,
        libraries: g.libraries.map((l) => ({
          name: l.name,
          town: l.town,
          href: `/interaction/${d.uid}?library=${encodeURIComponent(l.id)}`,
        })),
      })),
      page: view.page,
      pages: view.pages,
      previous: view.page > 1 ? link({ letter: view.letter, page: String(view.page - 1) }) : undefined,
      next: view.page < view.pages ? link({ letter: view.letter, page: String(view.page + 1) }) : undefined,
    });
  };
}
