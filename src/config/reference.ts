// Generates docs/configuration.md from the schema's own descriptions and
// defaults, so the reference cannot drift from the code (a test compares).
import { z } from 'zod';
import { type AuthenticatorKinds, kindSpec } from './load.ts';
import { configSchema } from './schema.ts';

type Json = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Json>;
  items?: Json;
  anyOf?: Json[];
  oneOf?: Json[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
};

function typeOf(node: Json): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives) return alternatives.map(typeOf).join(' or ');
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.format === 'uri') return 'URL';
  return Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'value');
}

const isSecret = (node: Json): boolean =>
  (node.anyOf ?? node.oneOf)?.some((a) => a.properties && ('env' in a.properties || 'file' in a.properties)) ?? false;

function rows(node: Json, path: string, out: string[]): void {
  const alternatives = node.anyOf ?? node.oneOf;
  const objects = alternatives?.filter((a) => a.properties) ?? [];
  if (node.properties) {
    for (const [key, child] of Object.entries(node.properties)) {
      const childPath = path ? `${path}.${key}` : key;
      const def = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``;
      if (isSecret(child)) {
        out.push(`| \`${childPath}\` | secret | ${def} | ${child.description ?? ''} |`);
        continue;
      }
      const nested =
        child.properties || child.items?.properties || (child.anyOf ?? child.oneOf)?.some((a) => a.properties);
      out.push(`| \`${childPath}\` | ${nested ? 'see below' : typeOf(child)} | ${def} | ${child.description ?? ''} |`);
      if (child.properties || (child.anyOf ?? child.oneOf)?.some((a) => a.properties)) rows(child, childPath, out);
      if (child.items?.properties) rows(child.items, `${childPath}[]`, out);
    }
  }
  for (const alternative of objects) rows(alternative, path, out);
}

// `kinds`: each authenticator kind's options schema (src/auth/registry.ts),
// passed in because the configuration layer does not import backends.
export function configurationReference(kinds: AuthenticatorKinds = {}): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const out = [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    'The file is YAML, named by `PATRONYM_CONFIG` (default `config/demo.yaml`). `PORT` and `ISSUER` override their keys.',
    'A secret is a string, `{ env: NAME }` or `{ file: path }`. Relative paths are taken from the working directory.',
    'Each authenticator kind has its own keys besides `id` and `kind`: see the sections after the table.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema, '', out);
  for (const [name, options] of Object.entries(kinds)) {
    out.push('', `## Authenticator kind \`${name}\``, '', '| key | type | default | meaning |', '|---|---|---|---|');
    rows(z.toJSONSchema(kindSpec(options).options, { io: 'input', unrepresentable: 'any' }) as Json, '', out);
  }
  return `${out.join('\n')}\n`;
}
