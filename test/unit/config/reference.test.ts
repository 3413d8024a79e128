import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { authenticatorKinds } from '../../../src/auth/registry.ts';
import { configurationReference } from '../../../src/config/reference.ts';

it('docs/configuration.md is generated from the schema and up to date (npm run docs:config)', () => {
  const reference = configurationReference(authenticatorKinds);
  expect(reference).toContain('## Authenticator kind `file`');
  expect(reference).toContain('## Authenticator kind `ldap`');
  expect(reference).toContain('| `ttl.account` | integer | `15552000` |');
  expect(reference).toContain('| `clients[].client_secret` | secret |');
  expect(readFileSync('docs/configuration.md', 'utf8')).toBe(reference);
});
