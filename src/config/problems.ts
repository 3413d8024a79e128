// How a configuration problem is written: dotted path, message, what was found.
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

const SECRETISH = /secret|key|pepper|pin|password/i;

export function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  );
}

function found(path: readonly PropertyKey[], input: unknown): string {
  if (input === undefined) return 'nothing';
  if (path.some((p) => typeof p === 'string' && SECRETISH.test(p))) return 'a value (not shown: it may be secret)';
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// zod's internal definition, enough to walk from a schema to the object
// schemas at a path (zod has no public API for "the keys allowed here").
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

// Every key an object at `path` may have (several object schemas where a
// union allows them).
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const def = defOf(schema);
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  if (inner) return knownKeys(inner, path);
  if (def.options) return [...new Set(def.options.flatMap((o) => knownKeys(o, path)))];
  if (path.length === 0) return def.shape ? Object.keys(def.shape) : [];
  const [head, ...rest] = path;
  if (def.type === 'array' && def.element && typeof head === 'number') return knownKeys(def.element, rest);
  const child = def.shape && typeof head === 'string' ? def.shape[head] : undefined;
  return child ? knownKeys(child, rest) : [];
}

// "did you mean" for a mistyped key: the nearest known key, when it is near
// enough to be a typo rather than another word: one edit for keys of up to
// three letters, else two (a swapped pair of letters) or a third of its length.
function suggestion(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(key, known as string[]);
  const allowed = best.length <= 3 ? 1 : Math.max(2, Math.floor(best.length / 3));
  return distance(key, best) <= allowed ? best : undefined;
}

export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = [], schema?: z.ZodType): string[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys' && schema) {
      const known = knownKeys(schema, issue.path);
      return issue.keys.map((key) => {
        const near = suggestion(key, known);
        return `${dotted([...path, key])}: unknown key${near ? `, did you mean "${near}"?` : ''}; expected one of ${known.join(', ')}`;
      });
    }
    return [`${dotted(path) || '(top level)'}: ${issue.message}; found ${found(path, issue.input)}`];
  });
}
