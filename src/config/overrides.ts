// `PORT`, `ISSUER` and `PATRONYM_STORE_URL` replace their keys from the
// file. A wrong value in the file is still reported: it would be used the
// day the variable is missing (another shell, a unit without it), and the
// sysadmin reading the file believes it is in force.
import { z } from 'zod';
import { zodProblems } from './problems.ts';
import { configSchema, storeSchema } from './schema.ts';

const OVERRIDES: ReadonlyArray<{ variable: string; key: string; schema: z.ZodType }> = [
  { variable: 'PORT', key: 'port', schema: configSchema.shape.port },
  { variable: 'ISSUER', key: 'issuer', schema: configSchema.shape.issuer },
  { variable: 'PATRONYM_STORE_URL', key: 'store', schema: storeSchema },
];

export function overrideProblems(input: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const { variable, key, schema } of OVERRIDES) {
    if (env[variable] === undefined || env[variable] === '' || input[key] === undefined) continue;
    const result = z.object({ [key]: schema }).safeParse({ [key]: input[key] }, { reportInput: true });
    if (result.success) continue;
    for (const problem of zodProblems(result.error, [], z.object({ [key]: schema })))
      problems.push(`${problem} (hidden by ${variable} in the environment, used whenever it is unset)`);
  }
  return problems;
}
