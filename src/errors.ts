// One error type for the whole broker. `code` is stable (tests, logs and
// alerts match on it); `expose` says whether the patron may be shown the
// catalogue sentence for that code. The message is for the sysadmin only:
// lower case, component first, the offending value quoted.
export class PatronymError extends Error {
  readonly code: string;
  readonly expose: boolean;

  constructor(code: string, message: string, options: { expose?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PatronymError';
    this.code = code;
    this.expose = options.expose ?? false;
  }
}

// A short, single-line description of any thrown value, safe for logs
// (never includes a stack).
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
