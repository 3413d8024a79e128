// What every step of an interaction shares: reading the interaction behind
// /interaction/:uid, checking that a posted form belongs to it, and handing
// the result back to oidc-provider. The steps import this; the routes in
// interactions.ts import the steps, so nothing here imports a step.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { type InteractionResults, errors as oidcErrors } from 'oidc-provider';
import type { Csrf } from '../../security/csrf.ts';
import type { Views } from '../../views.ts';

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

// The patron's pages: templates and messages, and the token every form
// carries so it cannot be posted from elsewhere.
export interface Pages {
  views: Views;
  csrf: Csrf;
}

// The forms of an interaction, each valid only at its prompt.
export type FormName = 'login' | 'walk-in' | 'consent';
const PROMPT_OF: Record<FormName, string> = { login: 'login', 'walk-in': 'login', consent: 'consent' };

export interface Flow {
  details(ctx: Context): Promise<Details>;
  // The posted fields, once the form is known to be this interaction's.
  form(ctx: Context, d: Details, name: FormName): Record<string, unknown>;
  finish(ctx: Context, result: InteractionResults): Promise<void>;
}

// The library the vendor named (the `library` authorization parameter).
export const hintOf = (d: Details): string | undefined =>
  typeof d.params.library === 'string' ? d.params.library : undefined;

// A posted form's fields, once it is known to be this interaction's: the
// prompt it belongs to, and its own token for this interaction (so a
// walk-in token cannot pass as a sign-in one, nor one interaction's form
// as another's).
export function formFields(csrf: Csrf, d: Details, name: FormName, body: unknown): Record<string, unknown> {
  const fields = (body ?? {}) as Record<string, unknown>;
  if (d.prompt.name !== PROMPT_OF[name] || !csrf.verify(name, d.uid, fields.csrf)) {
    throw new oidcErrors.SessionNotFound(`${name} form does not belong to this interaction`);
  }
  return fields;
}

export function createFlow(provider: Provider, pages: Pages): Flow {
  const { views, csrf } = pages;
  return {
    async details(ctx) {
      const found = await provider.interactionDetails(ctx.req, ctx.res);
      if (found.uid !== ctx.params.uid) throw new oidcErrors.SessionNotFound('interaction uid mismatch');
      // The vendor's ui_locales (OIDC Core 3.1.2.1); after a form post the
      // language switcher leads back to the interaction's own page.
      views.hint(ctx, {
        uiLocales: found.params.ui_locales,
        ...(ctx.method === 'GET' ? {} : { here: `/interaction/${found.uid}` }),
      });
      return found;
    },

    form: (ctx, d, name) => formFields(csrf, d, name, ctx.request.body),

    async finish(ctx, result) {
      const target = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(target);
    },
  };
}
