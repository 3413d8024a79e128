// How a configuration problem is written: dotted path, message, what was found.
import type { z } from 'zod';

const SECRETISH = /secret|key|pepper|pin|password/i;

export function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  );
}

export function found(path: readonly PropertyKey[], input: unknown): string {
  if (input === undefined) return 'nothing';
  if (path.some((p) => typeof p === 'string' && SECRETISH.test(p))) return 'a value (not shown: it may be secret)';
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    return `${dotted(path) || '(top level)'}: ${issue.message}; found ${found(path, issue.input)}`;
  });
}
