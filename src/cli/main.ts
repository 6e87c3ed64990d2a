import { Command, InvalidArgumentError } from 'commander';

// Commands load their modules when run, so `keys create` does not pay for loading the inference engine.
const local = () => import('./local-commands.js');
const starts = () => import('./start-commands.js');
const accounts = () => import('./account-commands.js');

const integer = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError(`${name} must be a whole number.`);
  return parsed;
};
const collect = (value: string, previous: string[]) => [...previous, value];
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const duration = (name: string) => (value: string) => {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`${name} must be a duration like 90s, 30m or 24h.`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
};

const program = new Command('otensor-cli')
  .description('OmniTensor: run a router, join it with compute nodes, and send it work.')
  .showHelpAfterError();

const model = program.command('model').description('create, register and list GGUF models');
model
  .command('create-tiny')
  .description("write the project's tiny test model (random weights; its output is not meaningful text)")
  .requiredOption('--out <file>', 'where to write the GGUF file')
  .option('--seed <n>', 'weights seed: same seed, same bytes', integer('--seed'), 1)
  .option('--type <type>', 'tensor type of the matrices: q8_0 or f32', 'q8_0')
  .action(async (o) => (await local()).modelCreateTiny(o));
model
  .command('add <file>')
  .description(
    "register a GGUF file (a path, or an http(s) URL to download into DIR/models) by its sha256 in a router's store (the router may be running)",
  )
  .requiredOption('--name <name>', 'the name users ask for')
  .requiredOption('--data <dir>', "the router's data folder")
  .action(async (file, o) => (await local()).modelAdd(file, o));
model
  .command('list')
  .description('list registered models and how many connected nodes serve each')
  .option('--router <url>', 'ask a running router (shows node counts)')
  .option('--data <dir>', "read a router's data folder instead (node counts unknown)")
  .action(async (o) => (await local()).modelList(o));

program
  .command('keys')
  .description('API keys')
  .command('create')
  .description(
    'create an API key for an account and print it alone on stdout (the account goes to stderr); without --account, a new wallet is made for it',
  )
  .requiredOption('--data <dir>', "the router's data folder")
  .option('--label <label>', 'a note to remember the key by')
  .option('--account <address>', 'the account (0x address) the key belongs to')
  .option('--operator', 'give the key the operator role')
  .action(async (o) => (await accounts()).keysCreateCommand(o));

program
  .command('login')
  .description(
    "log in to a router with your account's key (signs its challenge; the key is never sent) and save the token in your config folder",
  )
  .option('--router <url>', 'the router, e.g. http://127.0.0.1:8080 (default: the last one logged in to)')
  .option('--key-file <file>', 'a file holding the private key (hex)')
  .option(
    '--key <hex>',
    'the private key itself (lands in shell history: prefer --key-file or OTENSOR_PRIVATE_KEY)',
  )
  .action(async (o) => (await accounts()).loginCommand(o));

program
  .command('logout')
  .description('end the saved login token on its router and forget it')
  .action(async () => (await accounts()).logoutCommand());

program
  .command('router')
  .description('the router')
  .command('start')
  .description('start a router (HTTP API and node gateway) with its store in --data')
  .requiredOption('--port <port>', 'port to listen on', integer('--port'))
  .requiredOption('--data <dir>', 'data folder for the store')
  .option('--host <host>', 'address to listen on (0.0.0.0 for remote nodes)', '127.0.0.1')
  .option('--queue-limit <n>', 'tasks that may wait before clients get 429', integer('--queue-limit'), 1000)
  .option(
    '--batch-window <duration>',
    'how long a batch may run before its unanswered lines expire',
    duration('--batch-window'),
    24 * 3_600_000,
  )
  .action(async (o) => (await starts()).routerStart(o));

program
  .command('node')
  .description('a compute node')
  .command('start')
  .description('start a compute node serving GGUF model files to a router')
  .requiredOption('--router <url>', 'the router, e.g. http://127.0.0.1:8080')
  .requiredOption(
    '--model <file|name>',
    'a GGUF file, or the name or sha256 of a model registered on the router (fetched once, kept in --data); repeat for more',
    collect,
    [],
  )
  .requiredOption('--data <dir>', "the node's data folder (keeps its identity key)")
  .option('--wallet <address>', 'payout wallet address (0x...)')
  .option(
    '--role <role>',
    "worker (generates answers), validator (checks other nodes' answers) or both",
    (value: string) => {
      if (!['worker', 'validator', 'both'].includes(value))
        throw new InvalidArgumentError('--role must be worker, validator or both.');
      return value;
    },
    'worker',
  )
  .option('--threads <n>', 'engine threads (default: measured at start)', integer('--threads'))
  .option('--slots <n>', 'requests per model at once', integer('--slots'))
  .option('--no-gpu', 'run on the CPU even when a GPU is present')
  .action(async (o) => (await starts()).nodeStart(o));

program
  .command('up')
  .description('a router plus N local compute nodes in one command; Ctrl-C stops all')
  .option('--nodes <n>', 'how many node processes', integer('--nodes'), 3)
  .option('--port <port>', 'router port', integer('--port'), 8080)
  .option('--data <dir>', 'data folder', '.data/up')
  .option('--model <file>', 'a GGUF file to serve instead of the tiny model')
  .action(async (o) => (await import('./up.js')).upCommand(o));

program
  .command('demo')
  .description('start a local network in a temporary folder, send it a workload, print figures, stop')
  .option('--nodes <n>', 'how many node processes', integer('--nodes'), 3)
  .option('--prompts <n>', 'how many prompts', integer('--prompts'), 30)
  .action(async (o) => (await import('./demo.js')).demoCommand(o));

program
  .command('submit')
  .description('run a JSONL batch file (OpenAI Batch API format) on a router; Ctrl-C cancels the batch')
  .requiredOption('--file <file>', 'JSONL requests: custom_id, method, url, body per line')
  .option(
    '--out <file>',
    'where to write the results (default: NAME.results.jsonl beside --file); failed lines go beside it as OUT.errors.jsonl (OUT without .jsonl)',
  )
  .requiredOption('--router <url>', 'the router, e.g. http://127.0.0.1:8080')
  .option('--api-key <key>', 'API key (default: $OTENSOR_API_KEY)')
  .option('--endpoint <path>', "the batch's endpoint (default: the first line's url)")
  .option('--poll-ms <n>', 'how often to ask for progress', integer('--poll-ms'), 500)
  .action(async (o) => (await import('./submit.js')).submitCommand(o));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
