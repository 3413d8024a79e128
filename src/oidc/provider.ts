// The only `new Provider()`. Authorization code flow only, pairwise subjects
// only, PKCE required for public clients, our own interaction pages.
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Client, Config, Realm } from '../config/load.ts';
import { PatronymError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { derivePseudonym } from '../pseudonym/derive.ts';
import { sectorOf } from '../pseudonym/sector.ts';
import type { Keys } from '../security/keys.ts';
import { oidcAdapter } from '../store/oidc-adapter.ts';
import type { Store } from '../store/store.ts';
import type { Views } from '../views.ts';
import { type Accounts, findAccount, type LoadedAccount } from './account.ts';
import { renderError } from './render-error.ts';

export interface ProviderDeps {
  config: Config;
  keys: Keys;
  store: Store;
  accounts: Accounts;
  views: Views;
  log: Logger;
}

// The scopes a vendor can be granted without a consent screen: they release
// nothing but the pseudonym (and, for offline_access, a refresh token).
export const IMPLICIT_SCOPES = ['openid', 'offline_access'] as const;

export function clientMetadata(client: Client): ClientMetadata {
  const metadata: ClientMetadata = {
    ...client,
    client_id: client.client_id,
    subject_type: 'pairwise',
    response_types: ['code'],
    grant_types: client.grant_types,
  };
  if (client.sector_identifier_uri === undefined) delete metadata.sector_identifier_uri;
  return metadata;
}

function sectorOfClient(client: {
  sectorIdentifierUri?: string | undefined;
  redirectUris?: string[] | undefined;
}): string {
  return sectorOf({ sectorIdentifierUri: client.sectorIdentifierUri, redirectUris: client.redirectUris ?? [] });
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, keys, store, accounts, views, log } = deps;
  const realms = new Map<string, Realm>(config.realms.map((r) => [r.id, r]));

  const configuration: Configuration = {
    adapter: oidcAdapter(store),
    clients: config.clients.map(clientMetadata),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'RS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
    },
    jwks: { keys: keys.signing as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: keys.cookies,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: findAccount(accounts),
    // Nothing but `sub` exists as a claim: requests for profile, email,
    // address or phone have nothing to yield.
    claims: { openid: ['sub'] },
    scopes: [...IMPLICIT_SCOPES],
    subjectTypes: ['pairwise'],
    responseTypes: ['code'],
    pkce: {
      // Public clients must use PKCE (S256, the only method oidc-provider
      // offers); confidential clients may.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    async pairwiseIdentifier(ctx: KoaContextWithOIDC, accountId: string, client) {
      const loaded = ctx.oidc.account as LoadedAccount | undefined;
      const record = loaded?.accountId === accountId ? loaded.record : await accounts.get(accountId);
      if (!record)
        throw new PatronymError('account_unknown', 'oidc: pseudonym asked for an account the store no longer holds');
      const realm = realms.get(record.realm);
      if (!realm)
        throw new PatronymError(
          'realm_unknown',
          `oidc: account belongs to realm "${record.realm}", which is no longer configured`,
        );
      const sector = sectorOfClient(client as unknown as Parameters<typeof sectorOfClient>[0]);
      return derivePseudonym(keys.pairwiseKey, {
        sector,
        accountId,
        generation: record.generations[sector] ?? 0,
        scope: realm.scope,
      });
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      claimsParameter: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = views.render('logout', { title: views.t('logout.title'), form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = views.render('logged-out', {
            title: views.t('logout.done.title'),
            vendor: ctx.oidc.client?.clientName ?? null,
          });
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
    },
    extraParams: ['library'],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      Session: config.ttl.session,
      Interaction: config.ttl.interaction,
      AuthorizationCode: config.ttl.authorizationCode,
      AccessToken: config.ttl.accessToken,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Grant: config.ttl.grant,
    },
    // Without a consent screen to show (nothing beyond the pseudonym is
    // released), the scopes that release nothing are granted as requested.
    async loadExistingGrant(ctx) {
      const { session, client, params } = ctx.oidc;
      if (!session?.accountId || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      const grant =
        existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const requested = String(params?.scope ?? '').split(' ');
      grant.addOIDCScope(IMPLICIT_SCOPES.filter((s) => requested.includes(s)));
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
    discovery: { service_documentation: `${config.issuer}/developers` },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;

  // What a sysadmin wants to see of oidc-provider's own errors: the event,
  // the OAuth error and the vendor — never a token, a code or a patron.
  const logEvent = (event: string) => (ctx: KoaContextWithOIDC | undefined, error: Error & { error?: string }) => {
    log.warn(
      {
        event,
        error: error.error ?? error.name,
        description: (error as { error_description?: string }).error_description,
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
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    log.info({ event: 'token', client: ctx.oidc.client?.clientId }, 'oidc: tokens issued');
  });

  return provider;
}
