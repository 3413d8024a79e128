// Reads a secret from the terminal without echoing it (or one line from a
// pipe, for scripts). Node's readline does the line editing (backspace,
// Ctrl-U, Ctrl-C); its output goes nowhere, so nothing typed is shown.
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { PatronymError } from '../errors.ts';

async function firstLine(): Promise<string> {
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

export async function readSecret(question: string): Promise<string> {
  if (!stdin.isTTY) return firstLine();
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  // The terminal leaves echo mode here: the question comes after, or keys
  // typed right away would be shown.
  const prompt = createInterface({ input: stdin, output: silent, terminal: true });
  stdout.write(question);
  const cancel = new AbortController();
  prompt.once('SIGINT', () => cancel.abort());
  try {
    return await prompt.question('', { signal: cancel.signal });
  } catch (error) {
    if (cancel.signal.aborted) throw new PatronymError('usage', 'cli: cancelled', { cause: error });
    throw error;
  } finally {
    prompt.close();
    stdout.write('\n');
  }
}
