// RFC 4511 section 4.1.9 result codes a sysadmin may meet here, by name.
const NAMES: Readonly<Record<number, string>> = {
  1: 'operations error',
  3: 'time limit exceeded',
  4: 'size limit exceeded',
  10: 'referral',
  32: 'no such object',
  34: 'invalid DN syntax',
  48: 'inappropriate authentication',
  49: 'invalid credentials',
  50: 'insufficient access rights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwilling to perform',
  80: 'other',
};

export const NO_SUCH_OBJECT = 32;
export const INVALID_DN_SYNTAX = 34;
export const INVALID_CREDENTIALS = 49;

export const resultName = (code: number): string => `${NAMES[code] ?? 'result'} (${code})`;
