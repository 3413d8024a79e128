// A private OpenLDAP server for tests and benchmarks: its own folder,
// slapd.conf, mdb database loaded offline with slapadd, password policy
// overlay, optional TLS with a CA generated on the spot, a free loopback
// port. Started and stopped by its pidfile; restart() (or stop() then
// start()) brings it back on the same port with the same data, as a
// sysadmin's restart would.
//
//   const ldap = await startSlapd({ generate: 1000 });   // ldap.url, ldap.baseDn, ldap.stop()
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTls } from './tls.ts';

const run = promisify(execFile);

const SEARCH_DIRS = [
  '/usr/sbin',
  '/usr/local/sbin',
  '/usr/bin',
  '/usr/local/bin',
  ...(process.env.PATH ?? '').split(':'),
];
const BINARIES = ['slapd', 'slapadd', 'ldapsearch', 'openssl'] as const;
type Binary = (typeof BINARIES)[number];

function find(binary: Binary): string | undefined {
  for (const dir of SEARCH_DIRS) {
    const path = join(dir, binary);
    if (dir !== '' && existsSync(path)) return path;
  }
  return undefined;
}

// The binaries the tests need that are not installed.
export function missingBinaries(): Binary[] {
  return BINARIES.filter((b) => find(b) === undefined);
}

// Whether the LDAP tests can run. Under CI a missing binary fails the run
// loudly; locally the tests skip with a warning naming what is missing.
export function slapdAvailable(): boolean {
  const missing = missingBinaries();
  if (missing.length === 0) return true;
  const message = `slapd tests need ${missing.join(', ')} (Debian: apt-get install slapd ldap-utils openssl)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must not pass by skipping`);
  console.warn(`\n!!! SKIPPING LDAP TESTS: ${message}\n`);
  return false;
}

const bin = (b: Binary): string => {
  const path = find(b);
  if (!path) throw new Error(`${b} not found`);
  return path;
};

export interface LdapPatron {
  uid: string; // the RDN value under ou=patrons, and usually the card
  pin: string;
  employeeNumber?: string; // a second card attribute (e.g. a replacement card)
  status?: 'active' | 'blocked'; // patronStatus
  expires?: string; // patronExpires, generalized time
  expiryDate?: string; // patronExpiryDate, YYYY-MM-DD
  locked?: boolean; // pwdAccountLockedTime = 000001010000Z (locked until unlocked)
  mail?: string;
  container?: string; // RDNs between the entry and ou=patrons, e.g. "ou=admins"
}

export interface SlapdOptions {
  patrons?: readonly LdapPatron[];
  // Adds n generated active patrons (see generatePatrons).
  generate?: number;
  tls?: boolean;
  // Whether ppolicy says "account locked" in its response control
  // (slapo-ppolicy `ppolicy_use_lockout`); default true. Without it, only
  // pwdAccountLockedTime tells.
  ppolicyUseLockout?: boolean;
}

export interface Slapd {
  url: string; // ldap://127.0.0.1:port (StartTLS available when tls)
  ldapsUrl?: string;
  port: number;
  tlsPort?: number;
  baseDn: string;
  patronsDn: string;
  rootDn: string;
  rootPassword: string;
  serviceDn: string;
  servicePassword: string;
  caFile?: string; // signed the server certificate
  wrongCaFile?: string; // did not
  dir: string;
  patrons: readonly LdapPatron[];
  running(): boolean;
  // A clean shutdown takes slapd a second or two; `crash` kills it at once
  // (the mdb database survives that, as it would a power cut).
  stop(options?: { crash?: boolean }): Promise<void>;
  start(): Promise<void>;
  restart(options?: { crash?: boolean }): Promise<void>;
  // Connections slapd has accepted since it started (back-monitor).
  connectionsTotal(): Promise<number>;
  // Operations of one kind slapd has started since it started, this
  // query's own bind included (back-monitor).
  operations(kind: 'Bind' | 'Search'): Promise<number>;
  // stop() and delete the folder.
  dispose(): Promise<void>;
}

export const BASE_DN = 'dc=library,dc=org';
export const PATRONS_DN = `ou=patrons,${BASE_DN}`;

// n active patrons with cards 29000000000000+i, PIN = last four digits.
export function generatePatrons(n: number, first = 0): LdapPatron[] {
  return Array.from({ length: n }, (_, i) => {
    const uid = String(29_000_000_000_000 + first + i);
    return { uid, pin: uid.slice(-4), employeeNumber: `G${first + i}` };
  });
}

// The fixture the LDAP tests share. Cards follow the demo library's.
export const FIXTURE_PATRONS: readonly LdapPatron[] = [
  { uid: '21234000000001', pin: '1234', employeeNumber: 'R1001', mail: 'ada@example.org' },
  { uid: '21234000000002', pin: '2345' },
  { uid: '21234000000003', pin: '3456', status: 'blocked' },
  { uid: '21234000000004', pin: '4567', expires: '20200101000000Z', expiryDate: '2020-01-01' },
  { uid: '21234000000005', pin: '5678', locked: true },
  { uid: '21234000000007', pin: '6789', expires: '20991231235959Z', expiryDate: '2099-12-31' },
  // One barcode on two entries: an ILS sync gone wrong.
  { uid: 'dup-a', pin: '1111', employeeNumber: '21234000000006' },
  { uid: 'dup-b', pin: '2222', employeeNumber: '21234000000006' },
  // Bait: an unescaped card "P10000*" would find exactly this entry.
  { uid: 'P100001', pin: '1111' },
  // Bait: an unescaped card "x,ou=admins" would name exactly this entry.
  { uid: 'x', pin: '1234', container: 'ou=admins' },
  // A card made of filter metacharacters, which escaping must find exactly.
  { uid: 'Q1*(x)', pin: '4321' },
];

function ssha(pin: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(pin, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

// Local patron attributes, as library directories have them, under the
// documentation enterprise number (RFC 5612).
const SCHEMA = `
attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'patronStatus' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'patronExpires' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.3 NAME 'patronExpiryDate' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'patronymPatron' SUP top AUXILIARY MAY ( patronStatus $ patronExpires $ patronExpiryDate ) )
`;

function ldif(patrons: readonly LdapPatron[], serviceDn: string, servicePassword: string): string {
  const out = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Library\ndc: library`,
    `dn: ${PATRONS_DN}\nobjectClass: organizationalUnit\nou: patrons`,
    `dn: ou=admins,${PATRONS_DN}\nobjectClass: organizationalUnit\nou: admins`,
    `dn: ou=services,${BASE_DN}\nobjectClass: organizationalUnit\nou: services`,
    `dn: ou=policies,${BASE_DN}\nobjectClass: organizationalUnit\nou: policies`,
    // No failure counting: the tests try wrong PINs on purpose.
    `dn: cn=default,ou=policies,${BASE_DN}\nobjectClass: pwdPolicy\nobjectClass: device\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\npwdMaxFailure: 0`,
    `dn: ${serviceDn}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: patronym\nuserPassword: ${ssha(servicePassword)}`,
  ];
  for (const p of patrons) {
    const lines = [
      `dn: uid=${p.uid},${p.container ? `${p.container},` : ''}${PATRONS_DN}`,
      'objectClass: inetOrgPerson',
      'objectClass: patronymPatron',
      `uid: ${p.uid}`,
      `cn: Patron ${p.uid}`,
      'sn: Patron',
      `userPassword: ${ssha(p.pin)}`,
    ];
    if (p.employeeNumber) lines.push(`employeeNumber: ${p.employeeNumber}`);
    if (p.status) lines.push(`patronStatus: ${p.status}`);
    if (p.expires) lines.push(`patronExpires: ${p.expires}`);
    if (p.expiryDate) lines.push(`patronExpiryDate: ${p.expiryDate}`);
    if (p.mail) lines.push(`mail: ${p.mail}`);
    if (p.locked) lines.push('pwdAccountLockedTime: 000001010000Z');
    out.push(lines.join('\n'));
  }
  return `${out.join('\n\n')}\n`;
}

function config(dir: string, serviceDn: string, tls: boolean, useLockout: boolean): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
${SCHEMA}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile ${join(dir, 'slapd.pid')}
argsfile ${join(dir, 'slapd.args')}
${tls ? `TLSCACertificateFile ${join(dir, 'ca.pem')}\nTLSCertificateFile ${join(dir, 'server.pem')}\nTLSCertificateKeyFile ${join(dir, 'server.key')}` : ''}

database mdb
suffix "${BASE_DN}"
rootdn "cn=admin,${BASE_DN}"
rootpw admin-secret
directory ${join(dir, 'db')}
maxsize 268435456
overlay ppolicy
ppolicy_default "cn=default,ou=policies,${BASE_DN}"
${useLockout ? 'ppolicy_use_lockout' : ''}
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="${serviceDn}" read by self read by * none

database monitor
access to * by dn.exact="cn=admin,${BASE_DN}" read by * none
`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    // A daemon is reparented to PID 1, which in a container may be slow to
    // reap it: a zombie has stopped serving, so it counts as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
  } catch {
    // no /proc (not Linux), or already gone: ask the kernel below
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Every slapd this process started, killed if the test process exits
// without stopping them (a failing hook, an aborted run).
const started = new Set<number>();
process.once('exit', () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-slapd-'));
  mkdirSync(join(dir, 'db'));
  const serviceDn = `cn=patronym,ou=services,${BASE_DN}`;
  const servicePassword = randomBytes(9).toString('base64url');
  const patrons = [...(options.patrons ?? []), ...generatePatrons(options.generate ?? 0)];
  const tls = options.tls === true;
  if (tls) makeTls(dir);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, config(dir, serviceDn, tls, options.ppolicyUseLockout !== false));
  writeFileSync(join(dir, 'patrons.ldif'), ldif(patrons, serviceDn, servicePassword));
  // -q: quick mode, the fixture is known to be consistent.
  await run(bin('slapadd'), ['-q', '-f', conf, '-l', join(dir, 'patrons.ldif')]);

  const port = await freePort();
  const tlsPort = tls ? await freePort() : undefined;
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = tlsPort === undefined ? undefined : `ldaps://127.0.0.1:${tlsPort}`;
  const pidFile = join(dir, 'slapd.pid');
  let pid: number | undefined;

  const ready = async (): Promise<boolean> => {
    try {
      await run(bin('ldapsearch'), ['-x', '-H', url, '-s', 'base', '-b', '', '-LLL', 'namingContexts'], {
        timeout: 2000,
      });
      return true;
    } catch {
      return false;
    }
  };

  const start = async (): Promise<void> => {
    const listen = [url, ldapsUrl].filter((u) => u !== undefined).join(' ');
    // slapd forks into the background once its listeners are bound.
    await run(bin('slapd'), ['-h', listen, '-f', conf]);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (existsSync(pidFile) && (await ready())) {
        pid = Number(readFileSync(pidFile, 'utf8').trim());
        started.add(pid);
        return;
      }
      await sleep(50);
    }
    throw new Error(`slapd did not answer on ${url} within 10 s (see ${dir})`);
  };

  const stop = async (options: { crash?: boolean } = {}): Promise<void> => {
    const current = pid ?? (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined);
    pid = undefined;
    if (current === undefined || !alive(current)) return;
    process.kill(current, options.crash ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (alive(current) && Date.now() < deadline) await sleep(20);
    if (alive(current)) process.kill(current, 'SIGKILL');
    while (alive(current)) await sleep(5);
    started.delete(current);
    // A killed slapd leaves its pidfile; start() must not read the old pid.
    rmSync(pidFile, { force: true });
  };

  const monitor = async (dn: string, attribute: string): Promise<number> => {
    const { stdout } = await run(bin('ldapsearch'), [
      '-x',
      '-H',
      url,
      '-D',
      `cn=admin,${BASE_DN}`,
      '-w',
      'admin-secret',
      '-b',
      dn,
      '-s',
      'base',
      '-LLL',
      attribute,
    ]);
    const m = new RegExp(`${attribute}: (\\d+)`).exec(stdout);
    if (!m) throw new Error(`slapd monitor: no ${attribute} in ${dn}`);
    return Number(m[1]);
  };

  await start();
  const slapd: Slapd = {
    url,
    port,
    baseDn: BASE_DN,
    patronsDn: PATRONS_DN,
    rootDn: `cn=admin,${BASE_DN}`,
    rootPassword: 'admin-secret',
    serviceDn,
    servicePassword,
    dir,
    patrons,
    running: () => pid !== undefined && alive(pid),
    start,
    stop,
    async restart(options) {
      await stop(options);
      await start();
    },
    connectionsTotal: () => monitor('cn=Total,cn=Connections,cn=Monitor', 'monitorCounter'),
    operations: (kind) => monitor(`cn=${kind},cn=Operations,cn=Monitor`, 'monitorOpInitiated'),
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (ldapsUrl !== undefined) slapd.ldapsUrl = ldapsUrl;
  if (tlsPort !== undefined) slapd.tlsPort = tlsPort;
  if (tls) {
    slapd.caFile = join(dir, 'ca.pem');
    slapd.wrongCaFile = join(dir, 'wrong-ca.pem');
  }
  return slapd;
}
