// Generates docs/configuration.md from the schema's own descriptions and
// defaults, so the reference cannot drift from the code (a test compares).
import { z } from 'zod';
import { type AuthenticatorKinds, kindSpec } from './config.ts';
import { configSchema } from './schema.ts';

type Json = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json;
  anyOf?: Json[];
  oneOf?: Json[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  // From `.meta({ unit })` in the schema (e.g. seconds).
  unit?: string;
};

const alternativesOf = (node: Json): Json[] | undefined => node.anyOf ?? node.oneOf;

function typeOf(node: Json): string {
  let type: string;
  if (node.enum) type = node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  else if (node.const !== undefined) type = `\`${String(node.const)}\``;
  else if (alternativesOf(node)) type = [...new Set((alternativesOf(node) as Json[]).map(typeOf))].join(' or ');
  else if (node.type === 'array') type = `list of ${node.items ? typeOf(node.items) : 'values'}`;
  else if (node.format === 'uri') type = 'URL';
  else type = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'value');
  return node.unit ? `${type}, ${node.unit}` : type;
}

const isSecret = (node: Json): boolean =>
  alternativesOf(node)?.some((a) => a.properties && ('env' in a.properties || 'file' in a.properties)) ?? false;

const hasObjects = (node: Json): boolean => Boolean(node.properties || alternativesOf(node)?.some((a) => a.properties));

// A union of objects told apart by one constant key (the store's `kind`).
function discriminator(alternatives: Json[]): string | undefined {
  const first = alternatives[0]?.properties ?? {};
  return Object.keys(first).find((key) => alternatives.every((a) => a.properties?.[key]?.const !== undefined));
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function row(out: string[], path: string, type: string, required: boolean, def: unknown, meaning: string): void {
  const shown = def === undefined ? '' : `\`${JSON.stringify(def)}\``;
  out.push(`| \`${path}\` | ${type} | ${required ? 'yes' : ''} | ${shown} | ${cell(meaning).trim()} |`);
}

function rows(node: Json, path: string, out: string[], only = ''): void {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  if (node.properties) {
    for (const [key, child] of Object.entries(node.properties)) {
      const required = node.required?.includes(key) === true && child.default === undefined;
      const meaning = `${only}${child.description ?? ''}`;
      if (isSecret(child)) {
        row(out, join(key), 'secret', required, child.default, meaning);
        continue;
      }
      const nested = hasObjects(child) || Boolean(child.items?.properties);
      row(out, join(key), nested ? 'see below' : typeOf(child), required, child.default, meaning);
      if (hasObjects(child)) rows(child, join(key), out);
      if (child.items?.properties) rows(child.items, `${join(key)}[]`, out);
    }
  }
  const alternatives = alternativesOf(node)?.filter((a) => a.properties) ?? [];
  if (alternatives.length === 0) return;
  const key = discriminator(alternatives);
  if (!key) {
    // Alternatives told apart by which key is written (e.g. `basic` or
    // `oauth`): each row says which others it excludes.
    const names = alternatives.flatMap((a) => Object.keys(a.properties ?? {}).map(join));
    for (const alternative of alternatives) {
      const mine = Object.keys(alternative.properties ?? {}).map(join);
      const others = names.filter((n) => !mine.includes(n));
      const note = alternatives.length > 1 ? `(instead of ${others.map((n) => `\`${n}\``).join(' or ')}) ` : '';
      rows(
        { ...alternative, required: alternatives.length > 1 ? [] : alternative.required },
        path,
        out,
        `${only}${note}`,
      );
    }
    return;
  }
  // One row for the discriminator, listing its values and what each means;
  // then each alternative's other keys, marked with the value they go with.
  const values = alternatives.map((a) => a.properties?.[key] as Json);
  row(
    out,
    join(key),
    values.map((v) => `\`${String(v.const)}\``).join(' \\| '),
    !alternatives.some((a) => !a.required?.includes(key)) && node.default === undefined,
    (node.default as Record<string, unknown> | undefined)?.[key],
    values.map((v) => `\`${String(v.const)}\`: ${v.description ?? ''}`).join('; '),
  );
  for (const alternative of alternatives) {
    const { [key]: tag, ...rest } = alternative.properties ?? {};
    rows({ ...alternative, properties: rest }, path, out, `(${key} \`${String(tag?.const)}\`) `);
  }
}

const HEAD = ['| key | type | required | default | meaning |', '|---|---|---|---|---|'];

// `kinds`: each authenticator kind's options schema (src/auth/registry.ts),
// passed in because the configuration layer does not import backends.
export function configurationReference(kinds: AuthenticatorKinds = {}): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const out = [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` (and each authenticator kind’s options) by `npm run docs:config`; do not edit by hand.',
    '',
    '- The file is YAML, named by `PATRONYM_CONFIG` (default `config/demo.yaml`).',
    '- `PORT`, `ISSUER` and `PATRONYM_STORE_URL` in the environment override `port`, `issuer` and `store`; a wrong value in the file is still reported.',
    '- A *secret* is a string, `{ env: NAME }` or `{ file: path }`, read at start-up. Relative paths are taken from the working directory.',
    '- Durations are in the unit the type column names (seconds, or days where the meaning says so).',
    '- *required*: the key must be written (where its section is); other keys have a default or may be left out.',
    '- Every secret, file, certificate and logo named here is read before the broker starts, and every problem is reported at once (exit 78).',
    '- Each authenticator kind has its own keys besides `id` and `kind`: see the sections after the table.',
    '',
    ...HEAD,
  ];
  rows(schema, '', out);
  for (const [name, kind] of Object.entries(kinds)) {
    out.push('', `## Authenticator kind \`${name}\``, '', ...HEAD);
    rows(z.toJSONSchema(kindSpec(kind).options, { io: 'input', unrepresentable: 'any' }) as Json, '', out);
  }
  return `${out.join('\n')}\n`;
}
