// One error type for the whole broker. `code` is one of a closed list (tests,
// logs and alerts match on it); what a patron may see of an error is decided
// by its code, here, not where it is thrown. The message is for the sysadmin
// only: lower case, component first, the offending value quoted.

// What a page does with an error of a code that reaches a route: the HTTP
// status and the catalogue sentence (views/messages/*.json). `expose` is
// whether that sentence says what went wrong; an unexposed code shows the
// generic "something went wrong on our side" and a 500, whatever it is.
interface Disposition {
  expose: boolean;
  status: number;
  page: string;
}

const INTERNAL: Disposition = { expose: false, status: 500, page: 'error.server' };
// The patron can do nothing but wait: said as an outage, never as a wrong PIN
// (ARCHITECTURE.md, invariant 4).
const OUTAGE: Disposition = { expose: true, status: 503, page: 'outcome.unavailable' };

const CODES = {
  // Start-up and configuration: a sysadmin's problem, never a patron's.
  config_invalid: INTERNAL,
  config_secret_missing: INTERNAL,
  keys_missing: INTERNAL,
  keys_too_short: INTERNAL,
  keys_unreadable: INTERNAL,
  // A reload that would change the pseudonym or PIN keys: refused.
  keys_changed: INTERNAL,
  ldap_url_invalid: INTERNAL,
  guide_missing: INTERNAL,
  store_location_invalid: INTERNAL,
  store_not_empty: INTERNAL,
  store_schema_newer: INTERNAL,
  stats_password_short: INTERNAL,
  patron_file_invalid: INTERNAL,
  patron_file_unreadable: INTERNAL,
  // `patronym … check` against a live backend.
  ldap_check_failed: INTERNAL,
  sip2_check_failed: INTERNAL,
  koha_check_failed: INTERNAL,
  polaris_check_failed: INTERNAL,
  sierra_check_failed: INTERNAL,
  alma_check_failed: INTERNAL,
  folio_check_failed: INTERNAL,
  // The command line: wrong arguments or names.
  usage: INTERNAL,
  client_configured: INTERNAL,
  client_unknown: INTERNAL,
  library_unknown: INTERNAL,
  account_unknown: INTERNAL,
  patron_unknown: INTERNAL,
  patron_exists: INTERNAL,
  patron_invalid: INTERNAL,
  pin_missing: INTERNAL,
  // At run time.
  store_unavailable: OUTAGE,
  // Under workers, /metrics could not gather every worker's counts (metrics.ts).
  metrics_unavailable: INTERNAL,
  // A backend that did not answer (the authenticator turns these into
  // `unavailable(cause)`; one that escapes is still an outage).
  ldap_transport: OUTAGE,
  ldap_result: INTERNAL,
  ldap_filter_syntax: INTERNAL,
  // The installed ldapjs lacks what lockout detection needs (auth/ldap/bind-controls.ts).
  ldap_client_unsupported: INTERNAL,
  sip2_failure: OUTAGE,
  sip2_encode: INTERNAL,
  ils_unavailable: OUTAGE,
  // An account whose realm the configuration no longer has.
  realm_unknown: INTERNAL,
  sector_ambiguous: INTERNAL,
  outbound_refused: INTERNAL,
  stats_query_invalid: { expose: true, status: 400, page: 'error.bad-request' },
  stats_sketch_invalid: INTERNAL,
} as const satisfies Record<string, Disposition>;

export type ErrorCode = keyof typeof CODES;

export function disposition(code: ErrorCode): Disposition {
  return CODES[code];
}

export class PatronymError extends Error {
  readonly code: ErrorCode;
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PatronymError';
    this.code = code;
    this.expose = CODES[code].expose;
  }
}

// A short, single-line description of any thrown value, safe for logs
// (never includes a stack).
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    // A foreign error's code (Node's ECONNREFUSED, …) says what its message
    // often does not; ours are written to be read without it.
    const code = error instanceof PatronymError ? undefined : (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
