/** Migrations, applied in order; `user_version` records how many have run. Never edit one that has shipped. */
export const migrations: string[] = [
  `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    wallet TEXT,
    hardware TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    last_nonce TEXT NOT NULL DEFAULT '0',
    tasks_done INTEGER NOT NULL DEFAULT 0,
    tasks_failed INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE models (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    architecture TEXT NOT NULL,
    quantization TEXT NOT NULL,
    parameter_count INTEGER NOT NULL,
    context_length INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    path TEXT,
    added_at INTEGER NOT NULL
  );
  CREATE INDEX models_name ON models(name, added_at);
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    label TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys(id),
    model_sha256 TEXT NOT NULL,
    model_name TEXT NOT NULL,
    params TEXT NOT NULL,
    implicit INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    session_id TEXT,
    key_id TEXT NOT NULL,
    idempotency_key TEXT,
    kind TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    model_name TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    node_id TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE UNIQUE INDEX tasks_idempotency ON tasks(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX tasks_open ON tasks(status) WHERE status IN ('queued', 'running');
  CREATE TABLE results (
    task_id TEXT PRIMARY KEY REFERENCES tasks(id),
    node_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    output TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    nonce TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // Batch jobs (issue 3): uploaded files, batches, and one row per input line with its outcome.
  `
  CREATE TABLE files (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    filename TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX files_key ON files(key_id, created_at);
  CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    input_file_id TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    metadata TEXT,
    status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    errors TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    created_at INTEGER NOT NULL,
    in_progress_at INTEGER,
    finalizing_at INTEGER,
    completed_at INTEGER,
    failed_at INTEGER,
    cancelling_at INTEGER,
    cancelled_at INTEGER
  );
  CREATE INDEX batches_key ON batches(key_id, created_at);
  CREATE INDEX batches_open ON batches(status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');
  CREATE TABLE batch_lines (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    custom_id TEXT,
    request TEXT,
    outcome TEXT,
    result TEXT,
    PRIMARY KEY (batch_id, line)
  ) WITHOUT ROWID;
  `,
  // Every batch status check counts a batch's lines by outcome; without this it scans them all.
  `
  CREATE INDEX batch_lines_outcome ON batch_lines(batch_id, outcome);
  `,
  // Each verified hello, kept so a result can be re-checked later: the hello's EIP-191 signature binds the
  // result key that signed the node's results on that connection to the node id.
  `
  CREATE TABLE node_hellos (
    node_id TEXT NOT NULL,
    result_key TEXT NOT NULL,
    hello TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (node_id, result_key)
  ) WITHOUT ROWID;
  `,
  // The ledger (issue 5). The log: append-only entries and their postings, clustered by entry (amounts are
  // signed decimal TEXT: 18 decimals overflow int64). Derived from it and written at checkpoints, not with
  // every group commit (a per-account index dirtied a page per account on each commit): each account's
  // history and a balance cache, both complete up to ledger_checkpoint.seq; verify() re-derives and compares
  // them. Beside them, the state of escrows, stakes, withdrawals and epochs.
  `
  CREATE TABLE ledger_entries (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    reference TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE ledger_postings (
    seq INTEGER NOT NULL,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (seq, account)
  ) WITHOUT ROWID;
  CREATE TABLE ledger_history (
    account TEXT NOT NULL,
    seq INTEGER NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (account, seq)
  ) WITHOUT ROWID;
  CREATE TABLE ledger_balances (
    account TEXT PRIMARY KEY,
    balance TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE ledger_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
  );
  INSERT INTO ledger_checkpoint (id, seq) VALUES (1, 0);
  CREATE TABLE ledger_escrows (
    session TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    holds TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    expires_at INTEGER,
    closed_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX ledger_escrows_live ON ledger_escrows(status) WHERE status = 'open' OR holds != '{}';
  CREATE TABLE ledger_stakes (
    node TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    unbondings TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE ledger_withdrawals (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    destination TEXT NOT NULL,
    status TEXT NOT NULL,
    settlement TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX ledger_withdrawals_account ON ledger_withdrawals(account, created_at);
  CREATE INDEX ledger_withdrawals_pending ON ledger_withdrawals(status) WHERE status = 'pending';
  CREATE TABLE ledger_epochs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    start_seq INTEGER NOT NULL,
    stakes TEXT NOT NULL,
    closed_at INTEGER,
    summary TEXT
  );
  CREATE TABLE ledger_rewards (
    epoch INTEGER NOT NULL,
    node TEXT NOT NULL,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (epoch, node)
  ) WITHOUT ROWID;
  CREATE INDEX ledger_rewards_account ON ledger_rewards(account, epoch);
  `,
  // Batches that outlive their completion window end as 'expired' (OpenAI's Batch API): when, and when they did.
  `
  ALTER TABLE batches ADD COLUMN expires_at INTEGER;
  ALTER TABLE batches ADD COLUMN expired_at INTEGER;
  `,
  // Accounts and login (issue 5): an API key belongs to an account (a lowercase Ethereum address) and has a
  // role; a login token (only its sha256 is kept) acts as one of its account's keys until it expires.
  `
  ALTER TABLE api_keys ADD COLUMN account TEXT;
  ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
  CREATE INDEX api_keys_account ON api_keys(account, label) WHERE account IS NOT NULL;
  CREATE TABLE login_tokens (
    hash TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES api_keys(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX login_tokens_expiry ON login_tokens(expires_at);
  `,
  // Verification verdicts with their evidence (re-judgeable), and the reputation they add up to.
  `
  CREATE TABLE verdicts (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    validator_id TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    level TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX verdicts_node ON verdicts(node_id, at);
  CREATE INDEX verdicts_task ON verdicts(task_id);
  CREATE INDEX verdicts_at ON verdicts(at);
  `,
  // Payments for tasks (issue 5): what each paid task holds in escrow and at what price, until it is booked or
  // released. On start the router books or releases the ones still held (their ledger keys make it exactly once).
  `
  CREATE TABLE task_payments (
    task_id TEXT PRIMARY KEY,
    escrow TEXT NOT NULL,
    per_task INTEGER NOT NULL,
    account TEXT NOT NULL,
    price_input TEXT NOT NULL,
    price_output TEXT NOT NULL,
    held TEXT NOT NULL,
    settled_at INTEGER,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX task_payments_held ON task_payments(created_at) WHERE settled_at IS NULL;
  `,
  // A key's default validation level for its requests (none, checksum, redundant:k, likelihood, embedding, auto).
  `
  ALTER TABLE api_keys ADD COLUMN validation TEXT;
  `,
  // The validation level a task's request asked for (null: its session's or key's, else auto), kept so a
  // task recovered after a restart is checked as it was asked.
  `
  ALTER TABLE tasks ADD COLUMN validation TEXT;
  `,
  // Clients' idempotency keys (issue 9) are kept as 'client:<key>', apart from the router's own ('check:...',
  // '<batch id>:<line>'), with the sha256 of the request made under them: a key sent again with another
  // request is refused. Keys stored before are moved under the prefix, so a client re-sending one still joins.
  `
  ALTER TABLE tasks ADD COLUMN request_sha256 TEXT;
  DROP INDEX tasks_idempotency;
  UPDATE tasks SET idempotency_key = 'client:' || idempotency_key
    WHERE idempotency_key IS NOT NULL AND substr(idempotency_key, 1, 6) != 'check:'
      AND NOT EXISTS (
        SELECT 1 FROM batches b WHERE b.id = substr(tasks.idempotency_key, 1, instr(tasks.idempotency_key, ':') - 1)
      );
  CREATE UNIQUE INDEX tasks_idempotency ON tasks(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  `,
  // Names belong to models an operator registered. A file a node announced is kept apart (announced = 1), under
  // its sha256 as its name, with the last time a node served it so it can leave the catalog. Before this,
  // announced files carried the node's name and no path (an operator's registration always has one).
  `
  ALTER TABLE models ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE models ADD COLUMN seen_at INTEGER;
  UPDATE models SET announced = 1, name = sha256, seen_at = added_at WHERE path IS NULL;
  `,
  // Metrics time series (issue 11): per-node and network points in three tiers (0: raw samples, 1: 5-minute
  // averages, 2: hourly averages); `samples` is how many raw samples a row stands for (weights and uptime).
  `
  CREATE TABLE node_metric_points (
    node_id TEXT NOT NULL,
    tier INTEGER NOT NULL,
    at INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    tokens_per_second REAL NOT NULL,
    flops REAL NOT NULL,
    gpu_utilization REAL,
    cpu_utilization REAL,
    memory_used_bytes REAL,
    power_watts REAL,
    temperature_c REAL,
    tasks_done INTEGER NOT NULL,
    tasks_failed INTEGER NOT NULL,
    PRIMARY KEY (node_id, tier, at)
  ) WITHOUT ROWID;
  CREATE INDEX node_metric_points_tier ON node_metric_points(tier, at);
  CREATE TABLE network_metric_points (
    tier INTEGER NOT NULL,
    at INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    nodes_online REAL NOT NULL,
    tasks_per_minute REAL NOT NULL,
    tokens_per_second REAL NOT NULL,
    queue_depth REAL NOT NULL,
    flops REAL NOT NULL,
    pass_rate REAL,
    PRIMARY KEY (tier, at)
  ) WITHOUT ROWID;
  `,
  // Data campaigns (issue 12, src/data): campaigns, their items (content-addressed files in DATA/campaign-files),
  // review assignments (leases), every vote, and the reviewers who lost their rights. Amounts are decimal TEXT.
  `
  CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    settings TEXT NOT NULL,
    salt TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at INTEGER
  );
  CREATE TABLE campaign_items (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT,
    metadata TEXT,
    contributor TEXT NOT NULL,
    gold_answer TEXT,
    state TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,
    verdict TEXT,
    agreement_ppm INTEGER,
    reasons TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    UNIQUE (campaign_id, sha256)
  );
  CREATE INDEX campaign_items_open ON campaign_items(campaign_id, state);
  CREATE INDEX campaign_items_contributor ON campaign_items(campaign_id, contributor);
  CREATE TABLE campaign_assignments (
    item_id TEXT NOT NULL REFERENCES campaign_items(id),
    reviewer TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    leased_until INTEGER NOT NULL,
    voted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, reviewer)
  );
  CREATE INDEX campaign_assignments_batch ON campaign_assignments(batch_id);
  CREATE TABLE campaign_votes (
    item_id TEXT NOT NULL REFERENCES campaign_items(id),
    reviewer TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    flagged INTEGER NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '[]',
    at INTEGER NOT NULL,
    PRIMARY KEY (item_id, reviewer)
  );
  CREATE INDEX campaign_votes_reviewer ON campaign_votes(campaign_id, reviewer);
  CREATE TABLE campaign_revoked (
    campaign_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    accuracy_ppm INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, reviewer)
  );
  `,
  // Campaign questions (issue 12, src/data/answers.ts): a label or a rating beside each vote's verdict, an item's
  // final one, and a gold item's known one; NULL in accept/reject campaigns. The contributor leaderboard's salt
  // (src/data/leaderboard.ts) for its router-wide pseudonyms.
  `
  ALTER TABLE campaign_votes ADD COLUMN label TEXT;
  ALTER TABLE campaign_votes ADD COLUMN rating REAL;
  ALTER TABLE campaign_items ADD COLUMN label TEXT;
  ALTER TABLE campaign_items ADD COLUMN rating REAL;
  ALTER TABLE campaign_items ADD COLUMN gold_label TEXT;
  ALTER TABLE campaign_items ADD COLUMN gold_rating REAL;
  CREATE TABLE campaign_leaderboard_salt (id INTEGER PRIMARY KEY CHECK (id = 1), salt TEXT NOT NULL);
  `,
  // Issue 12, near-duplicates and machine pre-review (src/data/near, src/data/prereview).
  `
  CREATE TABLE campaign_fingerprints (
    item_id TEXT PRIMARY KEY REFERENCES campaign_items(id),
    campaign_id TEXT NOT NULL,
    value TEXT NOT NULL
  );
  CREATE INDEX campaign_fingerprints_campaign ON campaign_fingerprints(campaign_id);
  CREATE TABLE campaign_prereviews (
    item_id TEXT PRIMARY KEY REFERENCES campaign_items(id),
    campaign_id TEXT NOT NULL,
    model TEXT NOT NULL,
    task_id TEXT,
    status TEXT NOT NULL,
    verdict TEXT,
    answer TEXT,
    reason TEXT,
    cost TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX campaign_prereviews_status ON campaign_prereviews(status);
  `,
];
