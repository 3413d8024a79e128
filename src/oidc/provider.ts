// The only `new Provider()`. Authorization code flow only, pairwise subjects
// only, PKCE required for public clients, our own interaction pages.
import Provider, {
  type ClientMetadata,
  type Configuration,
  interactionPolicy,
  type KoaContextWithOIDC,
  errors as oidcErrors,
} from 'oidc-provider';
import type { Client, Config } from '../config/config.ts';
import { describeError } from '../errors.ts';
import type { Library } from '../libraries/library.ts';
import { walkInLibrary } from '../libraries/walk-in.ts';
import { LOCALES } from '../locale.ts';
import type { Logger } from '../log.ts';
import type { Consents } from '../policy/consent.ts';
import { CLAIMS, RELEASABLE } from '../policy/release.ts';
import type { ReleaseLog } from '../policy/release-log.ts';
import { recordReleases } from '../policy/release-recording.ts';
import { requestOf } from '../policy/requested.ts';
import type { VendorPolicies } from '../policy/vendors.ts';
import { CookieSigner } from '../security/cookie-signer.ts';
import type { Keys } from '../security/keys.ts';
import type { StatsRecorder } from '../stats/recorder.ts';
import { oidcAdapter } from '../store/oidc-adapter.ts';
import type { Store } from '../store/store.ts';
import type { Views } from '../views.ts';
import { type Accounts, findAccount, type LoadedAccount } from './account.ts';
import { accountClientMetadata } from './account-client.ts';
import { authorizationChecks } from './authorization-checks.ts';
import { applyToGrant, grantLifetime, IMPLICIT_SCOPES, lengthen, wanted } from './grants.ts';
import { SHARED_COMPUTER } from './interaction/amr.ts';
import { outboundFetch } from './outbound.ts';
import type { Pseudonyms } from './pseudonyms.ts';
import { initialAccessTokenUses, registrationProblem } from './registration.ts';
import { renderError } from './render-error.ts';

export interface ProviderDeps {
  config: Config;
  keys: Keys;
  store: Store;
  accounts: Accounts;
  libraries: ReadonlyMap<string, Library>;
  policies: VendorPolicies;
  consents: Consents;
  releaseLog: ReleaseLog;
  pseudonyms: Pseudonyms;
  views: Views;
  log: Logger;
  // The library's usage statistics (absent when `stats.enabled` is false).
  stats?: StatsRecorder | undefined;
}

function clientMetadata(client: Client): ClientMetadata {
  // The release policy is the sysadmin's, not registration metadata.
  const { release: _release, walkIn: _walkIn, ...registration } = client;
  const metadata: ClientMetadata = {
    ...registration,
    client_id: client.client_id,
    subject_type: 'pairwise',
    response_types: ['code'],
    grant_types: client.grant_types,
  };
  if (client.sector_identifier_uri === undefined) delete metadata.sector_identifier_uri;
  return metadata;
}

// oidc-provider's default prompts, plus one rule: a walk-in session (someone
// inside a library who did not sign in) is no sign-in for a vendor that does
// not offer walk-in access.
function prompts(policies: VendorPolicies): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  const { Check } = interactionPolicy;
  policy.get('login')?.checks.add(
    new Check('walk_in_session', 'a walk-in session does not sign in to this vendor', async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      const walkIn = accountId !== undefined && walkInLibrary(accountId) !== undefined;
      if (walkIn && !ctx.oidc.result?.login && !(await policies.get(ctx.oidc.client?.clientId)).walkIn)
        return Check.REQUEST_PROMPT;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

// "fetch failed" alone says nothing: follow the causes down to the reason.
function causes(error: Error): string {
  const chain: string[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 5; e = e.cause) chain.push(describeError(e));
  return chain.join(': ');
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, keys, store, accounts, libraries, policies, consents, releaseLog, views, log, pseudonyms, stats } =
    deps;

  const configuration: Configuration = {
    adapter: oidcAdapter(store),
    clients: [...config.clients.map(clientMetadata), accountClientMetadata(config.issuer)],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'RS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
    },
    jwks: { keys: keys.signing as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      // keygrip's signatures, compared without tsscmp's extra work
      // (security/cookie-signer.ts); oidc-provider hands them to Koa.
      keys: new CookieSigner(keys.cookies) as unknown as string[],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: findAccount(accounts, libraries, policies),
    // `sub` and the release vocabulary are the only claims there are:
    // requests for profile, email, address or phone have nothing to yield.
    claims: { openid: ['sub'], ...Object.fromEntries(RELEASABLE.map((r) => [r, [...CLAIMS[r]]])) },
    scopes: [...IMPLICIT_SCOPES, ...RELEASABLE],
    subjectTypes: ['pairwise'],
    responseTypes: ['code'],
    pkce: {
      // Public clients must use PKCE (S256, the only method oidc-provider
      // offers); confidential clients may.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    async pairwiseIdentifier(ctx: KoaContextWithOIDC, accountId: string, client) {
      // No ctx when oidc-provider signs a back-channel logout token.
      const loaded = ctx?.oidc?.account as LoadedAccount | undefined;
      return pseudonyms.sub(accountId, client, loaded?.accountId === accountId ? loaded.record : undefined);
    },
    // The release policy is the library's: a vendor cannot register one.
    // oidc-provider calls this once per property below, with the whole
    // metadata: the first call also applies the library's registration rules
    // (registration and RFC 7592 update only: clients already stored or
    // configured are the sysadmin's).
    extraClientMetadata: {
      properties: ['release', 'release_policy', 'walk_in'],
      validator(ctx, key, value, metadata) {
        if (value !== undefined) {
          throw new oidcErrors.InvalidClientMetadata(
            `${key}: what a vendor receives is set by the library, not by the vendor`,
          );
        }
        const route = (ctx as KoaContextWithOIDC | undefined)?.oidc?.route;
        if (key === 'release' && (route === 'registration' || route === 'client_update')) {
          const problem = registrationProblem(metadata, libraries.values());
          if (problem) throw new oidcErrors.InvalidClientMetadata(problem);
        }
      },
    },
    fetch: outboundFetch(config.outbound, log),
    features: {
      devInteractions: { enabled: false },
      // A vendor may revoke its own tokens, nobody else's.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      requestObjects: { enabled: config.oidc.requestObjects },
      backchannelLogout: { enabled: true },
      registration: {
        enabled: config.registration.enabled,
        initialAccessToken: true,
        issueRegistrationAccessToken: true,
      },
      registrationManagement: { enabled: config.registration.enabled, rotateRegistrationAccessToken: true },
      pushedAuthorizationRequests: { enabled: config.oidc.pushedAuthorizationRequests },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = views.render(ctx, 'logout', { title: views.t(ctx, 'logout.title'), form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = views.render(ctx, 'logged-out', {
            title: views.t(ctx, 'logout.done.title'),
            vendor: ctx.oidc.client?.clientName ?? null,
          });
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
    },
    // oidc-provider runs these on every authorization request (and PAR),
    // whether the parameter is there or not, before the interaction is saved.
    extraParams: { library: authorizationChecks(libraries, policies, log) },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: prompts(policies) },
    ttl: {
      // Idle timeout (renewed on every use) within an absolute lifetime,
      // both shorter when the patron said "shared computer".
      Session: (_ctx, session) => {
        const shared = session.amr?.includes(SHARED_COMPUTER) ?? false;
        const idle = shared ? config.ttl.sharedSessionIdle : config.ttl.sessionIdle;
        const absolute = shared ? config.ttl.sharedSession : config.ttl.session;
        const age = Math.floor(Date.now() / 1000) - (session.loginTs ?? Math.floor(Date.now() / 1000));
        return Math.max(1, Math.min(idle, absolute - age));
      },
      Interaction: config.ttl.interaction,
      AuthorizationCode: config.ttl.authorizationCode,
      AccessToken: config.ttl.accessToken,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      // As long as its session and tokens can use it (see grantLifetime).
      Grant: (_ctx, grant) => grantLifetime(config.ttl, grant),
    },
    // The grant a vendor gets without asking the patron: the scopes that
    // release nothing, plus what the patron already allowed this vendor.
    // Anything still missing makes oidc-provider ask (the consent prompt).
    async loadExistingGrant(ctx) {
      const { session, client, params } = ctx.oidc;
      if (!session?.accountId || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      const grant =
        existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const policy = (await policies.get(client.clientId)).release;
      const request = requestOf(params);
      // A walk-in visitor has no account to remember a consent with: the
      // page asks every time. A consent counts only for what the vendor
      // asks for and may receive: when that is nothing (a vendor that gets
      // the pseudonym alone, the default), the store is not asked.
      const allowed =
        walkInLibrary(session.accountId) || wanted(request, policy).length === 0
          ? []
          : await consents.allowed(session.accountId, client.clientId);
      applyToGrant(grant, request, policy, allowed);
      lengthen(grant, config.ttl);
      await grant.save();
      return grant;
    },
    renderError: renderError(views),
    // Errors at the token and userinfo endpoints are answered as JSON by
    // oidc-provider; only the patron-facing ones reach renderError.
    // Browser-based vendors (public clients) may call the token and
    // userinfo endpoints from the origins of their redirect URIs only.
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    conformIdTokenClaims: true,
    discovery: { service_documentation: `${config.issuer}/developers`, ui_locales_supported: [...LOCALES] },
  };

  const provider = new Provider(config.issuer, configuration);
  // X-Forwarded-* headers reach here only from trusted proxies (the
  // clientAddress middleware strips them otherwise).
  provider.proxy = config.trustedProxies.length > 0;

  const detailOf = (error: unknown): { detail?: string } => {
    const detail = (error as { error_detail?: unknown }).error_detail;
    return typeof detail === 'string' ? { detail } : {};
  };
  // What a sysadmin wants to see of oidc-provider's own errors: the event,
  // the OAuth error and the vendor — never a token, a code or a patron.
  const logEvent = (event: string) => (ctx: KoaContextWithOIDC | undefined, error: Error & { error?: string }) => {
    log.warn(
      {
        event,
        error: error.error ?? error.name,
        description: (error as { error_description?: string }).error_description ?? error.message,
        // oidc-provider's own reason, e.g. "authorization code not found"
        // (its fixed wording; the patron-facing description hides it).
        ...detailOf(error),
        // e.g. why a sector document could not be fetched
        ...(error.cause instanceof Error ? { cause: causes(error.cause) } : {}),
        client: ctx?.oidc?.client?.clientId,
      },
      `oidc: ${event}`,
    );
  };
  for (const event of [
    'authorization.error',
    'backchannel.error',
    'discovery.error',
    'end_session.error',
    'grant.error',
    'introspection.error',
    'jwks.error',
    'registration_create.error',
    'registration_update.error',
    'revocation.error',
    'userinfo.error',
  ]) {
    // The overloads in @types/oidc-provider cannot be chosen from a union.
    (provider.on as (name: string, listener: ReturnType<typeof logEvent>) => Provider).call(
      provider,
      event,
      logEvent(event),
    );
  }
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    log.error({ event: 'server_error', err: error, client: ctx?.oidc?.client?.clientId }, 'oidc: server error');
  });
  provider.on('registration_create.success', (_ctx: KoaContextWithOIDC, client: { clientId: string }) => {
    log.info(
      { event: 'registration', client: client.clientId },
      `registration: vendor "${client.clientId}" registered; it waits for \`patronym clients approve ${client.clientId}\``,
    );
  });
  provider.use(initialAccessTokenUses(store, log));
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    log.info(
      { event: 'token', client: ctx.oidc.client?.clientId, grant: ctx.oidc.params?.grant_type },
      'oidc: tokens issued',
    );
  });

  provider.use(
    recordReleases({
      accounts,
      libraries,
      consents,
      policies,
      releaseLog,
      retentionDays: config.retention.releaseLog,
      stats,
      log,
    }),
  );

  return provider;
}
