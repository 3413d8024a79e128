// Step 1: which library? The vendor's hint, the patron's pick on the chooser
// (remembered in a cookie when there is more than one library), the only
// library there is, or the card number (libraries/route.ts decides). Until
// one is known the patron gets the card form (when card numbers can tell
// the libraries apart) or the chooser.
import type { Context } from 'koa';
import type { Library } from '../../libraries/library.ts';
import { LIBRARY_COOKIE, LIBRARY_COOKIE_DAYS } from '../../libraries/library-cookie.ts';
import { route } from '../../libraries/route.ts';
import { sendError, type Views } from '../../views.ts';
import type { RenderChooser } from './chooser-page.ts';
import { type Details, hintOf } from './flow.ts';
import type { RenderLogin } from './login-page.ts';

// Where the card form's library comes from: a known library, or none yet
// (with the libraries it could still be).
export type Placed = { library: Library; candidates?: undefined } | { library?: undefined; candidates: Library[] };

export interface LibraryStep {
  // GET /interaction/:uid at the login prompt.
  show(ctx: Context, d: Details): Promise<void>;
  // GET /interaction/:uid/libraries: the chooser, searched.
  choose(ctx: Context, d: Details): void;
  // The library a posted card form belongs to; undefined when the answer
  // (an unknown library) has been sent already.
  place(ctx: Context, d: Details, chosen: string | undefined, card: string | undefined): Placed | undefined;
  // After a sign-in on a computer that is not shared.
  remember(ctx: Context, library: Library): void;
}

export function libraryStep(deps: {
  libraries: ReadonlyMap<string, Library>;
  views: Views;
  renderLogin: RenderLogin;
  renderChooser: RenderChooser;
}): LibraryStep {
  const { libraries, views, renderLogin, renderChooser } = deps;
  const federated = libraries.size > 1;

  const unknownLibrary = (ctx: Context): void => sendError(ctx, views, 400, 'error.unknown-library', 'unknown_library');

  function remembered(ctx: Context): string | undefined {
    const id = ctx.cookies.get(LIBRARY_COOKIE);
    return id && libraries.has(id) ? id : undefined;
  }

  function remember(ctx: Context, library: Library): void {
    if (!federated) return;
    // Unsigned: the id is checked against the configured libraries when
    // read, and a forged one can only pick another of them.
    ctx.cookies.set(LIBRARY_COOKIE, library.id, {
      signed: false,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: LIBRARY_COOKIE_DAYS * 24 * 3600 * 1000,
      overwrite: true,
    });
  }

  return {
    remember,

    async show(ctx, d) {
      const picked = typeof ctx.query.library === 'string' ? ctx.query.library : undefined;
      if (picked !== undefined && !libraries.has(picked)) return unknownLibrary(ctx);
      const r = route(libraries, { hint: hintOf(d), choice: picked ?? remembered(ctx) });
      if (r.kind === 'unknown-hint') return unknownLibrary(ctx);
      if (r.kind === 'library') {
        if (r.by === 'choice' && picked) remember(ctx, r.library);
        return renderLogin(ctx, d, r.library);
      }
      // Undecided: if card numbers can tell libraries apart, ask for the card
      // first; otherwise the patron chooses.
      if ([...libraries.values()].some((l) => l.hasCardPatterns)) return renderLogin(ctx, d, undefined);
      renderChooser(ctx, d, r.candidates, '');
    },

    choose(ctx, d) {
      if (hintOf(d)) {
        // The vendor named the library: there is nothing to choose.
        ctx.redirect(`/interaction/${d.uid}`);
        return;
      }
      const query = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
      renderChooser(ctx, d, [...libraries.values()], query);
    },

    place(ctx, d, chosen, card) {
      if (chosen !== undefined && !libraries.has(chosen)) return void unknownLibrary(ctx);
      const r = route(libraries, { hint: hintOf(d), choice: chosen, card });
      if (r.kind === 'unknown-hint') return void unknownLibrary(ctx);
      if (r.kind === 'undecided') return { candidates: r.candidates };
      // Sentences from here on are in this library's language where it decides.
      views.hint(ctx, { library: r.library });
      return { library: r.library };
    },
  };
}
