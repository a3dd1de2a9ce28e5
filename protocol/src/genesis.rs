//! The genesis (spec section 8): a cooperative's founding members, validators and parameters.
//!
//! Operators write it as TOML. It is parsed strictly (unknown keys, floats for amounts and
//! malformed values are errors that name the place), then validated as a whole so that every
//! problem is reported at once, each naming its field. The chain's identity is the blake3
//! hash of the parsed genesis's canonical bytes, so reformatting the TOML changes nothing.

use std::collections::BTreeSet;

use pov_crypto::{Address, Hash, Keypair};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::block::Parent;
use crate::params::{Params, RewardRule, TypeParams};
use crate::state::State;
use crate::validators::{Validator, ValidatorSet, ValidatorSetError};

/// A founding member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisMember {
    /// The member's public key (its address).
    pub public_key: Address,
    /// A display name, unique within the genesis.
    pub name: String,
    /// Starting reputation.
    pub reputation: Amount,
    /// Starting tokens.
    pub tokens: Amount,
    /// Where the founding reputation came from, when it was carried over from another
    /// cooperative with a reputation proof (spec section 10). The genesis hash covers it.
    #[serde(default)]
    pub provenance: Option<MemberProvenance>,
}

/// A founding member's reputation, proven in another cooperative and scaled (spec section
/// 10, portable reputation). `reputation` of the member must be `reputation × scale` of this
/// record; [`Genesis::check_provenance`] checks the rest against the proof itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberProvenance {
    /// The source cooperative's genesis hash.
    pub source_genesis: Hash,
    /// The height of the proven state.
    pub height: u64,
    /// The proof's hash ([`crate::proof::ReputationProof::hash`]).
    pub proof: Hash,
    /// The reputation the proof shows.
    pub reputation: Amount,
    /// The factor applied to it.
    pub scale: Amount,
}

impl MemberProvenance {
    /// The founding reputation this provenance gives: `reputation × scale`, rounded as every
    /// product (spec section 2).
    pub fn scaled(&self) -> Result<Amount, crate::AmountError> {
        self.reputation.checked_mul(self.scale)
    }
}

/// A validator named in the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The validator's consensus key.
    pub public_key: Address,
    /// Its voting power.
    pub power: u64,
    /// Where peers can reach it (a libp2p multiaddr), if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

/// A parsed genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The cooperative's name on the wire.
    pub chain_id: String,
    /// When the chain starts, in milliseconds since the Unix epoch (UTC).
    pub genesis_time_ms: u64,
    /// The rules.
    pub params: Params,
    /// Founding members.
    pub members: Vec<GenesisMember>,
    /// The validators, in proposer order.
    pub validators: Vec<GenesisValidator>,
}

/// The TOML form: the same fields with a TOML datetime for the start time.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisFile {
    chain_id: String,
    genesis_time: toml::value::Datetime,
    params: Params,
    #[serde(default)]
    members: Vec<GenesisMember>,
    #[serde(default)]
    validators: Vec<GenesisValidator>,
}

/// 9999-12-31T23:59:59.999Z in milliseconds since the Unix epoch: the last genesis time a
/// genesis file can hold (a TOML datetime has a four-digit year).
pub const LAST_GENESIS_TIME_MS: u64 = 253_402_300_799_999;

/// One thing wrong with a genesis.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct Problem {
    /// The field, as a path (`members[2].reputation`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a genesis cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// The TOML does not parse into a genesis (the message names line and key).
    #[error("genesis does not parse: {0}")]
    Parse(String),
    /// It parses, but breaks rules; every problem found is listed.
    #[error("genesis is invalid:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

fn problem(out: &mut Vec<Problem>, field: impl Into<String>, message: impl Into<String>) {
    out.push(Problem {
        field: field.into(),
        message: message.into(),
    });
}

impl Genesis {
    /// Parses and validates a genesis TOML.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        let genesis = Genesis::parse_toml(text)?;
        let problems = genesis.validate();
        if !problems.is_empty() {
            return Err(GenesisError::Invalid(problems));
        }
        Ok(genesis)
    }

    /// Parses a genesis TOML without the semantic checks (for editing tools that must load
    /// a file in progress).
    pub fn parse_toml(text: &str) -> Result<Genesis, GenesisError> {
        let file: GenesisFile =
            toml::from_str(text).map_err(|e| GenesisError::Parse(e.to_string()))?;
        let genesis_time_ms = datetime_to_ms(&file.genesis_time)
            .map_err(|m| GenesisError::Parse(format!("genesis_time: {m}")))?;
        Ok(Genesis {
            chain_id: file.chain_id,
            genesis_time_ms,
            params: file.params,
            members: file.members,
            validators: file.validators,
        })
    }

    /// The genesis as TOML (what `pov genesis` writes).
    pub fn to_toml(&self) -> String {
        let file = GenesisFile {
            chain_id: self.chain_id.clone(),
            genesis_time: ms_to_datetime(self.genesis_time_ms),
            params: self.params.clone(),
            members: self.members.clone(),
            validators: self.validators.clone(),
        };
        toml::to_string_pretty(&file).unwrap_or_default()
    }

    /// The chain's identity: blake3 of the genesis's canonical bytes.
    pub fn hash(&self) -> Hash {
        pov_crypto::hash(&crate::codec::encode(self))
    }

    /// The validator set the genesis names, in its order (the proposer rotation).
    ///
    /// Fails only for a genesis that [`Genesis::validate`] would reject (no validator, a
    /// duplicate, zero power, a total above 2^64 - 1).
    pub fn validator_set(&self) -> Result<ValidatorSet, ValidatorSetError> {
        ValidatorSet::new(
            self.validators
                .iter()
                .map(|v| Validator {
                    address: v.public_key,
                    power: v.power,
                })
                .collect(),
        )
    }

    /// What block 1 builds on: height 0, the genesis hash, the genesis time.
    pub fn parent(&self) -> Parent {
        Parent {
            height: 0,
            hash: self.hash(),
            time_ms: self.genesis_time_ms,
        }
    }

    /// The state before block 1.
    pub fn state(&self) -> Result<State, GenesisError> {
        let problems = self.validate();
        if !problems.is_empty() {
            return Err(GenesisError::Invalid(problems));
        }
        let mut state = State::new(self.chain_id.clone(), self.params.clone());
        state.set_genesis_hash(self.hash());
        for (i, m) in self.members.iter().enumerate() {
            state
                .add_founding_member(m.public_key, m.name.clone(), m.reputation, m.tokens)
                .map_err(|e| {
                    GenesisError::Invalid(vec![Problem {
                        field: format!("members[{i}]"),
                        message: e.to_string(),
                    }])
                })?;
        }
        Ok(state)
    }

    /// Every rule the genesis breaks, each naming its field. Empty when valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        validate_chain_id(&self.chain_id, &mut out);
        if self.genesis_time_ms > LAST_GENESIS_TIME_MS {
            // Only a genesis built in code or read from JSON can get here; its TOML could not
            // be written.
            problem(
                &mut out,
                "genesis_time",
                format!(
                    "{} ms after 1970 is later than 9999-12-31T23:59:59.999Z, the last time a \
                     genesis file can hold",
                    self.genesis_time_ms
                ),
            );
        }
        check_params(&self.params, &mut out);
        let mut keys = BTreeSet::new();
        let mut names = BTreeSet::new();
        if self.members.is_empty() {
            problem(
                &mut out,
                "members",
                "a cooperative needs at least one member",
            );
        }
        let mut total_rep = Amount::ZERO;
        let mut total_tokens = Amount::ZERO;
        for (i, m) in self.members.iter().enumerate() {
            let at = format!("members[{i}]");
            if let Err(e) = m.public_key.verifying_key() {
                problem(&mut out, format!("{at}.public_key"), e.to_string());
            }
            if !keys.insert(m.public_key) {
                problem(
                    &mut out,
                    format!("{at}.public_key"),
                    format!("duplicate member {}", m.public_key),
                );
            }
            if m.name.len() > crate::tx::MAX_NAME_BYTES {
                problem(
                    &mut out,
                    format!("{at}.name"),
                    format!("is {} bytes, more than the 64 allowed", m.name.len()),
                );
            }
            if let Err(reason) = crate::tx::check_member_name(&m.name) {
                problem(&mut out, format!("{at}.name"), reason);
            }
            if !m.name.is_empty() && !names.insert(m.name.clone()) {
                problem(
                    &mut out,
                    format!("{at}.name"),
                    format!("duplicate member name {:?}", m.name),
                );
            }
            non_negative(&mut out, format!("{at}.reputation"), m.reputation);
            non_negative(&mut out, format!("{at}.tokens"), m.tokens);
            if let Some(p) = &m.provenance {
                check_provenance_record(&mut out, &at, m, p);
            }
            match (
                total_rep.checked_add(m.reputation),
                total_tokens.checked_add(m.tokens),
            ) {
                (Ok(r), Ok(t)) => {
                    total_rep = r;
                    total_tokens = t;
                }
                _ => problem(&mut out, at, "total reputation or tokens overflow"),
            }
        }
        if self.validators.is_empty() {
            problem(
                &mut out,
                "validators",
                "at least one validator is needed to produce blocks",
            );
        }
        let mut vkeys = BTreeSet::new();
        let mut power: u128 = 0;
        for (i, v) in self.validators.iter().enumerate() {
            let at = format!("validators[{i}]");
            if let Err(e) = v.public_key.verifying_key() {
                problem(&mut out, format!("{at}.public_key"), e.to_string());
            }
            if !vkeys.insert(v.public_key) {
                problem(
                    &mut out,
                    format!("{at}.public_key"),
                    format!("duplicate validator {}", v.public_key),
                );
            }
            if v.power == 0 {
                problem(&mut out, format!("{at}.power"), "must be at least 1");
            }
            power += u128::from(v.power);
            if let Some(addr) = &v.addr {
                if !addr.starts_with('/') {
                    problem(
                        &mut out,
                        format!("{at}.addr"),
                        format!("{addr:?} is not a multiaddr (like /ip4/127.0.0.1/tcp/26656)"),
                    );
                }
            }
        }
        if power > u128::from(u64::MAX) {
            problem(&mut out, "validators", "total power exceeds 2^64 - 1");
        }
        out
    }

    /// The embedded development genesis: four members with well-known dev keys and one
    /// validator, for `povd --dev` and the tests. Its keys are public: never use it for value.
    pub fn dev() -> Genesis {
        let members = [("alice", 40), ("bob", 30), ("carol", 20), ("dave", 10)]
            .iter()
            .enumerate()
            .map(|(i, (name, rep))| GenesisMember {
                public_key: Keypair::dev(i as u32).address(),
                name: (*name).to_string(),
                reputation: Amount::from_int(*rep),
                tokens: Amount::from_int(100),
                provenance: None,
            })
            .collect();
        Genesis {
            chain_id: "pov-devnet".to_string(),
            // 2026-01-01T00:00:00Z
            genesis_time_ms: 1_767_225_600_000,
            params: Params::default(),
            members,
            validators: vec![GenesisValidator {
                public_key: dev_validator_key(0).address(),
                power: 1,
                addr: None,
            }],
        }
    }
}

/// The dev validator key number `i` (distinct from the dev member keys).
pub fn dev_validator_key(i: u32) -> Keypair {
    Keypair::dev(1000 + i)
}

/// What a provenance record must satisfy without its proof: a positive height, a
/// non-negative scale and proven reputation, and a founding reputation that is exactly the
/// proven one times the scale.
fn check_provenance_record(
    out: &mut Vec<Problem>,
    at: &str,
    m: &GenesisMember,
    p: &MemberProvenance,
) {
    if p.height == 0 {
        problem(
            out,
            format!("{at}.provenance.height"),
            "must be at least 1 (proofs are of finalized blocks)",
        );
    }
    non_negative(out, format!("{at}.provenance.scale"), p.scale);
    non_negative(out, format!("{at}.provenance.reputation"), p.reputation);
    match p.scaled() {
        Ok(scaled) if scaled == m.reputation => {}
        Ok(scaled) => problem(
            out,
            format!("{at}.reputation"),
            format!(
                "{} is not the proven reputation times the scale ({} × {} = {scaled})",
                m.reputation, p.reputation, p.scale
            ),
        ),
        Err(e) => problem(out, format!("{at}.provenance"), e.to_string()),
    }
}

impl Genesis {
    /// Checks every member's provenance against the proofs and the source cooperatives'
    /// genesis files (spec section 10): the proof named by hash is among `proofs`, verifies
    /// against the source genesis named by hash, is of this member's key, and shows the
    /// recorded height and reputation. Every mismatch is reported by field; members without
    /// provenance are not concerned.
    pub fn check_provenance(
        &self,
        proofs: &[crate::proof::ReputationProof],
        sources: &[Genesis],
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        let by_hash: std::collections::BTreeMap<Hash, &crate::proof::ReputationProof> =
            proofs.iter().map(|p| (p.hash(), p)).collect();
        for (i, m) in self.members.iter().enumerate() {
            let Some(p) = &m.provenance else {
                continue;
            };
            let at = format!("members[{i}]");
            let Some(source) = sources.iter().find(|g| g.hash() == p.source_genesis) else {
                problem(
                    &mut out,
                    format!("{at}.provenance.source_genesis"),
                    format!(
                        "no source genesis given has hash {} (pass it with --source-genesis)",
                        p.source_genesis
                    ),
                );
                continue;
            };
            let Some(proof) = by_hash.get(&p.proof) else {
                problem(
                    &mut out,
                    format!("{at}.provenance.proof"),
                    format!("no proof given has hash {}", p.proof),
                );
                continue;
            };
            let proven = match proof.verify(source) {
                Ok(s) => s,
                Err(e) => {
                    problem(
                        &mut out,
                        format!("{at}.provenance.proof"),
                        format!("the proof does not verify: {e}"),
                    );
                    continue;
                }
            };
            if proven.member != m.public_key {
                problem(
                    &mut out,
                    format!("{at}.public_key"),
                    format!("the proof is of member {}, not of this key", proven.member),
                );
            }
            if proven.height != p.height {
                problem(
                    &mut out,
                    format!("{at}.provenance.height"),
                    format!(
                        "{} recorded, the proof is of height {}",
                        p.height, proven.height
                    ),
                );
            }
            if proven.reputation != p.reputation {
                problem(
                    &mut out,
                    format!("{at}.provenance.reputation"),
                    format!(
                        "{} recorded, the proof shows {}",
                        p.reputation, proven.reputation
                    ),
                );
            }
        }
        out
    }
}

fn validate_chain_id(id: &str, out: &mut Vec<Problem>) {
    if id.is_empty() || id.len() > 64 {
        problem(out, "chain_id", "must be 1 to 64 characters");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
    {
        problem(
            out,
            "chain_id",
            format!("{id:?} may only use a-z, 0-9, '-', '_' and '.'"),
        );
    }
}

fn non_negative(out: &mut Vec<Problem>, field: String, value: Amount) {
    if value.is_negative() {
        problem(out, field, format!("{value} is negative"));
    }
}

fn fraction(out: &mut Vec<Problem>, field: String, value: Amount) {
    if value.is_negative() || value > Amount::ONE {
        problem(out, field, format!("{value} must be between 0 and 1"));
    }
}

/// Every rule a set of parameters breaks, each naming its field (`params.…`). A parameter
/// proposal is refused when the parameters it would produce have any (spec section 11).
pub fn validate_params(p: &Params) -> Vec<Problem> {
    let mut out = Vec::new();
    check_params(p, &mut out);
    out
}

/// Most values an evaluation set may have: each evaluation walks the set, so its size is
/// work that a parameter proposal could otherwise inflate without bound.
pub const MAX_EVALUATION_SET: usize = 256;

fn check_params(p: &Params, out: &mut Vec<Problem>) {
    if p.types.is_empty() {
        problem(
            out,
            "params.types",
            "at least one contribution type is needed",
        );
    }
    for (kind, t) in &p.types {
        validate_type(kind, t, out);
    }
    fraction(out, "params.referral_fraction".into(), p.referral_fraction);
    non_negative(
        out,
        "params.initial_grant.reputation".into(),
        p.initial_grant.reputation,
    );
    non_negative(
        out,
        "params.initial_grant.tokens".into(),
        p.initial_grant.tokens,
    );
    non_negative(
        out,
        "params.min_reputation_to_evaluate".into(),
        p.min_reputation_to_evaluate,
    );
    let g = &p.governance;
    non_negative(out, "params.governance.fee".into(), g.fee);
    fraction(out, "params.governance.stake".into(), g.stake);
    fraction(out, "params.governance.distribution".into(), g.distribution);
    exponent(out, "params.governance.fee_exponent".into(), g.fee_exponent);
    if g.expiry_blocks == 0 {
        problem(
            out,
            "params.governance.expiry_blocks",
            "must be at least 1 (a proposal needs a block to be evaluated in)",
        );
    }
}

fn exponent(out: &mut Vec<Problem>, field: String, value: Amount) {
    if value <= Amount::ZERO || value > Amount::from_int(10) {
        problem(
            out,
            field,
            format!("{value} must be above 0 and at most 10"),
        );
    }
}

fn validate_type(kind: &str, t: &TypeParams, out: &mut Vec<Problem>) {
    let at = format!("params.types.{kind}");
    if kind.is_empty() || kind.len() > crate::tx::MAX_KIND_BYTES {
        problem(out, at.clone(), "type names must be 1 to 64 bytes");
    }
    if kind.contains('.') {
        problem(
            out,
            at.clone(),
            "type names may not contain '.' (parameter paths use it: types.<kind>.fee)",
        );
    }
    if kind == crate::params::GOVERNANCE_KIND {
        problem(
            out,
            at.clone(),
            "the kind `governance` is reserved for parameter proposals",
        );
    }
    non_negative(out, format!("{at}.fee"), t.fee);
    fraction(out, format!("{at}.stake"), t.stake);
    fraction(out, format!("{at}.distribution"), t.distribution);
    non_negative(out, format!("{at}.evaluator_fund"), t.evaluator_fund);
    exponent(out, format!("{at}.fee_exponent"), t.fee_exponent);
    if let Some(sealed) = &t.sealed {
        for (name, blocks) in [
            ("commit_blocks", sealed.commit_blocks),
            ("reveal_blocks", sealed.reveal_blocks),
        ] {
            if blocks == 0 || blocks > crate::params::MAX_SEALED_WINDOW {
                problem(
                    out,
                    format!("{at}.sealed.{name}"),
                    format!(
                        "{blocks} must be at least 1 and at most {} (a window needs a block)",
                        crate::params::MAX_SEALED_WINDOW
                    ),
                );
            }
        }
    }
    let set = &t.evaluation_set;
    if set.len() > MAX_EVALUATION_SET {
        problem(
            out,
            format!("{at}.evaluation_set"),
            format!(
                "has {} values, at most {MAX_EVALUATION_SET} are allowed",
                set.len()
            ),
        );
    }
    if set.len() < 2 {
        problem(
            out,
            format!("{at}.evaluation_set"),
            "needs at least two values",
        );
    }
    if let Some(w) = set.windows(2).find(|w| w[0] >= w[1]) {
        problem(
            out,
            format!("{at}.evaluation_set"),
            format!(
                "must be strictly increasing ({} is followed by {})",
                w[0], w[1]
            ),
        );
    }
    match &t.reward {
        RewardRule::Threshold {
            threshold,
            token_factor,
            reputation_factor,
        } => {
            if set.len() != 2 {
                problem(
                    out,
                    format!("{at}.reward.threshold"),
                    "the threshold rule needs a binary evaluation set (two values)",
                );
            }
            fraction(out, format!("{at}.reward.threshold.threshold"), *threshold);
            non_negative(
                out,
                format!("{at}.reward.threshold.token_factor"),
                *token_factor,
            );
            non_negative(
                out,
                format!("{at}.reward.threshold.reputation_factor"),
                *reputation_factor,
            );
        }
        RewardRule::Median {
            token_value,
            reputation_value,
        } => {
            for (name, table) in [
                ("token_value", token_value),
                ("reputation_value", reputation_value),
            ] {
                let field = format!("{at}.reward.median.{name}");
                if table.len() != set.len() {
                    problem(
                        out,
                        field.clone(),
                        format!(
                            "has {} entries, the evaluation set has {}",
                            table.len(),
                            set.len()
                        ),
                    );
                }
                if let Some(first) = table.first() {
                    if !first.is_zero() {
                        problem(
                            out,
                            field.clone(),
                            format!("the lowest value's entry must be 0, not {first}"),
                        );
                    }
                }
                if let Some(w) = table.windows(2).find(|w| w[0] > w[1]) {
                    problem(
                        out,
                        field.clone(),
                        format!("must be non-decreasing ({} is followed by {})", w[0], w[1]),
                    );
                }
                for (i, v) in table.iter().enumerate() {
                    non_negative(out, format!("{field}[{i}]"), *v);
                }
            }
        }
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's
/// well-known algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn datetime_to_ms(dt: &toml::value::Datetime) -> Result<u64, String> {
    let date = dt
        .date
        .ok_or("must be a date and time, like 2026-01-01T00:00:00Z")?;
    let time = dt.time.unwrap_or(toml::value::Time {
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
    });
    let offset_minutes: i64 = match dt.offset {
        Some(toml::value::Offset::Z) => 0,
        Some(toml::value::Offset::Custom { minutes }) => i64::from(minutes),
        None => return Err("needs a UTC offset (end it with Z)".into()),
    };
    let days = days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    let secs = days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second)
        - offset_minutes * 60;
    let ms = secs * 1000 + i64::from(time.nanosecond / 1_000_000);
    u64::try_from(ms).map_err(|_| "must not be before 1970".to_string())
}

/// Milliseconds since the Unix epoch as the genesis file writes them (RFC 3339 in UTC,
/// `2026-03-01T00:00:00Z`), for messages and logs.
pub fn time_text(ms: u64) -> String {
    ms_to_datetime(ms).to_string()
}

fn ms_to_datetime(ms: u64) -> toml::value::Datetime {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    toml::value::Datetime {
        date: Some(toml::value::Date {
            year: y as u16,
            month: m as u8,
            day: d as u8,
        }),
        time: Some(toml::value::Time {
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            nanosecond: (ms % 1000) as u32 * 1_000_000,
        }),
        offset: Some(toml::value::Offset::Z),
    }
}
