// The broker's own first-party client, through which the patron signs in to
// their privacy page. It lives with the provider that registers it; the
// privacy pages and the interaction routes only read its id.
import type { ClientMetadata } from 'oidc-provider';

export const ACCOUNT_CLIENT = 'patronym-account';

export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT,
    client_name: 'Your privacy page',
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${issuer}/account/callback`],
    // OIDC Core 3.1.2.1 max_age, for requests that leave it out: a broker
    // session left open by someone else never opens the privacy page.
    default_max_age: 0,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    subject_type: 'pairwise',
  };
}
