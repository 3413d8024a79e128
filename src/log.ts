// Structured logs (pino). Patronym code never passes a card, PIN, name or
// email to the logger; the redaction list is a second line of defence for
// fields that could carry one by accident.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'card',
  'pin',
  '*.card',
  '*.pin',
  'password',
  '*.password',
  'req.headers.cookie',
  'req.headers.authorization',
  'headers.cookie',
  'headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'patronym' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

// What the store tells the sysadmin: a background write that failed (it is
// retried), and warnings (the SQLite log kept from the file, a failed
// checkpoint: nothing lost).
export function storeLog(log: Logger): {
  onError: (error: unknown) => void;
  onWarning: (message: string) => void;
} {
  return {
    onError: (error) => log.error({ event: 'store-write', err: error }, 'store: a background write failed; retrying'),
    onWarning: (message) => log.warn({ event: 'store' }, message),
  };
}
