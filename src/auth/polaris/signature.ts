// PAPI's request signature (Polaris API Service: "Building the
// Authorization Hash Signature"): HMAC-SHA1 with the access key over
// METHOD + the full request URI + the PolarisDate header, base64, sent as
// `Authorization: PWS {AccessID}:{signature}`. The date is an HTTP date
// (RFC 1123), which PAPI compares with its own clock.
import { createHmac } from 'node:crypto';

export function papiSignature(accessKey: string, method: string, uri: string, date: string): string {
  return createHmac('sha1', accessKey).update(`${method}${uri}${date}`, 'utf8').digest('base64');
}

export function papiHeaders(
  accessId: string,
  accessKey: string,
  method: string,
  uri: string,
  now: number,
): Record<string, string> {
  const date = new Date(now).toUTCString();
  return { polarisdate: date, authorization: `PWS ${accessId}:${papiSignature(accessKey, method, uri, date)}` };
}

// PAPI's JSON dates: ISO 8601, or WCF's "/Date(1271646000000-0400)/".
export function papiDay(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const wcf = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(value);
  if (wcf) return new Date(Number(wcf[1])).toISOString().slice(0, 10);
  return /^(\d{4}-\d{2}-\d{2})/.exec(value)?.[1];
}
