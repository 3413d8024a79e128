// The secrets and files a configuration names (environment variables, secret
// files, patron files, certificates, logos), resolved by the loader before
// anything starts, so that every missing one is reported in the same run as
// the schema's problems, in the same format, instead of one at a time from
// a constructor.
//
// The seam for authenticator kinds: a kind's secrets (any `{ env }` or
// `{ file }` value its schema accepted, see secretSchema) are resolved for it
// and replaced by the secret's text before its factory runs; a kind that
// names files gives the registry a `resources(options, context)` hook that
// reads them through this context and returns the options with the file's
// contents in place (see src/auth/registry.ts).
import { readFileSync } from 'node:fs';
import { dotted } from './problems.ts';
import type { SecretRef } from './schema.ts';

export type At = readonly PropertyKey[];

export interface ResourceContext {
  // The secret's text; undefined (and a problem recorded at `at`) when the
  // variable is unset or the file unreadable or empty.
  secret(ref: SecretRef, at: At): string | undefined;
  // The file's bytes; undefined (and a problem recorded) when it cannot be
  // read. `expected` says what the file should be ("a CA certificate (PEM)").
  file(path: string, at: At, expected: string): Buffer | undefined;
  // Any other problem with what was read, e.g. a patron file that does not parse.
  problem(at: At, message: string): void;
  // Whether files are read (false for commands that create them, e.g. `demo init`).
  readonly files: boolean;
}

// Why a file could not be read, in a sysadmin's words.
export function fileFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code}): the broker's user needs read access`;
  if (code === 'EISDIR') return 'a directory, not a file (EISDIR)';
  return code;
}

export function resourceContext(
  env: NodeJS.ProcessEnv,
  problems: string[],
  prefix: At = [],
  files = true,
): ResourceContext {
  const where = (at: At) => dotted([...prefix, ...at]);
  return {
    files,
    problem: (at, message) => problems.push(`${where(at)}: ${message}`),
    secret(ref, at) {
      if (typeof ref === 'string') return ref;
      if ('env' in ref) {
        const value = env[ref.env];
        if (value) return value;
        problems.push(
          `${where(at)}: environment variable ${JSON.stringify(ref.env)} is not set; expected it to hold the secret`,
        );
        return undefined;
      }
      try {
        const value = readFileSync(ref.file, 'utf8').trim();
        if (value) return value;
        problems.push(`${where(at)}: secret file ${JSON.stringify(ref.file)} is empty; expected the secret in it`);
      } catch (error) {
        problems.push(
          `${where(at)}: cannot read secret file ${JSON.stringify(ref.file)}: ${fileFailure(error)}; expected a file holding the secret`,
        );
      }
      return undefined;
    },
    file(path, at, expected) {
      try {
        return readFileSync(path);
      } catch (error) {
        problems.push(`${where(at)}: cannot read ${JSON.stringify(path)}: ${fileFailure(error)}; expected ${expected}`);
        return undefined;
      }
    },
  };
}

const isSecretRef = (value: unknown): value is SecretRef => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 &&
    ((keys[0] === 'env' && typeof (value as { env: unknown }).env === 'string') ||
      (keys[0] === 'file' && typeof (value as { file: unknown }).file === 'string'))
  );
};

// Every `{ env }` / `{ file }` inside an authenticator's parsed options,
// replaced by the secret's text (unresolvable ones stay, with a problem).
export function resolveSecrets(value: unknown, context: ResourceContext, at: At = []): unknown {
  if (isSecretRef(value)) return context.secret(value, at) ?? value;
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, context, [...at, i]));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, context, [...at, k])]));
  }
  return value;
}

// A PEM file named by the configuration, read now; inline PEM text is kept.
export function readPem(value: string, context: ResourceContext, at: At, expected: string): string {
  if (value.trimStart().startsWith('-----BEGIN') || !context.files) return value;
  const bytes = context.file(value, at, expected);
  if (bytes === undefined) return value;
  const text = bytes.toString('utf8');
  if (!text.includes('-----BEGIN')) {
    context.problem(at, `${JSON.stringify(value)} holds no PEM block; expected ${expected}`);
    return value;
  }
  return text;
}
