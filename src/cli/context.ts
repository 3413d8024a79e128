// What most commands need: the configuration file and the keys it names.
import { authenticatorKinds } from '../auth/registry.ts';
import { type Config, loadConfigFile } from '../config/load.ts';
import { type Keys, loadKeys } from '../security/keys.ts';

export const configPath = (): string => process.env.PATRONYM_CONFIG ?? 'config/demo.yaml';

export function loadConfig(): Config {
  return loadConfigFile(configPath(), { kinds: authenticatorKinds });
}

export async function loadConfigAndKeys(): Promise<{ config: Config; keys: Keys }> {
  const config = loadConfig();
  return { config, keys: await loadKeys(config.keys.dir, config.keys) };
}
