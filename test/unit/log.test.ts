// The store's messages as the broker logs them (main.ts): what a sysadmin
// reads when a background write fails or the SQLite log cannot be copied.
import { describe, expect, it } from 'vitest';
import { createLogger, storeLog } from '../../src/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, handlers: storeLog(log) };
}

describe('storeLog', () => {
  it('logs a failed background write as an error, with its cause', () => {
    const { lines, handlers } = capture();
    handlers.onError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      event: 'store-write',
      msg: 'store: a background write failed; retrying',
      err: { message: 'database is locked', code: 'SQLITE_BUSY' },
    });
  });

  it('logs what the store warns of (a stuck log, a failed checkpoint) as a warning, message as given', () => {
    const { lines, handlers } = capture();
    const message = 'sqlite: checkpoint of the write-ahead log failed (SQLITE_IOERR); nothing is lost';
    handlers.onWarning(message);
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', event: 'store', msg: message })]);
  });
});
