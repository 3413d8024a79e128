import { z } from 'zod';

export const fileOptionsSchema = z.strictObject({
  path: z.string().min(1).describe('the patron file (YAML); relative paths from the working directory'),
});
export type FileOptions = z.infer<typeof fileOptionsSchema>;
