// Checks that span several keys: references between sections, duplicates,
// overlapping card patterns, colour contrast, client metadata. The files
// the configuration names are checked in file-checks.ts.

import type { Client, Library, Realm, ResolvedAuthenticator } from './config.ts';
import { AA, contrastRatio } from './contrast.ts';
import { overlapProblems } from './overlaps.ts';
import { patternProblem } from './patterns.ts';
import type { ResourceContext } from './resources.ts';
import type { ClientConfig, ParsedConfig } from './schema.ts';

export function checkLibraries(
  config: ParsedConfig,
  chains: ReadonlyMap<string, ResolvedAuthenticator[]>,
  problems: string[],
): { realms: Realm[]; libraries: Library[] } {
  const issuerHost = new URL(config.issuer).hostname.toLowerCase();
  const realms = new Map<string, Realm>();
  config.realms.forEach((realm, i) => {
    if (realms.has(realm.id)) problems.push(`realms[${i}].id: duplicate; found ${JSON.stringify(realm.id)}`);
    realms.set(realm.id, { id: realm.id, scope: realm.scope ?? issuerHost, name: realm.name });
  });

  const seen = new Set<string>();
  const authenticatorsById = new Map<string, ResolvedAuthenticator>();
  const libraries: Library[] = config.libraries.map((library, i) => {
    const at = `libraries[${i}]`;
    if (seen.has(library.id)) problems.push(`${at}.id: duplicate; found ${JSON.stringify(library.id)}`);
    seen.add(library.id);

    const realmId = library.realm ?? library.id;
    if (!realms.has(realmId)) {
      if (library.realm !== undefined && config.realms.length > 0) {
        problems.push(
          `${at}.realm: no such realm; found ${JSON.stringify(realmId)}, expected one of ${[...realms.keys()].join(', ')}`,
        );
      }
      realms.set(realmId, { id: realmId, scope: issuerHost });
    }

    library.cardPatterns.forEach((pattern, p) => {
      const problem = patternProblem(pattern);
      if (problem) problems.push(`${at}.cardPatterns[${p}]: expected ${problem}; found ${JSON.stringify(pattern)}`);
    });

    if (library.colours) {
      const { accent, accentText } = library.colours;
      const onWhite = contrastRatio(accent, '#ffffff');
      if (onWhite < AA) {
        problems.push(
          `${at}.colours.accent: contrast with white is ${onWhite.toFixed(2)}:1, WCAG AA needs ${AA}:1; found "${accent}"`,
        );
      }
      const text = contrastRatio(accent, accentText);
      if (text < AA) {
        problems.push(
          `${at}.colours.accentText: contrast with accent is ${text.toFixed(2)}:1, WCAG AA needs ${AA}:1; found "${accentText}"`,
        );
      }
      if (library.colours.dark) checkDarkColours(library.colours.dark, `${at}.colours.dark`, problems);
    }
    for (const key of ['releaseLog', 'consent'] as const) {
      const days = library.retention?.[key];
      if (days !== undefined && days > config.retention[key]) {
        problems.push(
          `${at}.retention.${key}: a library may only shorten retention; found ${days}, the broker keeps ${config.retention[key]}`,
        );
      }
    }

    const chain = chains.get(library.id) ?? [];
    chain.forEach((a, ai) => {
      const other = authenticatorsById.get(a.id);
      if (other && other !== a)
        problems.push(`${at}.authenticators[${ai}].id: duplicate; found ${JSON.stringify(a.id)}`);
      authenticatorsById.set(a.id, a);
    });

    const { authenticators: _a, realm: _r, scope, retention, ...rest } = library;
    return {
      ...rest,
      realm: realmId,
      scope: scope ?? (realms.get(realmId) as Realm).scope,
      retention: { ...config.retention, ...retention },
      authenticators: chain,
    };
  });

  problems.push(...overlapProblems(libraries));

  if (config.outbound.ca && !config.outbound.allowPrivateAddresses) {
    problems.push('outbound.ca: only used with outbound.allowPrivateAddresses (public vendors need no extra CA)');
  }
  return { realms: [...realms.values()], libraries };
}

export function checkClients(clients: readonly ClientConfig[], problems: string[], context: ResourceContext): Client[] {
  const seen = new Set<string>();
  return clients.map((client, i) => {
    if (seen.has(client.client_id))
      problems.push(`clients[${i}].client_id: duplicate; found ${JSON.stringify(client.client_id)}`);
    seen.add(client.client_id);
    // The broker's own privacy page signs patrons in as this client.
    if (client.client_id === 'patronym-account') {
      problems.push(`clients[${i}].client_id: "patronym-account" is reserved for the broker`);
    }
    const method = client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none');
    if (method !== 'none' && !client.client_secret)
      problems.push(`clients[${i}].client_secret: required for ${method}; found nothing`);
    if (method === 'none' && client.client_secret) {
      problems.push(`clients[${i}].client_secret: a public client (token_endpoint_auth_method none) has no secret`);
    }
    // OIDC Core 8.1: without a sector_identifier_uri, all redirect URIs must
    // share one host, which becomes the vendor's sector.
    const hosts = new Set(client.redirect_uris.map((uri) => new URL(uri).hostname.toLowerCase()));
    if (hosts.size > 1 && !client.sector_identifier_uri) {
      problems.push(
        `clients[${i}].redirect_uris: span several hosts (${[...hosts].join(', ')}); add a sector_identifier_uri listing them`,
      );
    }
    const { client_secret, ...rest } = client;
    const resolved: Client = { ...rest, token_endpoint_auth_method: method };
    if (client_secret !== undefined) {
      const value = context.secret(client_secret, ['clients', i, 'client_secret']);
      if (value !== undefined) resolved.client_secret = value;
    }
    return resolved;
  });
}

// The dark variant meets the page of patronym.css's dark mode: links on its
// card (#1e1e1e, the lighter of its two backgrounds), text on the buttons.
const DARK_CARD = '#1e1e1e';
function checkDarkColours(dark: { accent: string; accentText: string }, at: string, problems: string[]): void {
  const onCard = contrastRatio(dark.accent, DARK_CARD);
  if (onCard < AA) {
    problems.push(
      `${at}.accent: contrast with the dark page (${DARK_CARD}) is ${onCard.toFixed(2)}:1, WCAG AA needs ${AA}:1; found "${dark.accent}"`,
    );
  }
  const text = contrastRatio(dark.accent, dark.accentText);
  if (text < AA) {
    problems.push(
      `${at}.accentText: contrast with accent is ${text.toFixed(2)}:1, WCAG AA needs ${AA}:1; found "${dark.accentText}"`,
    );
  }
}
