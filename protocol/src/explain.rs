//! Explanations a member can read: a member's balance changes grouped by contribution and
//! by rule, with exact totals that add up to the balance.
//!
//! A member of a busy cooperative receives one redistribution per later aligned evaluation:
//! after 30 contributions in a 1,000-member cooperative that is some 13,000 lines, which no
//! one reads. Grouped, the same changes are a few lines per contribution ("staked 0.21
//! reputation when you evaluated it 4; 412 later evaluators who agreed with you added
//! 3.87"), and a bounded number of contributions is listed, the rest summed into one line.
//!
//! The grouping is computed here, once, over [`Event`]s: the node's API serves it
//! (`GET /accounts/{address}/explain`) and both `pov explain` and the web explorer render
//! that. Every figure is an exact sum of events, so `opening + changes = closing` holds to
//! the last digit, per asset, and so do the parts: listed contributions, the other
//! contributions and the changes tied to no contribution add up to the totals by rule.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::amount::{Amount, AmountError};
use crate::events::{Asset, Event, Rule};
use crate::params::EvalValue;
use crate::state::{ContributionId, MemberId, State};

/// A member's two balances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    /// Reputation.
    pub reputation: Amount,
    /// Tokens.
    pub tokens: Amount,
}

impl Balances {
    fn add(&mut self, asset: Asset, amount: Amount) -> Result<(), AmountError> {
        let slot = match asset {
            Asset::Reputation => &mut self.reputation,
            Asset::Tokens => &mut self.tokens,
        };
        *slot = slot.checked_add(amount)?;
        Ok(())
    }
}

/// The changes one rule made to one asset: how many, and their exact sum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTotal {
    /// The rule.
    pub rule: Rule,
    /// The asset it changed.
    pub asset: Asset,
    /// How many changes (for a redistribution: how many later evaluations shared their
    /// stake with this member).
    pub count: u64,
    /// Their sum (signed).
    pub total: Amount,
}

/// Everything that happened to a member's balances through one contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionPart {
    /// The contribution.
    pub id: ContributionId,
    /// Its title (as the chain holds it: escape it before showing it in a page).
    pub title: String,
    /// Whether the member submitted it.
    pub contributor: bool,
    /// The member's live evaluation of it, if any.
    pub value: Option<EvalValue>,
    /// The changes, by rule and asset (in [`Rule`] order).
    pub rules: Vec<RuleTotal>,
    /// Their net effect.
    pub net: Balances,
}

/// The contributions not listed one by one, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherContributions {
    /// How many contributions.
    pub contributions: u64,
    /// Their changes, by rule and asset.
    pub rules: Vec<RuleTotal>,
    /// Their net effect.
    pub net: Balances,
}

/// A member's balance changes over a span of blocks, grouped for reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The member.
    #[serde(rename = "member_id")]
    pub member: MemberId,
    /// The balances before the first change counted.
    pub opening: Balances,
    /// The balances after the last: `opening` plus every change.
    pub closing: Balances,
    /// How many changes were counted (the lines `--full` lists).
    pub changes: u64,
    /// Every change, by rule and asset: these add up to `closing - opening`.
    pub by_rule: Vec<RuleTotal>,
    /// The contributions with the largest effect, at most the limit asked for, by id.
    pub contributions: Vec<ContributionPart>,
    /// The other contributions the member's balances changed through, summed.
    pub other_contributions: OtherContributions,
    /// Changes tied to no contribution (admission grants, transfers), by rule and asset.
    pub unattached: Vec<RuleTotal>,
}

type Totals = BTreeMap<(Rule, Asset), (u64, Amount)>;

fn add_to(
    totals: &mut Totals,
    rule: Rule,
    asset: Asset,
    count: u64,
    amount: Amount,
) -> Result<(), AmountError> {
    let slot = totals.entry((rule, asset)).or_insert((0, Amount::ZERO));
    slot.0 = slot.0.saturating_add(count);
    slot.1 = slot.1.checked_add(amount)?;
    Ok(())
}

fn rule_totals(totals: &Totals) -> Vec<RuleTotal> {
    totals
        .iter()
        .map(|(&(rule, asset), &(count, total))| RuleTotal {
            rule,
            asset,
            count,
            total,
        })
        .collect()
}

fn net_of(totals: &Totals) -> Result<Balances, AmountError> {
    let mut net = Balances::default();
    for (&(_, asset), &(_, total)) in totals {
        net.add(asset, total)?;
    }
    Ok(net)
}

/// Collects one member's events, in any number, into the few sums an [`Explanation`] shows.
///
/// Memory grows with the number of contributions the member's balances changed through, not
/// with the number of events.
#[derive(Debug, Clone)]
pub struct Explainer {
    member: MemberId,
    net: Balances,
    changes: u64,
    by_contribution: BTreeMap<ContributionId, Totals>,
    unattached: Totals,
}

impl Explainer {
    /// Starts an explanation of `member`'s changes.
    pub fn new(member: MemberId) -> Explainer {
        Explainer {
            member,
            net: Balances::default(),
            changes: 0,
            by_contribution: BTreeMap::new(),
            unattached: Totals::new(),
        }
    }

    /// Counts one change; events of other members are ignored.
    pub fn add(&mut self, event: &Event) -> Result<(), AmountError> {
        if event.member != self.member {
            return Ok(());
        }
        self.net.add(event.asset, event.amount)?;
        self.changes = self.changes.saturating_add(1);
        let totals = match event.contribution {
            Some(id) => self.by_contribution.entry(id).or_default(),
            None => &mut self.unattached,
        };
        add_to(totals, event.rule, event.asset, 1, event.amount)
    }

    /// The explanation of the changes added, which took the member's balances from
    /// `opening` to `opening` plus their sum. It lists at most `limit` contributions one by
    /// one: those whose reputation (then tokens) changed most, in absolute value, the newest
    /// first on a tie; listed by id. Titles and the member's own evaluations are read from
    /// `state`.
    pub fn finish(
        self,
        opening: Balances,
        state: &State,
        limit: usize,
    ) -> Result<Explanation, AmountError> {
        let closing = Balances {
            reputation: opening.reputation.checked_add(self.net.reputation)?,
            tokens: opening.tokens.checked_add(self.net.tokens)?,
        };
        let mut parts = Vec::with_capacity(self.by_contribution.len());
        let mut by_rule = self.unattached.clone();
        for (id, totals) in self.by_contribution {
            for (&(rule, asset), &(count, total)) in &totals {
                add_to(&mut by_rule, rule, asset, count, total)?;
            }
            let net = net_of(&totals)?;
            parts.push((id, totals, net));
        }
        // Largest effect first, to choose which to list.
        parts.sort_by(|a, b| {
            b.2.reputation
                .mantissa()
                .unsigned_abs()
                .cmp(&a.2.reputation.mantissa().unsigned_abs())
                .then_with(|| {
                    b.2.tokens
                        .mantissa()
                        .unsigned_abs()
                        .cmp(&a.2.tokens.mantissa().unsigned_abs())
                })
                .then_with(|| b.0.cmp(&a.0))
        });
        let rest = parts.split_off(limit.min(parts.len()));
        parts.sort_by_key(|p| p.0);
        let contributions = parts
            .into_iter()
            .map(|(id, totals, net)| {
                let c = state.contribution(id);
                ContributionPart {
                    id,
                    title: c.map(|c| c.title.clone()).unwrap_or_default(),
                    contributor: c.is_some_and(|c| c.contributor == self.member),
                    value: c.and_then(|c| {
                        c.evaluations
                            .iter()
                            .find(|e| e.member == self.member)
                            .map(|e| e.value)
                    }),
                    rules: rule_totals(&totals),
                    net,
                }
            })
            .collect();
        let mut other = Totals::new();
        for (_, totals, _) in &rest {
            for (&(rule, asset), &(count, total)) in totals {
                add_to(&mut other, rule, asset, count, total)?;
            }
        }
        Ok(Explanation {
            member: self.member,
            opening,
            closing,
            changes: self.changes,
            by_rule: rule_totals(&by_rule),
            contributions,
            other_contributions: OtherContributions {
                contributions: rest.len() as u64,
                rules: rule_totals(&other),
                net: net_of(&other)?,
            },
            unattached: rule_totals(&self.unattached),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sum(rules: &[RuleTotal], asset: Asset) -> Amount {
        Amount::sum(rules.iter().filter(|r| r.asset == asset).map(|r| r.total)).unwrap()
    }

    fn event(rule: Rule, asset: Asset, amount: i64, contribution: Option<u64>) -> Event {
        Event {
            rule,
            member: 1,
            asset,
            amount: Amount::from_mantissa(i128::from(amount)).unwrap(),
            contribution,
        }
    }

    const RULES: [Rule; 8] = [
        Rule::Fee,
        Rule::Stake,
        Rule::Redistribution,
        Rule::Referral,
        Rule::ContributorReward,
        Rule::EvaluatorFund,
        Rule::Transfer,
        Rule::Admission,
    ];

    proptest! {
        /// Whatever the events and the limit, the figures add up: opening plus the totals
        /// by rule is the closing balance, and the listed contributions, the others and the
        /// unattached changes add up to the totals by rule, count and amount.
        #[test]
        fn parts_add_up_to_the_totals_and_the_balance(
            raw in proptest::collection::vec(
                (0usize..8, any::<bool>(), -1_000_000_000i64..1_000_000_000, proptest::option::of(0u64..12), 0u32..3),
                0..200,
            ),
            limit in 0usize..15,
            opening_rep in 0i64..1_000_000,
        ) {
            let opening = Balances { reputation: Amount::from_int(opening_rep), tokens: Amount::from_int(7) };
            let state = crate::genesis::Genesis::dev().state().unwrap();
            let mut explainer = Explainer::new(1);
            let mut expected = opening;
            let mut mine = 0u64;
            for &(rule, tokens, amount, contribution, member) in &raw {
                let asset = if tokens { Asset::Tokens } else { Asset::Reputation };
                let mut e = event(RULES[rule], asset, amount, contribution);
                e.member = member;
                if member == 1 {
                    expected.add(asset, e.amount).unwrap();
                    mine += 1;
                }
                explainer.add(&e).unwrap();
            }
            let x = explainer.finish(opening, &state, limit).unwrap();
            prop_assert_eq!(x.closing, expected);
            prop_assert_eq!(x.changes, mine);
            for asset in [Asset::Reputation, Asset::Tokens] {
                let opening = if asset == Asset::Reputation { x.opening.reputation } else { x.opening.tokens };
                let closing = if asset == Asset::Reputation { x.closing.reputation } else { x.closing.tokens };
                prop_assert_eq!(opening.checked_add(sum(&x.by_rule, asset)).unwrap(), closing);
            }
            prop_assert!(x.contributions.len() <= limit);
            prop_assert!(x.contributions.windows(2).all(|w| w[0].id < w[1].id));
            let mut parts = Totals::new();
            for r in x.contributions.iter().flat_map(|c| &c.rules)
                .chain(&x.other_contributions.rules)
                .chain(&x.unattached)
            {
                add_to(&mut parts, r.rule, r.asset, r.count, r.total).unwrap();
            }
            prop_assert_eq!(rule_totals(&parts), x.by_rule.clone());
            prop_assert_eq!(
                x.contributions.iter().map(|c| c.rules.iter().map(|r| r.count).sum::<u64>()).sum::<u64>()
                    + x.other_contributions.rules.iter().map(|r| r.count).sum::<u64>()
                    + x.unattached.iter().map(|r| r.count).sum::<u64>(),
                mine
            );
        }
    }

    #[test]
    fn the_contributions_with_the_largest_effect_are_listed_and_the_rest_summed() {
        let state = crate::genesis::Genesis::dev().state().unwrap();
        let mut x = Explainer::new(1);
        for (id, amount) in [(0, 5), (1, -90), (2, 40), (3, 1)] {
            x.add(&event(
                Rule::Redistribution,
                Asset::Reputation,
                amount,
                Some(id),
            ))
            .unwrap();
        }
        x.add(&event(Rule::Redistribution, Asset::Reputation, 3, Some(0)))
            .unwrap();
        x.add(&event(Rule::Transfer, Asset::Tokens, 25, None))
            .unwrap();
        let x = x.finish(Balances::default(), &state, 2).unwrap();
        let listed: Vec<_> = x.contributions.iter().map(|c| c.id).collect();
        assert_eq!(listed, vec![1, 2], "largest absolute effects, by id");
        assert_eq!(x.other_contributions.contributions, 2);
        assert_eq!(
            x.other_contributions.rules,
            vec![RuleTotal {
                rule: Rule::Redistribution,
                asset: Asset::Reputation,
                count: 3,
                total: Amount::from_mantissa(9).unwrap(),
            }]
        );
        assert_eq!(x.unattached.len(), 1);
        assert_eq!(x.changes, 6);
    }
}
