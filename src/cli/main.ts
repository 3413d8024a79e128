#!/usr/bin/env node
// `patronym`: parse and dispatch only; each command lives in commands/.
import { Command, Option } from 'commander';
import { ConfigError } from '../config/load.ts';
import { describeError } from '../errors.ts';

// Commands are loaded when run: `patronym demo init` (before every
// `npm start`) should not pay for loading oidc-provider and every backend.
const clientsCommands = () => import('./commands/clients.ts');
const keysCommands = () => import('./commands/keys.ts');
const patronsCommands = () => import('./commands/patrons.ts');

const program = new Command('patronym')
  .description(
    'Patronym: library card + PIN in, a pairwise pseudonym out.\nThe configuration file is $PATRONYM_CONFIG (default config/demo.yaml).',
  )
  .showHelpAfterError();

program
  .command('serve')
  .description('start the broker (what `npm start` runs); SIGHUP reloads the configuration, SIGTERM stops')
  .action(async () => {
    await import('../main.ts');
  });

const demo = program.command('demo').description('the demo installation');
demo
  .command('vendor')
  .description('run the demo vendor site (DEMO_CLIENT: demo-vendor, demo-vendor-2 or demo-app)')
  .action(async () => {
    // Not a module of the product (and outside the build's rootDir): named
    // by URL so the compiler leaves it to run time.
    await import(new URL('../../examples/demo-vendor.ts', import.meta.url).href);
  });
demo
  .command('init')
  .description('write the demo patron file (data/demo-patrons.yaml) if it is missing')
  .action(async () => {
    if (process.env.PATRONYM_CONFIG) return; // not the demo
    const { loadConfig } = await import('./context.ts');
    const { writeDemoPatrons } = await import('./commands/demo.ts');
    const { loadKeys } = await import('../security/keys.ts');
    const { missingKeyFiles, newKeysNotice } = await import('../first-start.ts');
    // `npm start` runs this first, and it is this step that creates the keys
    // (the demo patron file is hashed with the pepper): it says so, loudly.
    const config = loadConfig();
    const missing = missingKeyFiles(config.keys.dir);
    const keys = await loadKeys(config.keys.dir, config.keys);
    const notice = newKeysNotice(config.keys.dir, missing);
    if (notice) process.stderr.write(`${notice}\n`);
    if (await writeDemoPatrons('data/demo-patrons.yaml', keys.pinPepper)) {
      process.stdout.write('patronym: wrote the demo patron file data/demo-patrons.yaml\n');
    }
  });

const patrons = program.command('patrons').description("a `file` authenticator's patron file");
patrons
  .command('hash-pin')
  .description('read a PIN (without echo) and print its hash for a patron file')
  .action(async () => (await patronsCommands()).hashPinCommand());
const FILE_HELP = 'the patron file; default: the one the configuration names';
patrons
  .command('add <card>')
  .description('add a patron; the PIN is asked for without echo')
  .option('--file <path>', FILE_HELP)
  .requiredOption('--id <id>', "the patron's permanent id (kept when the card is replaced)")
  .addOption(new Option('--status <status>', 'status').choices(['active', 'blocked', 'expired']).default('active'))
  .option('--expires <date>', 'expiry date, YYYY-MM-DD')
  .action(async (card, options) => (await patronsCommands()).addPatronCommand(card, options));
patrons
  .command('list')
  .description('id, card, status and expiry of every patron (never a PIN)')
  .option('--file <path>', FILE_HELP)
  .action(async (options) => (await patronsCommands()).listPatronsCommand(options));
patrons
  .command('remove <card>')
  .description('remove the patron with this card')
  .option('--file <path>', FILE_HELP)
  .action(async (card, options) => (await patronsCommands()).removePatronCommand(card, options));
patrons
  .command('set-pin <card>')
  .description('give the patron with this card a new PIN, asked for without echo')
  .option('--file <path>', FILE_HELP)
  .action(async (card, options) => (await patronsCommands()).setPinCommand(card, options));
patrons
  .command('block <card>')
  .description('block the patron with this card (the sign-in is refused as blocked)')
  .option('--file <path>', FILE_HELP)
  .action(async (card, options) => (await patronsCommands()).setStatusCommand(card, 'blocked', options));
patrons
  .command('unblock <card>')
  .description('make the patron with this card active again')
  .option('--file <path>', FILE_HELP)
  .action(async (card, options) => (await patronsCommands()).setStatusCommand(card, 'active', options));

const clients = program.command('clients').description('vendors (OIDC clients) registered in the store');
clients
  .command('list')
  .description('every vendor, configured and registered, with its release policy')
  .action(async () => (await clientsCommands()).listClients());
clients
  .command('show <id>')
  .description('one vendor’s metadata and policy (never its secret)')
  .action(async (id: string) => (await clientsCommands()).showClient(id));
// Every field the vendor guide (docs/vendors.md) asks a vendor to send.
const vendorFields = (command: Command): Command =>
  command
    .option('--post-logout-redirect-uri <uri...>', 'where RP-initiated logout may return (exact)')
    .option('--backchannel-logout-uri <uri>', 'where the broker posts logout tokens (OIDC Back-Channel Logout)')
    .addOption(new Option('--logout-uri <uri>', 'the same as --backchannel-logout-uri').hideHelp())
    .option('--backchannel-logout-session-required', 'include `sid` in its logout tokens')
    .option('--policy-uri <uri>', 'its privacy policy, linked for patrons')
    .option('--tos-uri <uri>', 'its terms of service')
    .option('--logo-uri <uri>', 'its logo')
    .option('--sector-identifier-uri <uri>', 'needed when its redirect URIs span several hosts (OIDC Core 8.1)')
    .addOption(new Option('--id-token-alg <alg>', 'ID token signature').choices(['RS256', 'ES256']));
vendorFields(
  clients
    .command('add')
    .description('register a vendor; its secret is printed once')
    .requiredOption('--name <name>', 'the vendor’s name, shown to patrons')
    .requiredOption('--redirect-uri <uri...>', 'redirect URIs (exact)')
    .option('--public', 'a public client (single-page or mobile app: PKCE, no secret)')
    .option('--policy <releases>', 'library,affiliation,entitlement or none', 'none')
    .option('--walk-in', 'allow walk-in access'),
).action(async (options) => (await clientsCommands()).addClient(options));
vendorFields(
  clients
    .command('update <id>')
    .description('change a registered vendor: only the fields given (its secret stays)')
    .option('--name <name>', 'the vendor’s name, shown to patrons')
    .option('--redirect-uri <uri...>', 'redirect URIs (exact), replacing the old ones')
    .option('--policy <releases>', 'library,affiliation,entitlement or none')
    .option('--walk-in', 'allow walk-in access')
    .option('--no-walk-in', 'no walk-in access'),
).action(async (id: string, options) => (await clientsCommands()).updateClient(id, options));
clients
  .command('approve <id>')
  .description('let a vendor that registered itself sign patrons in and appear on /vendors')
  .action(async (id: string) => (await clientsCommands()).approveClient(id));
clients
  .command('remove <id>')
  .description('remove a registered vendor')
  .action(async (id: string) => (await clientsCommands()).removeClient(id));
clients
  .command('policy <id> <releases>')
  .description('what a registered vendor may receive: library,affiliation,entitlement or none')
  .option('--walk-in', 'allow walk-in access')
  .action(async (id: string, releases: string, options) => (await clientsCommands()).setPolicy(id, releases, options));
clients
  .command('token')
  .description('issue an initial access token for self-registration at /reg (one registration unless --uses)')
  .option('--expires <duration>', 'how long it is valid (e.g. 7d)', '7d')
  .option('--uses <n>', 'how many registrations it allows', '1')
  .action(async (options) => (await clientsCommands()).issueToken(options));

const keys = program.command('keys').description('signing and cookie keys (never the pseudonym keys)');
keys
  .command('rotate')
  .description('add new signing keys, used after the next reload (kill -HUP); old ones keep verifying')
  .option('--cookies', 'rotate the cookie keys instead of the signing keys')
  .action(async (options) => (await keysCommands()).rotateCommand(options));
keys
  .command('retire')
  .description('remove signing keys that stopped signing more than --grace ago')
  .option('--grace <duration>', 'how long retired keys stay published (e.g. 24h)', '24h')
  .option('--cookies', 'also drop every cookie key but the newest')
  .action(async (options) => (await keysCommands()).retireCommand(options));

const store = program.command('store').description('the store: where sessions, grants and patrons’ records live');
store
  .command('copy')
  .description('copy every live record into another store, e.g. from SQLite to PostgreSQL (stop the brokers first)')
  .requiredOption('--from <location>', 'sqlite:<path> or postgres://user@host:port/database')
  .requiredOption('--to <location>', 'the same forms; a password comes from PGPASSWORD')
  .option('--force', 'write into a target that already holds records')
  .action(async (options: { from: string; to: string; force?: boolean }) =>
    (await import('./commands/store.ts')).copyStoreCommand(options),
  );

program
  .command('purge')
  .description('delete every expired record now and print how many of each kind')
  .action(async () => (await import('./commands/purge.ts')).purgeCommand());

program
  .command('check')
  .description(
    "check every library's backends answer; with --card, the outcome a sign-in would get (exit 1: a backend failed, 2: the card would be refused)",
  )
  .option('--library <id>', 'only this library')
  .option('--card <card>', 'also try this card (the PIN is asked for without echo)')
  .action(async (options: { library?: string; card?: string }) => {
    process.exitCode = await (await import('./commands/check.ts')).checkCommand(options);
  });

const stats = program
  .command('stats')
  .description('the library’s usage statistics: sign-ins and distinct patrons, no patron named');
stats
  .command('report', { isDefault: true })
  .description('sign-ins and estimated distinct patrons per library, vendor and period (COUNTER-like)')
  .option('--since <period>', 'first month (YYYY-MM) or day (YYYY-MM-DD); default: twelve months ago')
  .option('--until <period>', 'last month or day; default: now')
  .addOption(new Option('--granularity <g>', 'rows per').choices(['month', 'day']).default('month'))
  .addOption(new Option('--format <format>', 'output').choices(['csv', 'json']).default('csv'))
  .option('--library <id>', 'only this library')
  .action(async (options) => (await import('./commands/stats.ts')).statsCommand(options));
stats
  .command('hash-password')
  .description('read a password for /stats (without echo) and print the hash for stats.page.passwordHash')
  .action(async () => (await import('./commands/stats.ts')).hashPasswordCommand());

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`patronym: ${error instanceof ConfigError ? error.message : describeError(error)}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1); // EX_CONFIG, as the broker
});
