#!/usr/bin/env node
// `patronym`: parse and dispatch only; each command lives in commands/.
import { Command, Option } from 'commander';
import { ConfigError } from '../config/load.ts';
import { describeError } from '../errors.ts';
import { checkCommand } from './commands/check.ts';
import { addClient, issueToken, listClients, removeClient, setPolicy, showClient } from './commands/clients.ts';
import { writeDemoPatrons } from './commands/demo.ts';
import { retireCommand, rotateCommand } from './commands/keys.ts';
import { addPatronCommand, hashPinCommand } from './commands/patrons.ts';
import { purgeCommand } from './commands/purge.ts';
import { loadConfigAndKeys } from './context.ts';

const program = new Command('patronym')
  .description(
    'Patronym: library card + PIN in, a pairwise pseudonym out.\nThe configuration file is $PATRONYM_CONFIG (default config/demo.yaml).',
  )
  .showHelpAfterError();

const demo = program.command('demo').description('the demo installation');
demo
  .command('init')
  .description('write the demo patron file (data/demo-patrons.yaml) if it is missing')
  .action(async () => {
    if (process.env.PATRONYM_CONFIG) return; // not the demo
    const { keys } = await loadConfigAndKeys();
    if (await writeDemoPatrons('data/demo-patrons.yaml', keys.pinPepper)) {
      process.stdout.write('patronym: wrote the demo patron file data/demo-patrons.yaml\n');
    }
  });

const patrons = program.command('patrons').description("a `file` authenticator's patron file");
patrons
  .command('hash-pin')
  .description('read a PIN (without echo) and print its hash for a patron file')
  .action(hashPinCommand);
patrons
  .command('add <card>')
  .description('add a patron; the PIN is asked for without echo')
  .requiredOption('--file <path>', 'the patron file')
  .requiredOption('--id <id>', "the patron's permanent id (kept when the card is replaced)")
  .addOption(new Option('--status <status>', 'status').choices(['active', 'blocked', 'expired']).default('active'))
  .option('--expires <date>', 'expiry date, YYYY-MM-DD')
  .action(addPatronCommand);

const clients = program.command('clients').description('vendors (OIDC clients) registered in the store');
clients
  .command('list')
  .description('every vendor, configured and registered, with its release policy')
  .action(listClients);
clients.command('show <id>').description('one vendor’s metadata and policy (never its secret)').action(showClient);
clients
  .command('add')
  .description('register a vendor; its secret is printed once')
  .requiredOption('--name <name>', 'the vendor’s name, shown to patrons')
  .requiredOption('--redirect-uri <uri...>', 'redirect URIs (exact)')
  .option('--public', 'a public client (single-page or mobile app: PKCE, no secret)')
  .option('--policy <releases>', 'library,affiliation,entitlement or none', 'none')
  .option('--walk-in', 'allow walk-in access')
  .option('--logout-uri <uri>', 'its back-channel logout URI')
  .action(addClient);
clients.command('remove <id>').description('remove a registered vendor').action(removeClient);
clients
  .command('policy <id> <releases>')
  .description('what a registered vendor may receive: library,affiliation,entitlement or none')
  .option('--walk-in', 'allow walk-in access')
  .action(setPolicy);
clients
  .command('token')
  .description('issue an initial access token for one self-registration at /reg')
  .option('--expires <duration>', 'how long it is valid (e.g. 7d)', '7d')
  .action(issueToken);

const keys = program.command('keys').description('signing and cookie keys (never the pseudonym keys)');
keys
  .command('rotate')
  .description('add new signing keys that sign from the next reload; old ones keep verifying')
  .option('--cookies', 'also add a new cookie key')
  .action(rotateCommand);
keys
  .command('retire')
  .description('remove signing keys that stopped signing more than --grace ago')
  .option('--grace <duration>', 'how long retired keys stay published (e.g. 24h)', '24h')
  .option('--cookies', 'also drop every cookie key but the newest')
  .action(retireCommand);

program
  .command('purge')
  .description('delete every expired record now and print how many of each kind')
  .action(purgeCommand);

program
  .command('check')
  .description("check every library's backends answer; with --card, the outcome a sign-in would get")
  .option('--library <id>', 'only this library')
  .option('--card <card>', 'also try this card (the PIN is asked for without echo)')
  .action(async (options: { library?: string; card?: string }) => {
    process.exitCode = await checkCommand(options);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`patronym: ${error instanceof ConfigError ? error.message : describeError(error)}\n`);
  process.exit(1);
});
