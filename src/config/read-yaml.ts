// Reading the configuration file: YAML text to plain data, or the problems
// with their line numbers. A consortium's file of a thousand libraries takes
// the yaml parser a few hundred milliseconds, so a reload (SIGHUP) parses it
// in a worker thread: the server keeps answering meanwhile, instead of
// stalling long enough for kept-alive connections to be dropped.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { LineCounter, parseDocument } from 'yaml';

export type YamlRead = { ok: true; value: unknown } | { ok: false; problems: string[] };

export function readYaml(file: string): YamlRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  // Line and column from the error's offset (yaml fills `linePos` only
  // with prettyErrors, which also rewrites the message).
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  return { ok: true, value: doc.toJS() };
}

export function readYamlOffThread(file: string): Promise<YamlRead> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./yaml-worker.ts', import.meta.url), { workerData: { file } });
    worker.once('message', (read: YamlRead) => resolve(read));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`config: the YAML reader stopped with exit code ${code}`));
    });
  });
}
