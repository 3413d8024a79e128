import { writeFileSync } from 'node:fs';
import { authenticatorKinds } from '../src/auth/registry.ts';
import { configurationReference } from '../src/config/reference.ts';

writeFileSync('docs/configuration.md', configurationReference(authenticatorKinds));
process.stdout.write('wrote docs/configuration.md\n');
