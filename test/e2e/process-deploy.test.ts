// Issue 15: the deployment files (deploy/) cannot be run here (no container
// engine, no systemd as PID 1, no nginx), so they are parsed: the unit by
// systemd-analyze, the compose file and both configurations by the YAML
// parser and Patronym's own loader, the Dockerfile by a small instruction
// parser, the nginx example for the headers the broker believes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { authenticatorKinds } from '../../src/auth/registry.ts';
import { loadConfigFile } from '../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'patronym-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const read = (name: string) => readFileSync(join('deploy', name), 'utf8');

describe('deploy/patronym.service', () => {
  const unit = read('patronym.service');
  const directives = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) directives.set(m[1] as string, [...(directives.get(m[1] as string) ?? []), m[2] as string]);
  }
  const one = (key: string) => directives.get(key)?.[0];

  it('is accepted by systemd-analyze verify, without a warning', async (context) => {
    if (!existsSync('/usr/bin/systemd-analyze')) {
      if (process.env.CI === 'true') throw new Error('CI needs systemd-analyze (Debian package systemd)');
      console.warn('skipped: no systemd-analyze (apt install systemd)');
      context.skip();
    }
    // Outside /etc/systemd: verify takes a unit file anywhere, named *.service.
    const copy = join(dir, 'patronym.service');
    writeFileSync(copy, unit);
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile('/usr/bin/systemd-analyze', ['verify', copy], (error, _out, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      ),
    );
    expect(stderr.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('starts the broker itself (not npm), reloads with SIGHUP to it, and is hardened', () => {
    expect(one('ExecStart')).toBe('/usr/bin/node bin/patronym.mjs serve');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('StateDirectory')).toBe('patronym');
    expect(one('RestartPreventExitStatus')).toBe('78');
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
    ])
      expect(one(key as string), key).toBe(value);
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false); // V8's JIT
    expect(one('User')).not.toBe('root');
  });

  it('comes with a configuration the loader accepts, keeping state in the StateDirectory', () => {
    const config = loadConfigFile('deploy/patronym.yaml', {
      kinds: authenticatorKinds,
      env: { LDAP_SERVICE_PASSWORD: 'x' },
      files: false,
    });
    expect(config.host).toBe('127.0.0.1');
    expect(config.trustedProxies).toContain('127.0.0.1/32');
    expect(config.store).toEqual({ kind: 'sqlite', path: '/var/lib/patronym/patronym.sqlite' });
    expect(config.keys.dir).toBe('/var/lib/patronym/keys');
  });
});

describe('deploy/nginx.conf', () => {
  const conf = read('nginx.conf').replace(/#.*$/gm, '');

  it('balances its braces and ends each directive', () => {
    let depth = 0;
    for (const c of conf) {
      depth += c === '{' ? 1 : c === '}' ? -1 : 0;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    const statements = conf
      .split(/[{}]/)
      .flatMap((block) => block.split(';'))
      .map((s) => s.trim())
      .filter(Boolean);
    // What is left after the last `;` of a block is a block header (server, location …).
    for (const s of statements.filter((t) => !/^(upstream|server|location)\b/.test(t)))
      expect(s, s).toMatch(/^[a-z_0-9]+(\s|$)/);
  });

  it('terminates TLS and sets the forwarded headers the broker believes from trustedProxies', () => {
    expect(conf).toMatch(/listen 443 ssl;/);
    expect(conf).toMatch(/ssl_certificate\s+\S+;/);
    expect(conf).toMatch(/proxy_pass http:\/\/patronym;/);
    expect(conf).toMatch(/server 127\.0\.0\.1:3000;/);
    expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(conf).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
  });

  it('closes its idle connections to the broker before the broker would (no 502 on a reused one)', () => {
    const upstream = /upstream patronym \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(upstream).toMatch(/keepalive \d+;/);
    const idle = Number(/keepalive_timeout (\d+)s;/.exec(upstream)?.[1]);
    // The broker's, as the deployment's own configuration sets it.
    const broker = loadConfigFile('deploy/patronym.yaml', {
      kinds: authenticatorKinds,
      env: { LDAP_SERVICE_PASSWORD: 'x' },
      files: false,
    }).keepAliveTimeout;
    expect(idle).toBeGreaterThan(0);
    expect(idle).toBeLessThan(broker);
  });
});

describe('deploy/Dockerfile', () => {
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([A-Z]+)\s+(.*)$/.exec(l);
      return { name: m?.[1] ?? l, args: m?.[2] ?? '' };
    });
  const KNOWN = new Set(
    'FROM RUN CMD LABEL EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL'.split(
      ' ',
    ),
  );

  it('parses: known instructions, FROM first, JSON-array CMD, files that exist', () => {
    for (const i of instructions) expect(KNOWN.has(i.name), i.name).toBe(true);
    expect(instructions[0]?.name).toBe('FROM');
    expect(instructions[0]?.args).toMatch(/^node:22\S*/);
    const cmd = instructions.find((i) => i.name === 'CMD');
    expect(JSON.parse(cmd?.args ?? '')).toEqual(['node', 'bin/patronym.mjs', 'serve']);
    const health = instructions.find((i) => i.name === 'HEALTHCHECK')?.args ?? '';
    expect(JSON.parse(health.slice(health.indexOf('CMD ') + 4))[0]).toBe('node');
    for (const copy of instructions.filter((i) => i.name === 'COPY')) {
      const parts = copy.args.split(/\s+/);
      for (const source of parts.slice(0, -1)) expect(existsSync(source), source).toBe(true);
    }
  });

  it('holds the broker’s memory as the systemd unit does (the same heap limit, two malloc arenas)', () => {
    const env = instructions
      .filter((i) => i.name === 'ENV')
      .map((i) => i.args)
      .join(' ');
    const unit = read('patronym.service');
    const heap = /NODE_OPTIONS=(--max-old-space-size=\d+)/.exec(unit)?.[1];
    expect(heap).toBeDefined();
    expect(env).toContain(`NODE_OPTIONS=${heap}`);
    expect(unit).toMatch(/^Environment=MALLOC_ARENA_MAX=2$/m);
    expect(env).toContain('MALLOC_ARENA_MAX=2');
  });

  it('sets a heap limit Node takes from NODE_OPTIONS (it refuses most V8 flags there)', async () => {
    const heap = /NODE_OPTIONS=(--max-old-space-size=(\d+))/.exec(read('patronym.service'));
    const limitMiB = (nodeOptions?: string) =>
      new Promise<number>((resolve, reject) => {
        const env = { ...process.env };
        delete env.NODE_OPTIONS;
        if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
        execFile(
          process.execPath,
          ['-e', "process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20))"],
          { env },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(Number(stdout)),
        );
      });
    const limited = await limitMiB(heap?.[1]);
    // Old space as set, plus the young generation.
    expect(limited).toBeGreaterThanOrEqual(Number(heap?.[2]));
    expect(limited).toBeLessThan(Number(heap?.[2]) + 100);
    expect(await limitMiB()).toBeGreaterThan(limited);
  }, 30_000);

  it('installs from the lock file without dev tools and runs unprivileged', () => {
    const runs = instructions.filter((i) => i.name === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('npm ci --omit=dev'))).toBe(true);
    expect(runs.some((r) => /npm install\b/.test(r))).toBe(false);
    expect(instructions.find((i) => i.name === 'USER')?.args).toBe('node');
    expect(instructions.find((i) => i.name === 'EXPOSE')?.args).toBe('3000');
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as {
    services: Record<string, Record<string, unknown>>;
    secrets: Record<string, { file: string }>;
  };

  it('runs the broker on PostgreSQL once the database is healthy, with the password as a secret', () => {
    const { db, patronym } = compose.services as Record<string, Record<string, unknown>>;
    expect(String(db?.image)).toMatch(/^postgres:1[5-9]/);
    expect(db?.healthcheck).toBeDefined();
    expect(patronym?.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect((patronym?.build as { dockerfile?: string } | undefined)?.dockerfile).toBe('deploy/Dockerfile');
    const env = (patronym?.environment ?? {}) as Record<string, string>;
    expect(env.PATRONYM_STORE_URL).toMatch(/^postgres:\/\/patronym@db:5432\/patronym$/);
    expect(JSON.stringify(compose)).not.toMatch(/POSTGRES_PASSWORD:/);
    expect(patronym?.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('mounts a configuration the loader accepts with the compose environment', () => {
    const secret = join(dir, 'db_password');
    writeFileSync(secret, 'p\n');
    const text = read('patronym-compose.yaml').replace('/run/secrets/db_password', secret);
    const file = join(dir, 'patronym-compose.yaml');
    writeFileSync(file, text);
    const env = (compose.services.patronym?.environment ?? {}) as Record<string, string>;
    const config = loadConfigFile(file, { kinds: authenticatorKinds, env, files: false });
    expect(config.store).toMatchObject({ kind: 'postgres', url: env.PATRONYM_STORE_URL, password: 'p' });
    const volumes = compose.services.patronym?.volumes as string[];
    expect(volumes).toContain('./patronym-compose.yaml:/etc/patronym/patronym.yaml:ro');
    expect(existsSync('deploy/patronym-compose.yaml')).toBe(true);
  });
});
