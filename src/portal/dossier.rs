//! The JSON view of a beneficiary's file served at `/api/dossier`: field names are a contract with the load runner.
//! Borrowed, serialise-only structs built from a [`FileView`]; no logic beyond renaming.

use super::accounts::FileView;
use super::ledger::Statement;
use crate::population::PasswordState;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Dossier<'a> {
    pub numero_allocataire: &'a str,
    /// Compact, 15 characters.
    pub nir: &'a str,
    pub prenom: &'a str,
    pub nom: &'a str,
    pub adresse: Adresse<'a>,
    /// Compact digits.
    pub telephone: &'a str,
    pub email: &'a str,
    /// Compact, 27 characters.
    pub iban: String,
    pub statut_mot_de_passe: PasswordState,
    /// From the payments ledger.
    pub paiements: Vec<Paiement<'a>>,
    /// The other adults of the household.
    pub foyer: Vec<Membre<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Adresse<'a> {
    pub rue: &'a str,
    pub code_postal: &'a str,
    pub ville: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Paiement<'a> {
    pub date: &'a str,
    pub libelle: &'a str,
    pub montant_centimes: i64,
}

#[derive(Debug, Serialize)]
pub struct Membre<'a> {
    pub prenom: &'a str,
    pub nom: &'a str,
    pub numero_allocataire: &'a str,
}

impl<'a> Dossier<'a> {
    pub fn new(file: &FileView<'a>, statement: &'a Statement) -> Self {
        let person = file.identity;
        Self {
            numero_allocataire: person.numero_allocataire.as_str(),
            nir: person.nir.as_str(),
            prenom: &person.first_name,
            nom: &person.last_name,
            adresse: Adresse {
                rue: &person.street,
                code_postal: &person.postcode,
                ville: &person.city,
            },
            telephone: &person.phone,
            email: &person.email,
            iban: file.iban.as_str().to_owned(),
            statut_mot_de_passe: file.password_state,
            paiements: statement
                .paiements
                .iter()
                .map(|payment| Paiement {
                    date: &payment.date,
                    libelle: &payment.libelle,
                    montant_centimes: payment.montant_centimes,
                })
                .collect(),
            foyer: file
                .partners
                .iter()
                .map(|partner| Membre {
                    prenom: &partner.first_name,
                    nom: &partner.last_name,
                    numero_allocataire: partner.numero_allocataire.as_str(),
                })
                .collect(),
        }
    }
}
