// The sysadmins' password for /stats, stored as a scrypt hash in the
// configuration. The patron file's format (auth/file/pin-hash.ts) without
// its pepper: the pepper protects 4-digit PINs, a sysadmin's password
// carries its own strength, and the hash then works on every instance
// whatever its keys.
import { hashPin, verifyPin } from '../auth/file/pin-hash.ts';

const NO_PEPPER = Buffer.alloc(0);
export const MIN_PASSWORD_LENGTH = 12;

export const hashStatsPassword = (password: string): Promise<string> => hashPin(NO_PEPPER, password);
export const verifyStatsPassword = (password: string, hash: string): Promise<boolean> =>
  verifyPin(NO_PEPPER, password, hash);
