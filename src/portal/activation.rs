//! The `nir-lookup` fault (CAF, October 2021): the NIR login's activation step finds the account to
//! open for a provisional password through a key that many beneficiaries share.
//!
//! The mechanism. A beneficiary still on the provisional password that came by post has never
//! logged in by NIR; the new login path "activates" such an account on first use. The activation
//! table is indexed by a blocking key of the kind record linkage uses to group *candidates* — the
//! identity traits the NIR encodes in its first five characters: sex, birth year and birth month —
//! and the step takes the first row of the block (the table is loaded in numéro allocataire order)
//! as if the key were unique, instead of comparing the whole NIR. So the password is checked, and
//! passes, against the account the typed NIR designates, and the session is opened for whoever
//! comes first in that block: each user logs in with their own valid credentials and lands in
//! someone else's file. Accounts whose password was changed never go through activation and
//! leave the table, so they are neither exposed nor opened; the numéro allocataire login never
//! uses it. Whether it leaks depends only on the population: in a generated one of 1,000 with
//! half the accounts provisional, about a third of the provisional accounts share a block with one
//! that precedes them (sex, year and month of birth coincide as they do in real populations).

use super::accounts::Accounts;
use crate::identifiers::NirBody;
use crate::population::OwnerId;
use std::collections::HashMap;

/// Sex, birth year and birth month: the NIR body's first five characters.
type BlockKey = [u8; 5];

fn block_key(body: &NirBody) -> BlockKey {
    let mut key = [0u8; 5];
    key.copy_from_slice(&body.as_str().as_bytes()[..5]);
    key
}

/// The activation table: provisional accounts grouped by block, each block in numéro order.
#[derive(Debug, Default)]
pub struct Activation {
    blocks: HashMap<BlockKey, Vec<OwnerId>>,
}

impl Activation {
    /// Loads the table from the accounts still on their provisional password.
    pub fn new(accounts: &Accounts) -> Self {
        let mut rows: Vec<_> = accounts
            .provisional()
            .map(|(owner, identity)| (identity.numero_allocataire, owner, identity.nir.body()))
            .collect();
        rows.sort_unstable_by_key(|(numero, _, _)| *numero);
        let mut blocks: HashMap<BlockKey, Vec<OwnerId>> = HashMap::new();
        for (_, owner, body) in rows {
            blocks.entry(block_key(&body)).or_default().push(owner);
        }
        Self { blocks }
    }

    /// The account the NIR login opens once `owner`'s password was checked for the typed `nir`.
    /// An activated account (password changed) is opened as it is; a provisional one is looked
    /// up by its block, and the first row still provisional wins. A row whose password changed
    /// since loading counts as gone from the table, as the activation deletes it.
    pub fn account_to_open(&self, accounts: &Accounts, owner: OwnerId, nir: &NirBody) -> OwnerId {
        if !accounts.is_provisional(owner) {
            return owner;
        }
        self.blocks
            .get(&block_key(nir))
            .and_then(|block| {
                block
                    .iter()
                    .copied()
                    .find(|row| accounts.is_provisional(*row))
            })
            .unwrap_or(owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{GenerateOptions, PasswordState, Population};

    /// Beneficiaries in the first 300 of a default population who log in by NIR (odd owners, as
    /// the load runner alternates login paths) and are opened someone else's account.
    fn misdirected(population: &Population, accounts: &Accounts, users: u32) -> Vec<(u32, u32)> {
        let activation = Activation::new(accounts);
        population
            .iter()
            .filter(|b| b.id < users && b.id % 2 == 1)
            .map(|b| {
                let opened = activation.account_to_open(accounts, b.id, &b.nir.body());
                (b.id, opened)
            })
            .filter(|(own, opened)| own != opened)
            .collect()
    }

    #[test]
    fn a_default_population_has_nir_users_who_open_someone_elses_provisional_account() {
        for seed in 0..4 {
            let population = Population::generate(&GenerateOptions {
                seed,
                ..GenerateOptions::default()
            })
            .expect("population");
            let accounts = Accounts::new(population.beneficiaries.clone()).expect("accounts");
            let pairs = misdirected(&population, &accounts, 300);
            assert!(
                pairs.len() >= 5,
                "seed {seed}: only {} NIR users of 300 are misdirected",
                pairs.len()
            );
            for (own, opened) in pairs {
                let (me, other) = (
                    population.get(own).expect("me"),
                    population.get(opened).expect("other"),
                );
                assert_eq!(me.password_state, PasswordState::Provisional);
                assert_eq!(other.password_state, PasswordState::Provisional);
                assert_eq!(&me.nir.as_str()[..5], &other.nir.as_str()[..5]);
                assert!(other.numero_allocataire < me.numero_allocataire);
            }
        }
    }

    #[test]
    fn changed_passwords_are_never_opened_nor_misdirected() {
        let population = Population::generate(&GenerateOptions::default()).expect("population");
        let accounts = Accounts::new(population.beneficiaries.clone()).expect("accounts");
        let pairs = misdirected(&population, &accounts, 1_000);
        let (user, victim) = *pairs.first().expect("a misdirected pair");
        let activation = Activation::new(&accounts);
        // The account that was opened changes its password: it leaves the table.
        let victim_person = population.get(victim).expect("victim");
        accounts
            .change_password(victim, &victim_person.password, "un-nouveau-secret")
            .expect("change");
        let body = population.get(user).expect("user").nir.body();
        assert_ne!(activation.account_to_open(&accounts, user, &body), victim);
        let own = victim_person.nir.body();
        assert_eq!(activation.account_to_open(&accounts, victim, &own), victim);
        for beneficiary in population.iter() {
            let body = beneficiary.nir.body();
            let opened = activation.account_to_open(&accounts, beneficiary.id, &body);
            if beneficiary.password_state == PasswordState::Changed {
                assert_eq!(opened, beneficiary.id);
            }
            assert!(opened == beneficiary.id || accounts.is_provisional(opened));
        }
    }
}
