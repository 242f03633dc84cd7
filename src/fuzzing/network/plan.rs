//! The fuzzer's plan: which flows type an identifier, and for each beneficiary (in a seeded order)
//! its baseline login then mutated identifiers and wrong passwords. Pure: sends nothing.

use crate::fuzzing::mutate::{IdentifierKind, Mutation};
use crate::population::{Beneficiary, OwnerId, Population};
use crate::scenario::LoginFlow;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Mutated attempts per beneficiary and flow, after its baseline.
pub(super) const MUTATIONS_PER_LOGIN: usize = 6;

/// What a password attempt sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Password {
    Own,
    /// Another beneficiary's password.
    Other(OwnerId),
    Empty,
    /// The own password without its last character.
    Truncated,
    /// The own password with its case flipped.
    CaseFlipped,
}

impl Password {
    pub(super) fn value(self, owner: &Beneficiary, population: &Population) -> String {
        match self {
            Password::Own => owner.password.clone(),
            Password::Other(other) => population
                .get(other)
                .map_or_else(String::new, |b| b.password.clone()),
            Password::Empty => String::new(),
            Password::Truncated => {
                let mut p = owner.password.clone();
                p.pop();
                p
            }
            Password::CaseFlipped => owner
                .password
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect(),
        }
    }

    pub(super) fn label(self) -> String {
        match self {
            Password::Own => "own password".into(),
            Password::Other(other) => format!("owner {other}'s password"),
            Password::Empty => "an empty password".into(),
            Password::Truncated => "its password cut short".into(),
            Password::CaseFlipped => "its password with the case flipped".into(),
        }
    }
}

/// One planned login attempt.
#[derive(Clone, Copy, Debug)]
pub(super) struct Attempt {
    pub(super) owner: OwnerId,
    pub(super) flow: usize,
    pub(super) mutation: Mutation,
    pub(super) password: Password,
    pub(super) baseline: bool,
}

/// A login flow the fuzzer can drive: it types an identifier in one of its steps.
pub(super) struct Fuzzable<'a> {
    pub(super) flow: &'a LoginFlow,
    pub(super) kind: IdentifierKind,
}

/// The flows that type an identifier, with the identifier each types.
pub(super) fn fuzzable(flows: &[LoginFlow]) -> Vec<Fuzzable<'_>> {
    flows
        .iter()
        .filter_map(|flow| {
            let kind = flow
                .steps
                .iter()
                .flat_map(|s| s.request.templates())
                .flat_map(|t| t.variables())
                .find_map(IdentifierKind::of_variable)?;
            Some(Fuzzable { flow, kind })
        })
        .collect()
}

/// The attempts, in order: for each beneficiary (in a seeded order) and each flow, the baseline
/// then [`MUTATIONS_PER_LOGIN`] mutations, one in four a wrong password.
pub(super) fn plan(population: &Population, flows: usize, seed: u64, max: usize) -> Vec<Attempt> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut owners: Vec<OwnerId> = population.iter().map(|b| b.id).collect();
    owners.shuffle(&mut rng);
    let mut attempts = Vec::new();
    'all: for owner in owners {
        for flow in 0..flows {
            for index in 0..=MUTATIONS_PER_LOGIN {
                if attempts.len() >= max {
                    break 'all;
                }
                let attempt = if index == 0 {
                    Attempt {
                        owner,
                        flow,
                        mutation: Mutation::Unchanged,
                        password: Password::Own,
                        baseline: true,
                    }
                } else if rng.random_range(0..4) == 0 {
                    let other = population.beneficiaries[rng.random_range(0..population.len())].id;
                    let password = match rng.random_range(0..4) {
                        0 if other != owner => Password::Other(other),
                        0 | 1 => Password::Empty,
                        2 => Password::Truncated,
                        _ => Password::CaseFlipped,
                    };
                    Attempt {
                        owner,
                        flow,
                        mutation: Mutation::Unchanged,
                        password,
                        baseline: false,
                    }
                } else {
                    let menu = &Mutation::MENU[1..];
                    Attempt {
                        owner,
                        flow,
                        mutation: menu[rng.random_range(0..menu.len())],
                        password: Password::Own,
                        baseline: false,
                    }
                };
                attempts.push(attempt);
            }
        }
    }
    attempts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::GenerateOptions;

    #[test]
    fn the_plan_starts_each_login_with_its_baseline_and_stops_at_the_bound() {
        let population = Population::generate(&GenerateOptions {
            size: 30,
            seed: 1,
            ..GenerateOptions::default()
        })
        .expect("population");
        let attempts = plan(&population, 2, 9, 100);
        assert_eq!(attempts.len(), 100);
        for chunk in attempts.chunks(MUTATIONS_PER_LOGIN + 1) {
            assert!(chunk[0].baseline);
            assert_eq!(chunk[0].mutation, Mutation::Unchanged);
            assert_eq!(chunk[0].password, Password::Own);
            assert!(chunk[1..]
                .iter()
                .all(|a| !a.baseline && a.owner == chunk[0].owner));
        }
        assert!(attempts.iter().any(|a| a.password != Password::Own));
        assert!(attempts.iter().any(|a| a.mutation != Mutation::Unchanged));
        // The same seed, the same plan.
        let again = plan(&population, 2, 9, 100);
        assert!(attempts
            .iter()
            .zip(&again)
            .all(|(a, b)| a.owner == b.owner && a.mutation == b.mutation));
    }
}
