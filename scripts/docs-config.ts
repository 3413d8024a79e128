import { writeFileSync } from 'node:fs';
import { configurationReference } from '../src/config/reference.ts';

writeFileSync('docs/configuration.md', configurationReference());
process.stdout.write('wrote docs/configuration.md\n');
