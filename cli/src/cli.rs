//! The command line: every command, flag and its help text.
//!
//! Commands are grouped the way Cosmos and foundry users expect: `keys`, `genesis`,
//! transaction verbs at the top level (`contribute`, `evaluate`, `transfer`, `admit`),
//! queries under `show`/`list` plus `status` and `explain`, and `config`. Every command's
//! `--help` ends with a runnable example (a unit test checks that none is missing).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

/// pov: the wallet and cooperative tool for Proof-of-Value chains.
#[derive(Debug, Parser)]
#[command(
    name = "pov",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  pov keys new carl\n  pov status --node http://127.0.0.1:7070\n  pov contribute --kind work --title \"Fix the roof\" --uri https://example.org/roof --from carl\n  pov show account carl --output json\n\nExit codes: 0 ok, 1 failure, 2 usage, 3 invalid input, 4 simulate mismatch,\n5 node unreachable, 6 transaction rejected, 7 key or passphrase error,\n8 proof does not verify (docs/cli.md)."
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command; each can also come from the environment or the config
/// file (flag > environment > `<home>/config.toml` > default).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The node's API URL [default: `node` in the config file, else http://127.0.0.1:7070].
    #[arg(long, global = true, env = "POV_NODE", value_name = "URL")]
    pub node: Option<String>,
    /// How to print results: aligned text, or one JSON object on stdout for scripts.
    #[arg(long, short = 'o', global = true, env = "POV_OUTPUT", value_enum)]
    pub output: Option<Format>,
    /// pov's directory, holding config.toml and the keystore keys/ [default: the user's
    /// config directory + /pov, e.g. ~/.config/pov].
    #[arg(long, global = true, env = "POV_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The keystore directory [default: the config file's keystore setting, else keys/ in
    /// pov's directory].
    #[arg(long, global = true, env = "POV_KEYSTORE", value_name = "DIR")]
    pub keystore: Option<PathBuf>,
    /// Read key passphrases from the first line of this file instead of the terminal
    /// (POV_PASSPHRASE, the passphrase itself, is also honoured).
    #[arg(long, global = true, env = "POV_PASSPHRASE_FILE", value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// INSECURE, devnets only: let alice, bob, carol and dave name the PUBLIC dev keys of
    /// the development genesis when no key of that name is in the keystore.
    #[arg(long, global = true)]
    pub insecure_dev_keys: bool,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, import, export and delete signing keys (encrypted at rest).
    #[command(
        subcommand,
        after_help = "Examples:\n  pov keys new carl\n  pov keys list"
    )]
    Keys(KeysCommand),
    /// Form a cooperative: write, edit, check and show its genesis.
    #[command(
        subcommand,
        after_help = "Example (docs/forming-a-cooperative.md walks through it):\n  pov genesis new --chain-id bakery-coop\n  pov genesis add-member carl --reputation 40 --tokens 100\n  pov genesis validate"
    )]
    Genesis(GenesisCommand),
    /// Submit a contribution (pays its kind's fee).
    #[command(
        after_help = "Examples:\n  pov contribute --kind work --title \"Fix the roof\" --uri https://example.org/roof --from carl\n  pov contribute --kind work --title \"Minutes of May\" --file minutes.pdf --from carl --no-wait"
    )]
    Contribute {
        /// The contribution type (a kind of the genesis, e.g. work).
        #[arg(long)]
        kind: String,
        /// A short title (at most 200 bytes).
        #[arg(long)]
        title: String,
        /// Where the work lives.
        #[arg(long)]
        uri: Option<String>,
        /// Pin the work by its content: the file's blake3 hash is sent as content_hash.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Evaluate a contribution with a value of its evaluation set (stakes reputation).
    ///
    /// On a sealed contribution this commits the value, hidden, in the commit window, with
    /// a fresh random salt kept encrypted in the keystore folder; `pov reveal` opens it in
    /// the reveal window. Lose that file and the commitment can never be revealed.
    #[command(
        allow_negative_numbers = true,
        after_help = "Example:\n  pov evaluate 0 4 --from alice"
    )]
    Evaluate {
        /// The contribution's id.
        contribution: u64,
        /// The value (e.g. 0..5 under the default median rule).
        value: i64,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Reveal your commitments on sealed contributions whose reveal window is open.
    ///
    /// `pov evaluate` on a sealed contribution commits a hidden value and keeps the value
    /// and a random salt encrypted in the keystore folder (`seals/`); this opens the
    /// commitment with them. Without that file the commitment cannot be opened and its stake
    /// is forfeited at settlement.
    #[command(
        after_help = "Examples:\n  pov reveal 3 --from alice\n  pov reveal --all --from alice"
    )]
    Reveal {
        /// The contribution's id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        contribution: Option<u64>,
        /// Every stored commitment of the signer whose reveal window is open.
        #[arg(long)]
        all: bool,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Send tokens to another member.
    #[command(
        allow_negative_numbers = true,
        after_help = "Example:\n  pov transfer bob 2.5 --from alice"
    )]
    Transfer {
        /// The recipient: a key name or an address.
        to: String,
        /// How many tokens (a decimal, at most 12 places).
        amount: String,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Admit a new member (you become its referrer), under a name every node shows.
    #[command(
        after_help = "Examples:\n  pov admit 9ed5...3a70 --name eve --from alice\n  pov admit carl --from alice"
    )]
    Admit {
        /// The newcomer: a key name or an address.
        member: String,
        /// The newcomer's name on the chain (at most 64 bytes, unique) [default: the key's
        /// name when MEMBER is one; else none].
        #[arg(long)]
        name: Option<String>,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Propose parameter changes, decided by evaluation (spec section 11): members evaluate
    /// the proposal with `pov evaluate ID 1` (accept) or `0` (reject), staking reputation as
    /// for any contribution; it passes when members holding half of all reputation accept
    /// it, and its changes rule every block after the one in which it passed.
    ///
    /// Each --set names a parameter by its path and a full new value: the keys of `pov
    /// genesis set-param` (types.KIND.FIELD, revote, referral_fraction, admission,
    /// initial_grant.reputation, ...), plus governance.FIELD (fee, stake, distribution,
    /// fee_exponent, expiry_blocks, enabled) and whole tables as JSON (types.KIND,
    /// initial_grant, governance). The changes are checked against the rules in force
    /// before anything is signed. Pays governance.fee (burned).
    #[command(
        verbatim_doc_comment,
        after_help = "Examples:\n  pov propose --set types.work.fee=2 --title \"Raise the work fee\" --from carol\n  pov propose --set types.work.stake=0.03 --set referral_fraction=0.1 --title \"Stakes up, referrals down\" --uri https://example.org/why --from carol"
    )]
    Propose {
        /// A change: PATH=VALUE (repeat for several; they apply together, in this order).
        #[arg(long = "set", value_name = "PATH=VALUE", required = true)]
        set: Vec<String>,
        /// A short title (at most 200 bytes).
        #[arg(long)]
        title: String,
        /// Where the reasoning lives.
        #[arg(long)]
        uri: Option<String>,
        /// Signing and waiting.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Write a reputation proof of a member at a final height (spec section 10): a file
    /// anyone can check offline with the cooperative's genesis (`pov verify-proof`).
    #[command(
        after_help = "Examples:\n  pov prove carl --out carl.proof.json\n  pov prove 5e1f...9c3d --height 1200 --out carl-1200.proof.json"
    )]
    Prove {
        /// A key name, an address, or a member's name on chain.
        member: String,
        /// The height [default: the last final block].
        #[arg(long)]
        height: Option<u64>,
        /// Write the proof to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a reputation proof offline against a genesis, and say what it proves.
    ///
    /// No node and no network: the genesis hash, the header, the certificate's signatures
    /// (more than 2/3 of the power) and both Merkle paths are checked. Exit 0 only when all
    /// pass; exit 8 with the reason otherwise.
    #[command(after_help = "Example:\n  pov verify-proof carl.proof.json --genesis genesis.toml")]
    VerifyProof {
        /// The proof file (JSON); `-` reads standard input.
        file: PathBuf,
        /// The cooperative's genesis TOML.
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Show one account, contribution, block or transaction, or the rules in force.
    #[command(
        subcommand,
        after_help = "Examples:\n  pov show account carl\n  pov show contribution 0"
    )]
    Show(ShowCommand),
    /// List contributions, proposals or members.
    #[command(
        subcommand,
        after_help = "Examples:\n  pov list contributions --open\n  pov list members"
    )]
    List(ListCommand),
    /// The node's view of the chain: height, chain id, peers, mempool.
    #[command(after_help = "Example:\n  pov status --node http://127.0.0.1:7070")]
    Status,
    /// Why a member's reputation and tokens are what they are: the changes grouped by
    /// contribution and rule, with totals that add up to the balance.
    #[command(
        after_help = "Examples:\n  pov explain carl\n  pov explain carl --full\n  pov explain carl --since 120 --output json"
    )]
    Explain {
        /// A key name or an address.
        member: String,
        /// Start at this block height.
        #[arg(long, default_value_t = 0, value_name = "HEIGHT")]
        since: u64,
        /// List this many contributions one by one (default 10, at most 500); the rest are
        /// summed into one line.
        #[arg(long, value_name = "N", conflicts_with = "full")]
        limit: Option<usize>,
        /// Every change, line by line, with its block, rule, balance after it and
        /// transaction.
        #[arg(long)]
        full: bool,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  pov completions bash > ~/.local/share/bash-completion/completions/pov\n  pov completions zsh > ~/.zfunc/_pov\n  pov completions fish > ~/.config/fish/completions/pov.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Local multi-validator devnets (INSECURE: public dev keys; for testing only).
    #[command(
        subcommand,
        after_help = "Example:\n  pov devnet init --validators 4 --dir devnet && povd --home devnet/node0"
    )]
    Devnet(DevnetCommand),
    /// Show or change the client configuration (node URL, chain id, output, keystore).
    #[command(
        subcommand,
        after_help = "Examples:\n  pov config show\n  pov config set node http://10.0.0.5:7070"
    )]
    Config(ConfigCommand),
    /// Replay conformance vectors through the state machine (spec section 9).
    ///
    /// Reads a vector file (one vector object, or {"vectors": [...]}), ignores the expected
    /// figures in it, and prints the same JSON with `after` and `max_score_after` (or
    /// `median_max_after`) computed by pov.
    #[command(
        after_help = "Example:\n  pov simulate protocol/tests/vectors/backfeed-2016.json --check"
    )]
    Simulate {
        /// The vector file (JSON); `-` reads standard input.
        file: PathBuf,
        /// Instead of printing the output, compare it with the file's expected figures
        /// and print a summary; exit 4 if any figure is off by more than the tolerance.
        #[arg(long)]
        check: bool,
        /// Relative tolerance for --check.
        #[arg(long, default_value_t = 1e-9, requires = "check")]
        tolerance: f64,
    },
}

/// How a transaction is signed and followed.
#[derive(Debug, Clone, Args)]
pub struct TxArgs {
    /// The key that signs: a keystore name [default: `from` in the config file].
    #[arg(long, env = "POV_FROM", value_name = "NAME")]
    pub from: Option<String>,
    /// Print the transaction hash as soon as the node accepts it, without waiting.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for the transaction to become final.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

/// `pov keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new key and store it encrypted under a passphrase.
    #[command(
        after_help = "Examples:\n  pov keys new carl\n  POV_PASSPHRASE=... pov keys new carl --output json"
    )]
    New {
        /// The key's name.
        name: String,
    },
    /// List the keys (no passphrase needed).
    #[command(after_help = "Example:\n  pov keys list")]
    List,
    /// Show one key's address (its public key).
    #[command(after_help = "Example:\n  pov keys show carl")]
    Show {
        /// The key's name.
        name: String,
    },
    /// Import a 32-byte ed25519 secret key (64 hex digits) and encrypt it.
    ///
    /// The secret is read from --secret-file, else from standard input when it is not a
    /// terminal, else asked for without echo.
    #[command(
        after_help = "Examples:\n  pov keys import carl --secret-file carl.secret\n  pov keys export carl | pov keys import carl-copy"
    )]
    Import {
        /// The name to store it under.
        name: String,
        /// Read the secret from this file.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
    },
    /// Print a key's secret (64 hex digits) on stdout. Anyone who sees it can sign as you.
    #[command(
        after_help = "Example:\n  pov keys export carl > carl.secret && chmod 600 carl.secret"
    )]
    Export {
        /// The key's name.
        name: String,
    },
    /// Delete a key file (asks to type the name, unless --yes).
    #[command(after_help = "Example:\n  pov keys delete carl --yes")]
    Delete {
        /// The key's name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// INSECURE, devnets only: add alice, bob, carol and dave, the PUBLIC keys of the
    /// development genesis (no secret is stored; anyone can sign with these keys).
    #[command(after_help = "Example:\n  pov keys add-dev && pov evaluate 0 4 --from alice")]
    AddDev,
}

/// `pov genesis ...`
#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Start a new genesis with the default rules and no members yet.
    ///
    /// Defaults: one contribution kind `work`, the median rule on 0..5 (tokens 0, 1, 2, 5,
    /// 10, 20; reputation 0, 1, 2, 4, 7, 10), fee 1, stake 0.02, distribution 0.08, exponent
    /// 0.5; invitation admission granting 1 reputation and 10 tokens; same-value re-votes
    /// rejected; referral 0.2.
    #[command(
        after_help = "Example:\n  pov genesis new --chain-id bakery-coop --genesis-time 2026-03-01T00:00:00Z"
    )]
    New {
        /// The cooperative's chain id (a-z, 0-9, '-', '_', '.').
        #[arg(long)]
        chain_id: String,
        /// When the chain starts, RFC 3339 in UTC [default: now, to the second].
        #[arg(long, value_name = "DATETIME")]
        genesis_time: Option<String>,
        /// The file to write.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add a founding member.
    #[command(
        allow_negative_numbers = true,
        after_help = "Examples:\n  pov genesis add-member carl --reputation 40 --tokens 100\n  pov genesis add-member 5e1f...9c3d --name dana --reputation 20"
    )]
    AddMember {
        /// A key name from the keystore, or an address (64 hex digits).
        member: String,
        /// Starting reputation.
        #[arg(long)]
        reputation: String,
        /// Starting tokens.
        #[arg(long, default_value = "0")]
        tokens: String,
        /// Display name [default: the key's name].
        #[arg(long)]
        name: Option<String>,
        /// The genesis file to edit.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Add a validator (its consensus key, as printed by the node).
    #[command(
        after_help = "Example:\n  pov genesis add-validator 8a4c...01fe --power 1 --addr /ip4/10.0.0.5/tcp/26656"
    )]
    AddValidator {
        /// A key name from the keystore, or an address (64 hex digits).
        validator: String,
        /// Voting power.
        #[arg(long, default_value_t = 1)]
        power: u64,
        /// Where peers reach it (a multiaddr).
        #[arg(long)]
        addr: Option<String>,
        /// The genesis file to edit.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Set one parameter: contribution types, evaluation set, reward rule and tables,
    /// admission, re-vote policy.
    ///
    /// Keys (a leading `params.` is accepted, so fields named by `validate` work as is):
    ///
    ///   revote                                    reject-same | reprocess
    ///   admission                                 invite | open
    ///   referral_fraction                         0..1
    ///   initial_grant.reputation                  amount
    ///   initial_grant.tokens                      amount
    ///   min_reputation_to_evaluate                amount
    ///   types.KIND                                default (add or reset) | remove
    ///   types.KIND.fee                            amount of tokens
    ///   types.KIND.stake                          0..1
    ///   types.KIND.distribution                   0..1
    ///   types.KIND.fee_exponent                   above 0, at most 10
    ///   types.KIND.evaluator_fund                 amount of tokens
    ///   types.KIND.evaluation_set                 integers, strictly increasing: 0,1,2,3,4,5
    ///   types.KIND.reward                         median (set 0..5 and default tables)
    ///                                             | threshold (set 0,1; θ 0.5, factors 50, 5)
    ///   types.KIND.reward.median.token_value      amounts, one per value: 0,1,2,5,10,20
    ///   types.KIND.reward.median.reputation_value amounts, one per value: 0,1,2,4,7,10
    ///   types.KIND.reward.threshold.threshold     0..1
    ///   types.KIND.reward.threshold.token_factor  amount
    ///   types.KIND.reward.threshold.reputation_factor amount
    ///   types.KIND.sealed.commit_blocks           blocks (at least 1): seals the kind
    ///   types.KIND.sealed.reveal_blocks           blocks (at least 1): seals the kind
    ///   types.KIND.sealed                         none (open again)
    ///
    /// Setting a field of a kind that does not exist adds that kind with the defaults.
    #[command(
        verbatim_doc_comment,
        allow_negative_numbers = true,
        after_help = "Examples:\n  pov genesis set-param types.work.stake 0.03\n  pov genesis set-param types.care.evaluation_set 0,1,2,3\n  pov genesis set-param types.work.sealed.commit_blocks 20\n  pov genesis set-param admission open"
    )]
    SetParam {
        /// The parameter (see above).
        key: String,
        /// Its new value.
        value: String,
        /// The genesis file to edit.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Check a genesis file and list every problem, each naming its field.
    ///
    /// With --proofs, also re-checks the provenance of every member founded on a reputation
    /// proof: the proof (found in DIR by its hash) must verify against its source genesis
    /// and show the recorded member, height and reputation.
    #[command(
        after_help = "Examples:\n  pov genesis validate genesis.toml\n  pov genesis validate genesis.toml --proofs proofs/ --source-genesis old-coop.toml"
    )]
    Validate {
        /// The genesis TOML.
        #[arg(default_value = "genesis.toml")]
        file: PathBuf,
        /// A directory of proof files (*.json) to check provenance against.
        #[arg(long, value_name = "DIR")]
        proofs: Option<PathBuf>,
        /// A source cooperative's genesis (repeat for several).
        #[arg(long, value_name = "FILE", requires = "proofs")]
        source_genesis: Vec<PathBuf>,
    },
    /// Add a founding member whose reputation is carried over from another cooperative:
    /// the proven reputation times --scale, with its provenance (spec section 10).
    ///
    /// The proof is checked offline against the source genesis first. The member's key is
    /// the proven member's. Keep the proof file: `pov genesis validate --proofs DIR` checks
    /// the provenance against it, and anyone can audit it.
    #[command(
        after_help = "Example:\n  pov genesis import-member carl.proof.json --source-genesis old-coop.toml --scale 0.5 --tokens 20"
    )]
    ImportMember {
        /// The proof file.
        proof: PathBuf,
        /// The genesis of the cooperative the proof is from.
        #[arg(long, value_name = "FILE")]
        source_genesis: PathBuf,
        /// The factor applied to the proven reputation (a decimal, e.g. 0.5).
        #[arg(long)]
        scale: String,
        /// Display name [default: the member's name in the source cooperative].
        #[arg(long)]
        name: Option<String>,
        /// Starting tokens (tokens are not carried over).
        #[arg(long, default_value = "0")]
        tokens: String,
        /// The genesis file to edit.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Print a genesis with its hash (the chain's identity).
    #[command(after_help = "Examples:\n  pov genesis show genesis.toml\n  pov genesis show --dev")]
    Show {
        /// The genesis TOML to show.
        #[arg(conflicts_with = "dev", default_value = "genesis.toml")]
        file: PathBuf,
        /// Show the embedded development genesis instead.
        #[arg(long)]
        dev: bool,
    },
    /// Save the genesis a node runs (`--node`), to join its cooperative; check the printed
    /// hash against the one the organizer announced.
    #[command(
        after_help = "Example:\n  pov genesis fetch --node http://10.0.0.5:7070 && povd init --home ~/.povd --genesis genesis.toml"
    )]
    Fetch {
        /// The file to write.
        #[arg(long, short = 'g', default_value = "genesis.toml", value_name = "FILE")]
        genesis: PathBuf,
        /// Overwrite a different genesis already in FILE.
        #[arg(long)]
        force: bool,
    },
}

/// `pov show ...`
#[derive(Debug, Subcommand)]
pub enum ShowCommand {
    /// A member's reputation, tokens, share of all reputation, and recent history.
    #[command(
        after_help = "Examples:\n  pov show account carl\n  pov show account 5e1f...9c3d --output json"
    )]
    Account {
        /// A key name or an address.
        member: String,
    },
    /// A contribution: its evaluations, engaged share of reputation, median, what was minted.
    #[command(after_help = "Example:\n  pov show contribution 0")]
    Contribution {
        /// The contribution's id.
        id: u64,
    },
    /// A parameter proposal: its changes, the share of reputation that accepts it against
    /// the half that passes it, and whether it passed, when, and what it changed.
    #[command(after_help = "Example:\n  pov show proposal 3")]
    Proposal {
        /// The proposal's id (a contribution id).
        id: u64,
    },
    /// A final block: header, transactions, certificate.
    #[command(after_help = "Example:\n  pov show block 12")]
    Block {
        /// The height.
        height: u64,
    },
    /// A transaction: pending or final, and what it changed.
    #[command(after_help = "Example:\n  pov show tx 1a2b...9f")]
    Tx {
        /// The transaction hash.
        hash: String,
    },
    /// The cooperative's rules in force now: contribution kinds, fees, stake, reward tables,
    /// admission, governance; and for each, the proposal that set it (blank: the genesis).
    #[command(after_help = "Examples:\n  pov show params\n  pov show params --output json")]
    Params,
}

/// `pov list ...`
#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Members, by member id, with their names, reputation and tokens.
    #[command(after_help = "Examples:\n  pov list members\n  pov list members --output json")]
    Members {
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: u64,
    },
    /// Parameter proposals, oldest first, with where each stands.
    #[command(
        after_help = "Examples:\n  pov list proposals\n  pov list proposals --status open --output json"
    )]
    Proposals {
        /// Only those in this state.
        #[arg(long, value_parser = ["open", "passed", "applied", "void", "expired"])]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Contributions, oldest first.
    #[command(
        after_help = "Examples:\n  pov list contributions --open\n  pov list contributions --by carl --output json"
    )]
    Contributions {
        /// Only those that have not minted their top value's reward yet.
        #[arg(long)]
        open: bool,
        /// Only those of this contributor (a key name or an address).
        #[arg(long, value_name = "MEMBER")]
        by: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
}

/// `pov devnet ...`
#[derive(Debug, Subcommand)]
pub enum DevnetCommand {
    /// Write one `povd` home per validator (genesis, config, keys) for a local devnet on
    /// 127.0.0.1, and a `devnet.json` manifest of the nodes. Validators use the public dev
    /// validator keys and the members are the dev genesis's: never use it for value.
    #[command(
        after_help = "Example:\n  pov devnet init --validators 4 --dir devnet\n  povd --home devnet/node0   # and node1, node2, node3\n  pov devnet init --set types.work.sealed.commit_blocks=5 --set types.work.sealed.reveal_blocks=5"
    )]
    Init {
        /// How many validators (and homes), 1 to 100.
        #[arg(long, default_value_t = 4)]
        validators: u32,
        /// Where to write the homes and devnet.json (must be empty or absent).
        #[arg(long, default_value = "devnet", value_name = "DIR")]
        dir: PathBuf,
        /// First peer-to-peer port: node I listens on this + I.
        #[arg(long, default_value_t = 26656, value_name = "PORT")]
        p2p_port: u16,
        /// First API port: node I serves on this + I.
        #[arg(long, default_value_t = 7070, value_name = "PORT")]
        api_port: u16,
        /// The block interval written into each node's config.
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        block_time_ms: u64,
        /// Change a parameter of the dev genesis first, as `pov genesis set-param KEY VALUE`
        /// would (repeatable), e.g. `--set types.work.sealed.commit_blocks=5`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

/// `pov config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting in force and where it comes from.
    #[command(after_help = "Example:\n  pov config show")]
    Show,
    /// Set a key in the config file: node, chain_id, output, keystore, from.
    #[command(after_help = "Example:\n  pov config set node http://10.0.0.5:7070")]
    Set {
        /// The key.
        key: String,
        /// Its value.
        value: String,
    },
    /// Remove a key from the config file (its default applies again).
    #[command(after_help = "Example:\n  pov config unset node")]
    Unset {
        /// The key.
        key: String,
    },
    /// Print the config file's path.
    #[command(after_help = "Example:\n  pov config path")]
    Path,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        let has_example = cmd
            .get_after_help()
            .map(|h| h.to_string().contains("pov "))
            .unwrap_or(false);
        if !has_example {
            missing.push(path.clone());
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                check(sub, &path, missing);
            }
        }
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        check(&cmd, "", &mut missing);
        assert!(missing.is_empty(), "no example in --help: {missing:?}");
    }
}
