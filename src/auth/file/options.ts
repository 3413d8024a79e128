import { z } from 'zod';
import type { ResourceContext } from '../../config/resources.ts';
import { describeError } from '../../errors.ts';
import { readPatronFile } from './patron-file.ts';

export const fileOptionsSchema = z.strictObject({
  path: z.string().min(1).describe('the patron file (YAML); relative paths from the working directory'),
});
export type FileOptions = z.infer<typeof fileOptionsSchema>;

// Read once at load time (src/config/resources.ts), so a missing or broken
// patron file is reported with every other problem; the authenticator
// reads it again (and whenever it changes) itself.
export function fileResources(o: FileOptions, context: ResourceContext): FileOptions {
  if (!context.files) return o;
  if (context.file(o.path, ['path'], 'a patron file (`patronym patrons add --file` creates one)') === undefined)
    return o;
  try {
    readPatronFile(o.path);
  } catch (error) {
    // The message names the entry, never a card (see patron-file.ts).
    context.problem(['path'], `${describeError(error)}; expected a patron file written by \`patronym patrons\``);
  }
  return o;
}
