// A private Apache httpd with mod_auth_openidc (Debian's `apache2` and
// `libapache2-mod-auth-openidc`) on a loopback port, as a vendor would run
// it: its own ServerRoot, pid file, logs and mutexes in a temporary folder,
// only the modules a protected page needs. Locally a missing package skips
// the tests loudly; under CI=true it fails the run.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const APACHE = process.env.APACHE_PATH ?? '/usr/sbin/apache2';
export const APACHE_MODULES = process.env.APACHE_MODULES ?? '/usr/lib/apache2/modules';

// mpm_event to serve, authn/authz for `Require valid-user`, mime + include
// + dir for a server-side-include page that echoes what the module passes.
const MODULES = {
  mpm_event_module: 'mod_mpm_event.so',
  authn_core_module: 'mod_authn_core.so',
  authz_core_module: 'mod_authz_core.so',
  authz_user_module: 'mod_authz_user.so',
  mime_module: 'mod_mime.so',
  dir_module: 'mod_dir.so',
  include_module: 'mod_include.so',
  auth_openidc_module: 'mod_auth_openidc.so',
} as const;

export function apacheAvailable(): boolean {
  const missing: string[] = [];
  if (!existsSync(APACHE)) missing.push(`${APACHE} (apt-get install apache2)`);
  for (const file of Object.values(MODULES)) {
    const path = join(APACHE_MODULES, file);
    if (!existsSync(path)) {
      const pkg = file === 'mod_auth_openidc.so' ? 'libapache2-mod-auth-openidc' : 'apache2';
      missing.push(`${path} (apt-get install ${pkg})`);
    }
  }
  if (missing.length === 0) return true;
  const what = missing.join(', ');
  if (process.env.CI === 'true') throw new Error(`mod_auth_openidc tests: missing ${what}; CI must not skip`);
  console.warn(`\n*** mod_auth_openidc tests SKIPPED: missing ${what} ***\n`);
  return false;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ApacheOptions {
  port: number;
  // Directives for the server (the vendor's own configuration); given the
  // server's folder when they name files in it.
  site: string | ((dir: string) => string);
  // Files under the document root: relative path → content.
  files?: Record<string, string>;
}

export interface RunningApache {
  origin: string;
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

function serverConfig(dir: string, port: number, site: string): string {
  const modules = Object.entries(MODULES)
    .map(([name, file]) => `LoadModule ${name} ${join(APACHE_MODULES, file)}`)
    .join('\n');
  // Started as root (CI, containers), httpd's workers must drop to an
  // unprivileged user; it refuses to serve as root.
  const user = process.getuid?.() === 0 ? 'User www-data\nGroup www-data\n' : '';
  return `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${dir}/run/httpd.pid"
DefaultRuntimeDir "${dir}/run"
Mutex file:${dir}/run default
ErrorLog "${dir}/logs/error.log"
LogLevel warn auth_openidc:info
LogFormat "%h \\"%r\\" %>s" short
CustomLog "${dir}/logs/access.log" short
${modules}
${user}StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
TypesConfig "${dir}/mime.types"
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
DirectoryIndex index.shtml index.html
DocumentRoot "${dir}/htdocs"
<Directory "${dir}/htdocs">
  Options +Includes
  Require all granted
</Directory>

${site}
`;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startApache(options: ApacheOptions): Promise<RunningApache> {
  const dir = mkdtempSync(join(tmpdir(), 'patronym-apache-'));
  for (const sub of ['htdocs', 'logs', 'run']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'mime.types'), '');
  for (const [path, content] of Object.entries(options.files ?? {})) {
    const file = join(dir, 'htdocs', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  // The workers (www-data when started as root) read the document root and
  // use the module's cache mutex under run/.
  chmodSync(dir, 0o755);
  const conf = join(dir, 'httpd.conf');
  const site = typeof options.site === 'function' ? options.site(dir) : options.site;
  writeFileSync(conf, serverConfig(dir, options.port, site));
  const errorLog = () => {
    const path = join(dir, 'logs', 'error.log');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };

  let output = '';
  const child: ChildProcess = spawn(APACHE, ['-d', dir, '-f', conf, '-DFOREGROUND'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
  });
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const deadline = Date.now() + 15_000;
  while (!(await listening(options.port))) {
    if (done || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = errorLog();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`apache: did not start on port ${options.port}\n${output}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    origin: `http://127.0.0.1:${options.port}`,
    dir,
    errorLog,
    async stop() {
      if (!done) {
        // SIGTERM: the parent stops its workers and removes its pid file.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
