// The patron's side of the flow: oidc-provider sends the browser to
// /interaction/:uid. This file only maps routes to steps (interaction/):
//   1. library-step   which library (vendor hint, the patron's pick, the card
//                     number, or the chooser)
//   2. sign-in-step   the card + PIN form posted: throttle, the library's
//                     authenticators, an accountId for oidc-provider
//      walk-in-step   "continue without signing in" inside a library
//   3. consent-step   what the vendor will learn beyond its pseudonym
//      abort          the patron cancels
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Library } from '../libraries/library.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import { abortStep } from './interaction/abort.ts';
import { chooserPage } from './interaction/chooser-page.ts';
import { type ConsentServices, consentStep } from './interaction/consent-step.ts';
import { createFlow, type Pages } from './interaction/flow.ts';
import { libraryStep } from './interaction/library-step.ts';
import { loginPage } from './interaction/login-page.ts';
import { type SignInServices, signInStep } from './interaction/sign-in-step.ts';
import { walkInStep } from './interaction/walk-in-step.ts';

// Grouped by concern; each step takes only the groups it uses.
export interface InteractionDeps {
  provider: Provider;
  pages: Pages;
  libraries: ReadonlyMap<string, Library>;
  // Each vendor's release policy: walk-in access and what needs consent.
  policies: VendorPolicies;
  signIn: SignInServices;
  consent: ConsentServices;
}

export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, pages, libraries, policies } = deps;
  const { views } = pages;
  const flow = createFlow(provider, pages);
  const renderLogin = loginPage({ provider, pages, libraries, policies });
  const renderChooser = chooserPage(views);
  const library = libraryStep({ libraries, views, renderLogin, renderChooser });
  const postCard = signInStep({ flow, views, library, renderLogin, renderChooser, services: deps.signIn });
  const postWalkIn = walkInStep({ flow, views, libraries, policies, renderLogin, log: deps.signIn.log });
  const consent = consentStep({ provider, flow, pages, libraries, policies, services: deps.consent });
  // Small forms only: a card, a PIN, a library and a token. Anything bigger
  // is refused before it is read.
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

  const router = new Router();
  router.get('/interaction/:uid', async (ctx) => {
    const d = await flow.details(ctx);
    return d.prompt.name === 'consent' ? consent.show(ctx, d) : library.show(ctx, d);
  });
  router.get('/interaction/:uid/libraries', async (ctx) => library.choose(ctx, await flow.details(ctx)));
  router.post('/interaction/:uid/login', form, async (ctx) => postCard(ctx, await flow.details(ctx)));
  router.post('/interaction/:uid/walk-in', form, async (ctx) => postWalkIn(ctx, await flow.details(ctx)));
  router.post('/interaction/:uid/consent', form, async (ctx) => consent.decide(ctx, await flow.details(ctx)));
  router.get('/interaction/:uid/abort', abortStep(flow));
  return router;
}
