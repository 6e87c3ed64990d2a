import { Command, InvalidArgumentError } from 'commander';
import { routerStoreDir } from './local-admin.js';

// Commands load their modules when run, so `keys create` does not pay for loading the inference engine.
const local = () => import('./local-commands.js');
const starts = () => import('./start-commands.js');
const accounts = () => import('./account-commands.js');
const ledger = () => import('./ledger-commands.js');
const chains = () => import('./chain-commands.js');
const data = () => import('./data-commands.js');
const reviews = () => import('./review-commands.js');

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

/** The options of every command that talks to a router: where, and as whom (default: the saved login). */
const routerOptions = (command: Command) =>
  command
    .option('--router <url>', 'the router (default: the one you logged in to)')
    .option('--api-key <key>', 'API key or login token (default: $OTENSOR_API_KEY, else your saved login)');

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
  .requiredOption('--data <dir>', "the router's data folder (or the folder given to `up --data`)")
  .action(async (file, o) => (await local()).modelAdd(file, { ...o, data: routerStoreDir(o.data) }));
model
  .command('list')
  .description('list registered models and how many connected nodes serve each')
  .option('--router <url>', 'ask a running router (shows node counts)')
  .option('--data <dir>', "read a router's data folder instead (node counts unknown)")
  .action(async (o) =>
    (await local()).modelList(o.data === undefined ? o : { ...o, data: routerStoreDir(o.data) }),
  );

program
  .command('keys')
  .description('API keys')
  .command('create')
  .description(
    'create an API key for an account and print it alone on stdout (the account goes to stderr); without --account, a new wallet is made for it',
  )
  .requiredOption('--data <dir>', "the router's data folder (or the folder given to `up --data`)")
  .option('--label <label>', 'a note to remember the key by')
  .option('--account <address>', 'the account (0x address) the key belongs to')
  .option('--operator', 'give the key the operator role')
  .option(
    '--validation <level>',
    "the key's default check of answers: none, checksum, redundant:k, likelihood, embedding or auto",
  )
  .action(async (o) => (await accounts()).keysCreateCommand({ ...o, data: routerStoreDir(o.data) }));

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
  .option('--tls-cert <file>', 'serve HTTPS and WSS with this certificate (PEM; with --tls-key)')
  .option('--tls-key <file>', "the certificate's private key (PEM; with --tls-cert)")
  .option('--queue-limit <n>', 'tasks that may wait before clients get 429', integer('--queue-limit'), 1000)
  .option(
    '--metrics-sample <duration>',
    'how often node and network figures are recorded into the metrics series (default 10s)',
    duration('--metrics-sample'),
  )
  .option(
    '--batch-window <duration>',
    'how long a batch may run before its unanswered lines expire (default 24h)',
    duration('--batch-window'),
  )
  .option(
    '--check-wait <duration>',
    'how long a result check waits for a node that can make it (e.g. a validator that left) before the request ends with 503 (default 30s)',
    duration('--check-wait'),
  )
  .option(
    '--honeypot-rate <share>',
    'share of likelihood checks followed by a known-answer check of a validator, 0 to 1 (default 0.02)',
  )
  .option(
    '--price-per-token <tokens>',
    'price of every input and output token of every model (default 0: free)',
  )
  .option(
    '--model-price <name=in[/out]>',
    "one model's price per input (and output) token; repeatable",
    collect,
    [],
  )
  .option('--fee <ratio>', 'platform fee: the share of each payment that goes to the treasury (default 0.01)')
  .option(
    '--genesis <account=tokens>',
    'genesis allocation, booked once: an 0x address, treasury or rewards (the epoch reward pool); repeatable',
    collect,
    [],
  )
  .option('--allow-mint', 'a test network: operators may mint tokens')
  .option('--minimum-stake <tokens>', 'stake a node needs to receive work (default 0)')
  .option(
    '--unbonding <duration>',
    'how long unstaked tokens stay slashable (default 24h)',
    duration('--unbonding'),
  )
  .option('--slash <ratio>', "share of a node's stake a failed verification slashes (default 0.1)")
  .option(
    '--slash-validator-share <ratio>',
    'share of a slash paid to the validator that caught it (default 0.5)',
  )
  .option(
    '--epoch <duration>',
    'reward epoch length; epochs also close by command (default 1h)',
    duration('--epoch'),
  )
  .option('--reward-formula <name>', 'omnitensor (seed 000) or tensorchain (seed 001)')
  .option('--base-per-hour <tokens>', 'omnitensor Base: tokens per hour of epoch (default 1)')
  .option('--bonus-per-task <tokens>', 'omnitensor Bonus: tokens per validated task (default 0.01)')
  .option(
    '--alpha-per-hour <ratio>',
    "tensorchain alpha: share of a node's stake paid per hour (default 0.0001)",
  )
  .option(
    '--session-ttl <duration>',
    "how long a session's budget stays escrowed (default 24h)",
    duration('--session-ttl'),
  )
  .option(
    '--rate-limit <rate>',
    'requests per account (or key) per second, like 1000/s or 6000/m; 0: off (1000/s)',
  )
  .option(
    '--rate-limit-ip <rate>',
    'requests per client address per second on public routes and failed logins; 0: off (100/s)',
  )
  .option(
    '--node-message-budget <rate>',
    'messages a node may send per second before it is disconnected; 0: off (2000/s)',
  )
  .option(
    '--chain-rpc <url>',
    "post epoch roots to this chain's JSON-RPC (with the two below; docs/chain.md)",
  )
  .option('--chain-deployment <file>', 'the deployment file `chain deploy` wrote')
  .option('--chain-key-file <file>', "the router's chain key (holds ROUTER_ROLE; hex, or a node key file)")
  .option(
    '--chain-confirmations <n>',
    'blocks a Vault deposit needs, its own included, before the ledger credits it (default 1)',
    integer('--chain-confirmations'),
  )
  .action(async (o) => (await starts()).routerStart(o));

routerOptions(
  program
    .command('balance')
    .description("your account's balance, stakes, session escrows and pending withdrawals")
    .option('--account <address>', 'another account (operators only)'),
).action(async (o) => (await ledger()).balanceCommand(o));

routerOptions(
  program
    .command('check-rewards')
    .description("a wallet's balance, stake, pending withdrawals, earnings this epoch and recent history")
    .requiredOption('--wallet <address>', 'the payout wallet (yours, unless you are an operator)')
    .option('--limit <n>', 'history entries to show', integer('--limit'), 15),
).action(async (o) => (await ledger()).checkRewardsCommand(o));

routerOptions(
  program
    .command('transfer')
    .description('send tokens to another account')
    .requiredOption('--to <address>', 'the receiving account')
    .requiredOption('--amount <tokens>', 'whole tokens, e.g. 1.5')
    .option('--idempotency-key <key>', 'repeat the command with the same key and it sends once'),
).action(async (o) => (await ledger()).transferCommand(o));

routerOptions(
  program
    .command('stake')
    .description('bond tokens on a node (one node per GPU); its stake counts for rewards and can be slashed')
    .requiredOption('--node <id>', "the node's id (its address, printed by `node start`)")
    .requiredOption('--amount <tokens>', 'whole tokens'),
).action(async (o) => (await ledger()).stakeCommand(o));

routerOptions(
  program
    .command('unstake')
    .description("start unbonding tokens from a node's stake; they return after the unbonding period")
    .requiredOption('--node <id>', "the node's id")
    .requiredOption('--amount <tokens>', 'whole tokens'),
).action(async (o) => (await ledger()).unstakeCommand(o));

routerOptions(
  program
    .command('withdraw')
    .description('cash out: a withdrawal request that locks the amount until it is settled')
    .requiredOption('--amount <tokens>', 'whole tokens')
    .requiredOption('--to <address>', 'where to pay it out'),
).action(async (o) => (await ledger()).withdrawCommand(o));

routerOptions(
  program
    .command('withdrawals')
    .description('your withdrawal requests and their states (an operator sees all)')
    .option('--status <status>', 'pending, settled or cancelled'),
).action(async (o) => (await ledger()).withdrawalsCommand(o));

routerOptions(
  program
    .command('mint')
    .description('operator, test networks only: create tokens for an account')
    .requiredOption('--to <address>', 'the account (or rewards, the epoch reward pool)')
    .requiredOption('--amount <tokens>', 'whole tokens'),
).action(async (o) => (await ledger()).mintCommand(o));

const epoch = program.command('epoch').description('reward epochs');
routerOptions(
  epoch
    .command('close')
    .description('operator: close the open epoch and pay its rewards (a closed epoch shows its report)')
    .option('--epoch <n>', 'the epoch to close (default: the open one)', integer('--epoch')),
).action(async (o) => (await ledger()).epochCloseCommand(o));
epoch
  .command('audit <epoch>')
  .description(
    "recompute a closed epoch's root from the ledger and compare it with the chain's (exit 1 if they differ)",
  )
  .option('--router <url>', 'the router (its report, its chain)')
  .option('--data <dir>', "recompute from the router's data folder (the ledger itself) instead of its report")
  .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)")
  .action(async (n, o) => (await chains()).epochAuditCommand(integer('epoch')(n), o));
routerOptions(epoch.command('show [epoch]').description("a closed epoch's report, or the open epoch")).action(
  async (n, o) => (await ledger()).epochShowCommand(n, o),
);

program
  .command('ledger')
  .description('the ledger')
  .command('verify')
  .description(
    "check a router's whole ledger history offline (balanced entries, no account below zero, supply); exits 1 on a problem",
  )
  .requiredOption('--data <dir>', "the router's data folder (or the folder given to `up --data`)")
  .action(async (o) => (await ledger()).ledgerVerifyCommand({ data: routerStoreDir(o.data) }));

const node = program.command('node').description('a compute node');
node
  .command('status')
  .description("a running node's own figures from its status port (GET /status): FLOPS, utilization, tasks")
  .option('--port <port>', "the node's --status-port", integer('--port'), 8080)
  .option('--url <url>', 'the status server, e.g. http://10.0.0.5:8080 (instead of --port on this machine)')
  .option('--watch', 'redraw every 2 s until Ctrl-C')
  .action(async (o) => (await import('./status-commands.js')).nodeStatusCommand(o));
node
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
  .option(
    '--router-ca <file>',
    "trust this CA (PEM) for an https/wss router's certificate, besides the system's",
  )
  .option(
    '--router-fingerprint <sha256>',
    'accept only the router certificate with this SHA-256 fingerprint (hex, colons allowed); works for a self-signed one',
  )
  .option(
    '--status-port <port>',
    'local port of GET /status (JSON figures; `node status` reads it); 0: off; a port in use is skipped',
    integer('--status-port'),
    8080,
  )
  .action(async (o) => (await starts()).nodeStart(o));

program
  .command('network')
  .description('the network as a router sees it')
  .command('status')
  .description('nodes online, compute, tasks per minute, tokens/s, queue and the top nodes (public figures)')
  .option('--router <url>', 'the router (default: the one you logged in to)')
  .option('--watch', 'redraw every 2 s until Ctrl-C')
  .action(async (o) => (await import('./status-commands.js')).networkStatusCommand(o));

program
  .command('up')
  .description('a router plus N local compute nodes in one command; Ctrl-C stops all')
  .option('--nodes <n>', 'how many node processes', integer('--nodes'), 3)
  .option('--port <port>', 'router port', integer('--port'), 8080)
  .option('--data <dir>', 'data folder', '.data/up')
  .option('--model <file>', 'a GGUF file to serve instead of the tiny model')
  .option('--price-per-token <tokens>', 'price of each input and output token (default 0.0001; 0: free)')
  .option('--fund <tokens>', "tokens minted to the printed key's account (default 1000)")
  .option('--chain', 'also run a local chain, deploy the contracts and link the router to it')
  .action(async (o) => (await import('./up.js')).upCommand(o));

const chain = program.command('chain').description('the OMNIT contracts on an EVM chain (docs/chain.md)');
chain
  .command('dev')
  .description('a local EVM JSON-RPC node in this process with funded test accounts; Ctrl-C stops it')
  .option('--port <port>', 'port on 127.0.0.1', integer('--port'), 8545)
  .option('--deployment <file>', 'also deploy the contracts and write their deployment file here')
  .option('--db <dir>', "keep the chain's state in this folder across restarts (a kept deployment is reused)")
  .action(async (o) => (await chains()).chainDevCommand(o));
chain
  .command('deploy')
  .description('deploy OmniToken, NodeStaking, EpochRewards and Vault and write a deployment file')
  .requiredOption('--rpc <url>', "the chain's JSON-RPC")
  .requiredOption('--key-file <file>', "the deployer's key (hex, or a node key file); it becomes admin")
  .option('--genesis <list>', 'the genesis split in whole OMNIT: rewards=N,treasury=N,0xADDRESS=N')
  .option('--router <address>', "the router's address (ROUTER_ROLE, voucher signer; default: the deployer)")
  .option('--out <file>', 'where to write the deployment', 'deployment.json')
  .option('--challenge <seconds>', 'how long a root can be vetoed before it pays', integer('--challenge'), 0)
  .option('--unbonding <seconds>', 'how long unstaked OMNIT waits', integer('--unbonding'), 7 * 86_400)
  .action(async (o) => (await chains()).chainDeployCommand(o));

program
  .command('deposit')
  .description('deposit OMNIT into the Vault; the router credits your ledger account once it is confirmed')
  .requiredOption('--router <url>', 'the router (where the contracts are)')
  .requiredOption('--key-file <file>', 'the wallet key that holds the OMNIT (hex, or a node key file)')
  .requiredOption('--amount <tokens>', 'how much, in OMNIT')
  .option('--to <address>', 'the ledger account to credit (default: the wallet)')
  .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)")
  .action(async (o) => (await chains()).depositCommand(o));

routerOptions(
  program
    .command('withdraw-onchain')
    .description(
      'settle your pending withdrawal into a Vault voucher and cash it on chain (a chain-linked router)',
    )
    .requiredOption('--id <id>', 'the withdrawal (wd_...) from `otensor-cli withdraw`')
    .requiredOption('--key-file <file>', 'the wallet key that sends the transaction and pays its gas')
    .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)"),
).action(async (o) => (await chains()).withdrawOnchainCommand(o));

program
  .command('stake-onchain')
  .description('bond OMNIT on NodeStaking for a node (one per GPU); a chain-linked router counts it as stake')
  .requiredOption('--router <url>', 'the router (where the contracts are)')
  .requiredOption('--key-file <file>', 'the wallet key that holds the OMNIT (hex, or a node key file)')
  .requiredOption('--node <id>', "the node's id (its address, printed by `node start`)")
  .requiredOption('--amount <tokens>', 'how much, in OMNIT')
  .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)")
  .action(async (o) => (await chains()).stakeOnchainCommand(o));

program
  .command('unstake-onchain')
  .description("start unbonding OMNIT from a node's stake on NodeStaking")
  .requiredOption('--router <url>', 'the router (where the contracts are)')
  .requiredOption('--key-file <file>', 'the key that staked it')
  .requiredOption('--node <id>', "the node's id")
  .requiredOption('--amount <tokens>', 'how much, in OMNIT')
  .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)")
  .action(async (o) => (await chains()).unstakeOnchainCommand(o));

program
  .command('claim')
  .description("claim an account's epoch rewards on chain with the router's proofs")
  .requiredOption('--router <url>', 'the router (proofs and where the contracts are)')
  .requiredOption('--key-file <file>', "a node's key file (node-key.json in its data folder) or a wallet key")
  .option('--epoch <n>', 'the epoch to claim', integer('--epoch'))
  .option('--all', 'claim every closed epoch not claimed yet')
  .option('--rpc <url>', "the chain's JSON-RPC (default: the one the router names)")
  .action(async (o) => (await chains()).claimCommand(o));

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

// Data campaigns (issue 12, seed 002): campaign, upload-data, check-status, review, dataset export.
const campaign = program.command('campaign').description('data collection campaigns');
routerOptions(
  campaign
    .command('create')
    .description(
      "create a campaign and escrow its budget from your balance; prints the campaign id (the seed's task id)",
    )
    .requiredOption('--title <title>', 'what the campaign collects')
    .requiredOption('--kind <kind>', 'text, image, audio, video or jsonl (records fitting --schema)')
    .requiredOption('--reviewers <k>', 'reviewers per item in the first round')
    .requiredOption('--reward <tokens>', 'paid to the contributor per accepted item')
    .requiredOption(
      '--review-reward <tokens>',
      'paid to a reviewer per review agreeing with the final verdict',
    )
    .requiredOption('--budget <tokens>', 'escrowed now; what is left returns at close')
    .option(
      '--gold <file>',
      'JSONL of gold items: {"text": ..., "answer": "accept"|"reject"} (or "file": PATH; "label" or "rating" to accept)',
    )
    .option(
      '--reviewer-stake <tokens>',
      "stake a reviewer needs on its own address (default: the router's minimum stake)",
    )
    .option('--instructions <text>', 'what contributors and reviewers are asked')
    .option('--schema <file>', 'a JSON schema file for a jsonl campaign')
    .option('--max-bytes <n>', 'largest item in bytes (default 10 MiB)')
    .option('--second-round <n>', 'reviewers a second round adds (default --reviewers)')
    .option('--threshold <ratio>', 'posterior agreement an item needs after round one (default 0.9)')
    .option('--gold-share <ratio>', 'gold items mixed into a batch per item (default 0.2)')
    .option('--min-evidence <n>', 'known answers before a reviewer can lose its rights (default 10)')
    .option(
      '--accuracy-floor <ratio>',
      'estimated accuracy below which a reviewer loses rights and stake (default 0.7)',
    )
    .option('--lease <duration>', 'how long a reviewer holds a batch (default 10m)', duration('--lease'))
    .option('--batch-size <n>', 'items in a batch (default 10)')
    .option('--question <type>', 'what reviewers answer: accept, label or rating (default accept)')
    .option('--labels <a,b,c>', 'the fixed set of labels, for --question label')
    .option('--scale <min-max>', 'the rating scale in whole numbers, e.g. 1-5, for --question rating')
    .option('--tolerance <n>', 'ratings this close to the verdict agree with it (default 1)')
    .option(
      '--prereview <model>',
      "a network model's first opinion on each item, paid from the budget (a hint)",
    ),
).action(async (o) => (await data()).campaignCreateCommand(o));
routerOptions(
  campaign.command('list').description('campaigns on the router').option('--json', 'print JSON'),
).action(async (o) => (await data()).campaignListCommand(o));
routerOptions(
  campaign
    .command('show <id>')
    .description("a campaign's settings, items, escrow and revoked reviewers")
    .option('--json', 'print JSON'),
).action(async (id, o) => (await data()).campaignShowCommand(id, o));
routerOptions(
  campaign.command('close <id>').description('close your campaign: what is left of its budget comes back'),
).action(async (id, o) => (await data()).campaignCloseCommand(id, o));
routerOptions(
  program
    .command('upload-data')
    .description(
      'contribute data to a campaign: a file, a folder, or a JSONL file (one item a line); refused items are printed with their reasons',
    )
    .requiredOption('--task-id <id>', 'the campaign id')
    .requiredOption('--file <path>', 'a file, a folder or a .jsonl file'),
).action(async (o) => (await data()).uploadDataCommand(o));
routerOptions(
  program
    .command('check-status')
    .description(
      'your items in a campaign: received, in_review, second_round, accepted or rejected, with reasons',
    )
    .requiredOption('--task-id <id>', 'the campaign id')
    .option('--json', 'print a JSON array'),
).action(async (o) => (await data()).checkStatusCommand(o));
routerOptions(
  program
    .command('review')
    .description("review a batch of a campaign's items in the terminal")
    .requiredOption('--task-id <id>', 'the campaign id')
    .option('--size <n>', 'items in the batch', integer('--size')),
).action(async (o) => (await reviews()).reviewCommand(o));
routerOptions(
  program
    .command('dataset')
    .description('datasets from campaigns')
    .command('export')
    .description(
      "write a campaign's accepted items, manifest.jsonl and a dataset card to a folder (campaign owner)",
    )
    .requiredOption('--task-id <id>', 'the campaign id')
    .requiredOption('--out <dir>', 'the folder'),
).action(async (o) => (await reviews()).datasetExportCommand(o));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
