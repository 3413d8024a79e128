// What most commands need: the configuration file and the keys it names.
import { authenticatorKinds } from '../auth/registry.ts';
import type { Config } from '../config/config.ts';
import { loadConfigFile } from '../config/load.ts';
import { type Keys, loadKeys } from '../security/keys.ts';

const configPath = (): string => process.env.PATRONYM_CONFIG ?? 'config/demo.yaml';

// `files`: also read the files the configuration names (patron files,
// certificates, logos). Off for commands that do not use them (a missing
// patron file must not stop `clients add`) or create them (`patrons add`,
// `demo init`); on for `check` and the broker itself.
export function loadConfig(files = false): Config {
  return loadConfigFile(configPath(), { kinds: authenticatorKinds, files });
}

export async function loadConfigAndKeys(files = false): Promise<{ config: Config; keys: Keys }> {
  const config = loadConfig(files);
  return { config, keys: await loadKeys(config.keys.dir, config.keys) };
}
