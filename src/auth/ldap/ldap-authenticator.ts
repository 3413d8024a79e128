// `ldap` authenticator: card + PIN against a directory (OpenLDAP, 389-DS,
// Active Directory), in one of two shapes:
// - search then bind: the service account finds the one entry whose
//   attributes hold the card, then we bind as that entry with the PIN;
// - direct bind: the card goes into a DN (or AD user principal) template.
// A wrong PIN is a result; only an outage is `unavailable`. Results never
// carry the card, the PIN, the patron's DN or anything read about them.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { resolveSecret } from '../../config/load.ts';
import { describeError, PatronymError } from '../../errors.ts';
import type { AuthenticatorContext } from '../authenticator.ts';
import { type Authenticator, type AuthResult, type Credentials, denied, unavailable } from '../authenticator.ts';
import { ldapClientSelfCheck } from './bind-controls.ts';
import { failedBindOutcome } from './bind-outcome.ts';
import { canonicalLdapCard } from './card-matching.ts';
import { type Entry, type LdapConnection, LdapResultError, LdapTransportError, type Target } from './connection.ts';
import { DN_ATTRIBUTES, dnOf, text } from './entry.ts';
import { dnFor, fillTemplate, filterFor } from './escape.ts';
import { judge } from './judge.ts';
import { parseLdapUrl } from './ldap-url.ts';
import { type LdapOptions, searchOf } from './options.ts';
import { BindPool, Connector, openOne, SharedConnection } from './pool.ts';
import { INVALID_DN_SYNTAX, NO_SUCH_OBJECT, resultName } from './result-codes.ts';

const LOCK_ATTRIBUTE = 'pwdAccountLockedTime';
const NO_ATTRIBUTES = ['1.1']; // RFC 4511 section 4.5.1.8
// Characters an AD user principal or down-level name may carry; anything
// else cannot be that patron, and is not sent.
const BIND_NAME_SAFE = /^[A-Za-z0-9._-]+$/;

interface Search {
  baseDn: string;
  filter: string;
  scope: 'one' | 'sub';
}

export class LdapAuthenticator implements Authenticator {
  readonly kind = 'ldap';
  readonly id: string;
  readonly #options: LdapOptions;
  readonly #search: Search | undefined;
  readonly #service: { dn: string; password: string } | undefined;
  readonly #connector: Connector;
  readonly #shared: SharedConnection;
  readonly #binds: BindPool;
  readonly #now: () => number;
  readonly #readAttributes: string[];
  // Rejects when the installed ldapjs cannot tell a locked account from a
  // wrong PIN (bind-controls.ts): then every sign-in is refused as an
  // outage and the sysadmin is told at start-up.
  readonly #clientReady: Promise<void>;

  constructor(id: string, options: LdapOptions, context: AuthenticatorContext) {
    this.id = id;
    this.#options = options;
    this.#now = context.now ?? Date.now;
    this.#clientReady = ldapClientSelfCheck();
    this.#clientReady.catch((error: unknown) => context.warn(`ldap "${id}": ${describeError(error)}`));
    this.#search = searchOf(options);
    if (options.bindDn !== undefined && options.bindPassword !== undefined) {
      this.#service = {
        dn: options.bindDn,
        password: resolveSecret(options.bindPassword, `ldap "${id}": bindPassword`),
      };
    }
    const targets = targetsOf(options);
    this.#connector = new Connector(targets);
    this.#shared = new SharedConnection(() => this.#connector.open(this.#serviceSetup));
    this.#binds = new BindPool(() => this.#connector.open(), options.poolSize);
    this.#readAttributes = [
      ...new Set([
        options.stableIdAttribute,
        ...DN_ATTRIBUTES,
        LOCK_ATTRIBUTE,
        ...(options.expiry ? [options.expiry.attribute] : []),
        ...options.attributes,
      ]),
    ];
    for (const t of targets) {
      if (!t.secure && !t.startTls) context.warn(`ldap: "${id}" sends PINs in clear to ${t.server} (allowInsecure)`);
    }
    if (!options.tls.rejectUnauthorized)
      context.warn(`ldap: "${id}" does not verify server certificates (tls.rejectUnauthorized false)`);
    const filter = this.#search?.filter ?? '';
    if (new RegExp(`\\(${options.stableIdAttribute}=\\{card\\}\\)`, 'i').test(filter)) {
      context.warn(
        `ldap: "${id}" uses the card attribute "${options.stableIdAttribute}" as stableId: a replaced card changes the patron's pseudonyms`,
      );
    }
  }

  // How many connections were opened (tests check the service account's is reused).
  get connectionsOpened(): number {
    return this.#connector.opened;
  }

  #serviceSetup = async (c: LdapConnection): Promise<void> => {
    if (!this.#service) return;
    const result = await c.bind(this.#service.dn, this.#service.password);
    if (!result.ok) {
      throw new LdapTransportError(
        c.server,
        `bind as service account failed: "${this.#service.dn}" (${resultName(result.code)})`,
      );
    }
  };

  async authenticate(credentials: Credentials): Promise<AuthResult> {
    try {
      const { card, pin } = credentials;
      // RFC 4513 section 5.1.2: a simple bind with an empty password is an
      // unauthenticated bind, which servers report as success.
      if (typeof pin !== 'string' || pin.trim() === '') return denied('bad-credentials', 'empty PIN');
      if (typeof card !== 'string' || card === '') return denied('unknown-card', 'empty card');
      await this.#clientReady;
      return this.#options.mode === 'search'
        ? await this.#searchThenBind(card, pin)
        : await this.#directBind(card, pin);
    } catch (error) {
      return unavailable(`ldap: ${causeOf(error)}`);
    }
  }

  async #searchThenBind(card: string, pin: string): Promise<AuthResult> {
    const search = this.#search as Search;
    const filter = filterFor(search.filter, card);
    const found = await this.#find(this.#shared, search, filter, this.#readAttributes);
    if (found === 'none') {
      await this.#decoyBind(search.baseDn);
      return denied('unknown-card');
    }
    if (typeof found === 'string') return denied('blocked', found);
    const bind = await this.#binds.use((c) => c.bind(dnOf(found), pin, { ppolicy: true }));
    if (!bind.ok) return this.#failed(failedBindOutcome(bind, text(found, LOCK_ATTRIBUTE)[0]));
    const eligible = await this.#eligible(this.#shared, { ...search, filter });
    return judge(found, eligible, this.#options, this.#now());
  }

  async #directBind(card: string, pin: string): Promise<AuthResult> {
    const template = this.#options.dnTemplate as string;
    const isDn = template.includes('=');
    if (!isDn && !BIND_NAME_SAFE.test(card))
      return denied('unknown-card', 'card has characters no bind name can carry');
    const name = isDn ? dnFor(template, card) : fillTemplate(template, card);
    // Where the entry is read: as the DN we bound with, or by the search
    // (an AD principal is not a DN).
    const where: Search = isDn
      ? { baseDn: name, filter: '(objectClass=*)', scope: 'one' }
      : { ...(this.#search as Search), filter: filterFor((this.#search as Search).filter, card) };
    const read = (on: Reader) => this.#find(on, where, where.filter, this.#readAttributes, isDn);

    return this.#binds.use(async (c) => {
      const bind = await c.bind(name, pin, { ppolicy: true });
      if (!bind.ok) {
        // Only someone who may look can tell an unknown card from a wrong PIN.
        if (!this.#service) return this.#failed(failedBindOutcome(bind));
        const entry = await read(this.#shared);
        if (entry === 'none') return denied('unknown-card');
        return this.#failed(
          failedBindOutcome(bind, typeof entry === 'string' ? undefined : text(entry, LOCK_ATTRIBUTE)[0]),
        );
      }
      // Without a service account the patron reads their own entry.
      const reader: Reader = this.#service ? this.#shared : { use: (fn) => fn(c) };
      const entry = await read(reader);
      if (entry === 'none')
        return unavailable('ldap: bound as the patron but cannot read the entry (check read access)');
      if (typeof entry === 'string') return denied('blocked', entry);
      return judge(entry, await this.#eligible(reader, where, isDn), this.#options, this.#now());
    });
  }

  // The one entry, 'none', or why it is ambiguous.
  async #find(
    on: Reader,
    search: Search,
    filter: string,
    attributes: string[],
    base = false,
  ): Promise<Entry | 'none' | string> {
    let result: { entries: Entry[]; truncated: boolean };
    try {
      result = await on.use((c) =>
        c.search(search.baseDn, { scope: base ? 'base' : search.scope, filter, attributes, sizeLimit: 2 }),
      );
    } catch (error) {
      // A DN template names no entry (or no valid DN): that card is unknown.
      const code = error instanceof LdapResultError ? error.resultCode : undefined;
      if (base && (code === NO_SUCH_OBJECT || code === INVALID_DN_SYNTAX)) return 'none';
      throw error;
    }
    const [first] = result.entries;
    if (result.truncated || result.entries.length > 1) {
      return `filter matched ${result.truncated ? 'more than 2' : result.entries.length} entries (ambiguous filter)`;
    }
    return first ?? 'none';
  }

  async #eligible(on: Reader, search: Search, base = false): Promise<boolean> {
    const extra = this.#options.eligibilityFilter;
    if (extra === undefined) return true;
    // The same search narrowed by the eligibility filter, so the server
    // evaluates it with its own matching rules (group membership, bit masks…).
    const found = await this.#find(on, search, `(&${search.filter}${extra})`, NO_ATTRIBUTES, base);
    return typeof found === 'object';
  }

  // An unknown card costs a bind too, so its answer takes as long as a wrong PIN's.
  async #decoyBind(baseDn: string): Promise<void> {
    await this.#binds.use((c) => c.bind(`cn=patronym-decoy,${baseDn}`, randomBytes(12).toString('base64url')));
  }

  #failed(outcome: ReturnType<typeof failedBindOutcome>): AuthResult {
    return 'unavailable' in outcome
      ? unavailable(`ldap: ${outcome.unavailable}`)
      : denied(outcome.reason, outcome.detail);
  }

  // `patronym check`: each server on its own connection, one line each.
  canonicalCard(card: string): string {
    return canonicalLdapCard(this.#options.cardMatching, card);
  }

  async check(): Promise<string> {
    await this.#clientReady;
    const lines: string[] = [];
    let failed = 0;
    for (const target of this.#connector.targets) {
      const started = performance.now();
      try {
        const c = await openOne(target, this.#serviceSetup);
        try {
          const base = this.#search?.baseDn ?? ''; // '' is the root DSE
          const found = await c.search(base, { scope: 'base', filter: '(objectClass=*)', attributes: NO_ATTRIBUTES });
          if (found.entries.length !== 1)
            throw new LdapTransportError(target.server, `search base "${base}" not visible`);
        } finally {
          c.destroy();
        }
        const who = this.#service ? `bound as "${this.#service.dn}"` : 'anonymous';
        const what = this.#search ? `found "${this.#search.baseDn}"` : 'read the root DSE';
        lines.push(
          `ok   ${target.server} (${tlsModeOf(target)}): ${who}, ${what} in ${Math.round(performance.now() - started)} ms`,
        );
      } catch (error) {
        failed += 1;
        lines.push(`FAIL ${target.server} (${tlsModeOf(target)}): ${causeOf(error, target.server)}`);
      }
    }
    if (failed > 0) {
      throw new PatronymError(
        'ldap_check_failed',
        `ldap: "${this.id}": ${failed} of ${lines.length} servers failed\n${lines.join('\n')}`,
      );
    }
    return lines.join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared.close(), this.#binds.close()]);
  }
}

interface Reader {
  use<T>(fn: (c: LdapConnection) => Promise<T>): Promise<T>;
}

const tlsModeOf = (t: Target): string => (t.secure ? 'tls' : t.startTls ? 'starttls' : 'plain, insecure');

function causeOf(error: unknown, server?: string): string {
  if (error instanceof LdapTransportError)
    return server !== undefined && error.server === server ? error.reason : error.message;
  if (error instanceof LdapResultError) return `directory refused the operation: ${resultName(error.resultCode)}`;
  // Not expected; name only, as a message could quote a DN.
  return `unexpected ${error instanceof Error ? error.name : typeof error}`;
}

function targetsOf(o: LdapOptions): Target[] {
  let ca: string | undefined;
  if (o.tls.ca !== undefined) {
    const inline = o.tls.ca.trimStart().startsWith('-----BEGIN');
    try {
      ca = inline ? o.tls.ca : readFileSync(o.tls.ca, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new PatronymError('config_invalid', `ldap: cannot read tls.ca "${o.tls.ca}" (${code})`);
    }
  }
  return o.urls.map((u) => {
    const url = parseLdapUrl(u);
    const tls: TlsOptions = { rejectUnauthorized: o.tls.rejectUnauthorized, host: url.host };
    if (ca !== undefined) tls.ca = ca;
    // SNI takes host names only (RFC 6066 section 3).
    const servername = o.tls.servername ?? (isIP(url.host) ? undefined : url.host);
    if (servername !== undefined) tls.servername = servername;
    return {
      server: url.server,
      secure: url.secure,
      host: url.host,
      port: url.port,
      startTls: o.tls.startTls,
      tls,
      connectTimeoutMs: Math.round(o.connectTimeout * 1000),
      timeoutMs: Math.round(o.timeout * 1000),
    };
  });
}
