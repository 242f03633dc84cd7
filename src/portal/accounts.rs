//! The accounts the portal serves: identity indexed by numéro allocataire and NIR body, read without locks,
//! and the few fields a beneficiary can change (IBAN, password) behind one lock per account.

use super::PortalError;
use crate::identifiers::{Iban, Nir, NirBody, NumeroAllocataire};
use crate::population::{Beneficiary, OwnerId, PasswordState, Payment};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

/// Shortest new password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest new password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// What never changes while the portal runs.
#[derive(Debug)]
pub struct Identity {
    pub numero_allocataire: NumeroAllocataire,
    pub nir: Nir,
    pub first_name: String,
    pub last_name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// Canonical digits: `0639981234`.
    pub phone: String,
    pub email: String,
    pub household: u32,
    pub payments: Vec<Payment>,
}

/// What the beneficiary can change.
struct Credentials {
    iban: Iban,
    password: String,
    password_state: PasswordState,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("iban", &self.iban)
            .field("password", &"<hidden>")
            .field("password_state", &self.password_state)
            .finish()
    }
}

#[derive(Debug)]
pub struct Account {
    pub identity: Identity,
    credentials: RwLock<Credentials>,
}

/// One account's file as a page shows it: a consistent snapshot of its mutable fields.
#[derive(Debug)]
pub struct FileView<'a> {
    pub identity: &'a Identity,
    pub iban: Iban,
    pub password_state: PasswordState,
    /// The other adults of the household, who share the file.
    pub partners: Vec<&'a Identity>,
}

/// Why a password change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong: type the password you log in with")]
    WrongCurrentPassword,
    #[error("the new password has {found} characters: use at least {MIN_PASSWORD_CHARS}")]
    TooShort { found: usize },
    #[error("the new password has {found} characters: use at most {MAX_PASSWORD_CHARS}")]
    TooLong { found: usize },
}

/// Every account, with the indexes the two login paths resolve through.
#[derive(Debug, Default)]
pub struct Accounts {
    accounts: Vec<Account>,
    by_owner: HashMap<OwnerId, usize>,
    by_numero: HashMap<NumeroAllocataire, OwnerId>,
    by_nir_body: HashMap<NirBody, OwnerId>,
    households: HashMap<u32, Vec<OwnerId>>,
}

impl Accounts {
    /// Indexes the beneficiaries; refuses two accounts sharing an owner id, numéro or NIR,
    /// since a login must open exactly one account.
    pub fn new(beneficiaries: Vec<Beneficiary>) -> Result<Self, PortalError> {
        let mut store = Self::default();
        for beneficiary in beneficiaries {
            let owner = beneficiary.id;
            let iban = Iban::parse(&beneficiary.iban)
                .map_err(|source| PortalError::InvalidIban { owner, source })?;
            match store.by_owner.entry(owner) {
                Entry::Occupied(_) => return Err(PortalError::DuplicateOwner { owner }),
                Entry::Vacant(slot) => slot.insert(store.accounts.len()),
            };
            match store.by_numero.entry(beneficiary.numero_allocataire) {
                Entry::Occupied(first) => {
                    return Err(PortalError::DuplicateNumeroAllocataire {
                        numero: beneficiary.numero_allocataire,
                        first: *first.get(),
                        second: owner,
                    })
                }
                Entry::Vacant(slot) => slot.insert(owner),
            };
            match store.by_nir_body.entry(beneficiary.nir.body()) {
                Entry::Occupied(first) => {
                    return Err(PortalError::DuplicateNir {
                        nir: beneficiary.nir,
                        first: *first.get(),
                        second: owner,
                    })
                }
                Entry::Vacant(slot) => slot.insert(owner),
            };
            store
                .households
                .entry(beneficiary.household)
                .or_default()
                .push(owner);
            store.accounts.push(Account {
                identity: Identity {
                    numero_allocataire: beneficiary.numero_allocataire,
                    nir: beneficiary.nir,
                    first_name: beneficiary.first_name,
                    last_name: beneficiary.last_name,
                    street: beneficiary.street,
                    postcode: beneficiary.postcode,
                    city: beneficiary.city,
                    phone: beneficiary.phone,
                    email: beneficiary.email,
                    household: beneficiary.household,
                    payments: beneficiary.payments,
                },
                credentials: RwLock::new(Credentials {
                    iban,
                    password: beneficiary.password,
                    password_state: beneficiary.password_state,
                }),
            });
        }
        Ok(store)
    }

    pub fn by_numero(&self, numero: &NumeroAllocataire) -> Option<OwnerId> {
        self.by_numero.get(numero).copied()
    }

    pub fn by_nir_body(&self, body: &NirBody) -> Option<OwnerId> {
        self.by_nir_body.get(body).copied()
    }

    pub fn get(&self, owner: OwnerId) -> Option<&Account> {
        self.by_owner
            .get(&owner)
            .and_then(|index| self.accounts.get(*index))
    }

    /// Whether `a` and `b` are adults of one household, who share the file.
    pub fn same_household(&self, a: OwnerId, b: OwnerId) -> bool {
        match (self.get(a), self.get(b)) {
            (Some(a), Some(b)) => a.identity.household == b.identity.household,
            _ => false,
        }
    }

    /// Whether the account is still on its provisional password.
    pub fn is_provisional(&self, owner: OwnerId) -> bool {
        self.get(owner)
            .is_some_and(|account| account.read().password_state == PasswordState::Provisional)
    }

    /// Every account's owner and identity, in no set order.
    pub fn identities(&self) -> impl Iterator<Item = (OwnerId, &Identity)> {
        self.by_owner.iter().filter_map(|(owner, index)| {
            let account = self.accounts.get(*index)?;
            Some((*owner, &account.identity))
        })
    }

    /// Every account still on its provisional password, with its identity, in no set order.
    pub fn provisional(&self) -> impl Iterator<Item = (OwnerId, &Identity)> {
        self.identities()
            .filter(|(owner, _)| self.is_provisional(*owner))
    }

    /// Whether `password` opens `owner`'s account.
    pub fn authenticate(&self, owner: OwnerId, password: &str) -> bool {
        self.get(owner)
            .is_some_and(|account| same_secret(&account.read().password, password))
    }

    /// The file of `owner` as its pages show it.
    pub fn file(&self, owner: OwnerId) -> Option<FileView<'_>> {
        let account = self.get(owner)?;
        let (iban, password_state) = {
            let credentials = account.read();
            (credentials.iban, credentials.password_state)
        };
        let partners = self
            .households
            .get(&account.identity.household)
            .into_iter()
            .flatten()
            .filter(|member| **member != owner)
            .filter_map(|member| self.get(*member))
            .map(|partner| &partner.identity)
            .collect();
        Some(FileView {
            identity: &account.identity,
            iban,
            password_state,
            partners,
        })
    }

    /// Makes `iban` the account's current IBAN; `false` if there is no such account.
    pub fn set_iban(&self, owner: OwnerId, iban: Iban) -> bool {
        self.get(owner)
            .map(|account| account.write().iban = iban)
            .is_some()
    }

    /// Checks the current password and sets the new one under one lock, so two concurrent
    /// changes cannot both pass the check.
    pub fn change_password(
        &self,
        owner: OwnerId,
        current: &str,
        new: &str,
    ) -> Result<(), PasswordChangeError> {
        let account = self
            .get(owner)
            .ok_or(PasswordChangeError::WrongCurrentPassword)?;
        let mut credentials = account.write();
        if !same_secret(&credentials.password, current) {
            return Err(PasswordChangeError::WrongCurrentPassword);
        }
        let found = new.chars().count();
        if found < MIN_PASSWORD_CHARS {
            return Err(PasswordChangeError::TooShort { found });
        }
        if found > MAX_PASSWORD_CHARS {
            return Err(PasswordChangeError::TooLong { found });
        }
        credentials.password = new.to_owned();
        credentials.password_state = PasswordState::Changed;
        Ok(())
    }
}

impl Account {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Credentials> {
        self.credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Compares two secrets in time that depends on their length only, not on where they differ.
pub fn same_secret(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::tests::fixtures;

    #[test]
    fn both_indexes_resolve_to_the_same_owner() {
        let people = fixtures::beneficiaries();
        let accounts = Accounts::new(people.clone()).expect("valid population");
        for person in &people {
            assert_eq!(
                accounts.by_numero(&person.numero_allocataire),
                Some(person.id)
            );
            assert_eq!(accounts.by_nir_body(&person.nir.body()), Some(person.id));
        }
    }

    #[test]
    fn duplicate_nir_is_refused_naming_both_owners() {
        let mut people = fixtures::beneficiaries();
        people[1].nir = people[0].nir;
        let error = Accounts::new(people).expect_err("duplicate NIR");
        assert!(
            matches!(
                error,
                PortalError::DuplicateNir {
                    first: 0,
                    second: 1,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn duplicate_numero_is_refused() {
        let mut people = fixtures::beneficiaries();
        people[2].numero_allocataire = people[0].numero_allocataire;
        let error = Accounts::new(people).expect_err("duplicate numéro");
        assert!(
            matches!(error, PortalError::DuplicateNumeroAllocataire { .. }),
            "{error}"
        );
    }

    #[test]
    fn password_change_checks_current_and_length() {
        let people = fixtures::beneficiaries();
        let accounts = Accounts::new(people.clone()).expect("valid population");
        let owner = people[0].id;
        assert_eq!(
            accounts.change_password(owner, "wrong", "long enough"),
            Err(PasswordChangeError::WrongCurrentPassword)
        );
        assert_eq!(
            accounts.change_password(owner, &people[0].password, "short"),
            Err(PasswordChangeError::TooShort { found: 5 })
        );
        assert_eq!(
            accounts.change_password(owner, &people[0].password, "long enough"),
            Ok(())
        );
        assert!(accounts.authenticate(owner, "long enough"));
        assert!(!accounts.authenticate(owner, &people[0].password));
        let file = accounts.file(owner).expect("account");
        assert_eq!(file.password_state, PasswordState::Changed);
    }

    #[test]
    fn same_secret_needs_every_byte_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
