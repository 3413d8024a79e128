// readSecret on a real pseudo-terminal (util-linux `script`): nothing typed is
// echoed, backspace edits, Ctrl-C cancels; and one line from a pipe.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROMPT = resolveFrom('../../../src/cli/prompt.ts');
function resolveFrom(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}
const script = join(tmpdir(), `patronym-prompt-${process.pid}.ts`);
writeFileSync(
  script,
  `import { readSecret } from ${JSON.stringify(PROMPT)};\nreadSecret('PIN: ').then((v) => console.log('got[' + v + ']'), (e) => console.log('failed[' + e.code + ']'));\n`,
);

function run(command: string, args: string[], keys: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // Type only once the prompt is up (the terminal is in raw mode then).
      if (out.includes('PIN: ') && keys) {
        child.stdin.write(keys);
        keys = '';
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

const onTty = (keys: string) => run('script', ['-qc', `${process.execPath} ${script}`, '/dev/null'], keys);

describe('readSecret', () => {
  it('on a terminal: echoes nothing, honours backspace', async () => {
    const out = await onTty('12x\x7f34\r');
    expect(out).toContain('got[1234]');
    expect(out).not.toMatch(/12x|1234\s*\r?\n.*got/s);
    expect(out.split('got[')[0]).not.toContain('1');
  });

  it('on a terminal: Ctrl-C cancels with a coded error', async () => {
    expect(await onTty('12\x03')).toContain('failed[usage]');
  });

  it('from a pipe: the first line', async () => {
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stdin.end('4321\nsecond line\n');
    await new Promise((resolve) => child.on('close', resolve));
    expect(out.trim()).toBe('got[4321]');
  });
});
