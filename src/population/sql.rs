//! A population as SQL that PostgreSQL and SQLite both run: two `CREATE TABLE`s, then multi-row
//! `INSERT`s of at most [`ROWS_PER_INSERT`] rows, all in one transaction. Writes as it goes.

use super::io::{password_state_name, text_columns};
use super::{Beneficiary, PopulationError};
use std::io::Write;

/// Rows per `INSERT`: each statement stays far below SQLite's default 1 MB statement limit.
pub const ROWS_PER_INSERT: usize = 500;

/// Only standard types (`INTEGER`, `BIGINT`, `TEXT`) and constraints both databases know.
const SCHEMA: &str = "\
CREATE TABLE beneficiaries (
    id INTEGER PRIMARY KEY,
    numero_allocataire TEXT NOT NULL UNIQUE,
    nir TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    street TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    iban TEXT NOT NULL UNIQUE,
    spare_iban TEXT NOT NULL UNIQUE,
    household INTEGER NOT NULL,
    password TEXT NOT NULL,
    password_state TEXT NOT NULL CHECK (password_state IN ('provisional', 'changed'))
);
CREATE TABLE payments (
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    payment_number INTEGER NOT NULL,
    payment_date TEXT NOT NULL,
    label TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (beneficiary_id, payment_number)
);
";

const BENEFICIARIES_INSERT: &str = "INSERT INTO beneficiaries (id, numero_allocataire, nir, first_name, last_name, street, postcode, city, phone, email, iban, spare_iban, household, password, password_state) VALUES\n";
const PAYMENTS_INSERT: &str =
    "INSERT INTO payments (beneficiary_id, payment_number, payment_date, label, amount_cents) VALUES\n";

/// An SQL string literal: in single quotes, each quote doubled. Backslashes are plain
/// characters in both databases (PostgreSQL's `standard_conforming_strings`, on by default).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Writes the statements as beneficiaries arrive; a batch's payments follow its beneficiaries,
/// so every reference already exists when PostgreSQL checks it.
pub struct SqlWriter<W: Write> {
    out: W,
    /// Rows of the `INSERT INTO beneficiaries` under way.
    rows: usize,
    /// The payments of those rows, as `(…)` tuples: written once the statement is closed.
    payments: Vec<String>,
}

impl<W: Write> SqlWriter<W> {
    pub fn new(mut out: W) -> Result<Self, PopulationError> {
        out.write_all(b"-- crossleak population: PostgreSQL (psql -f) or SQLite (sqlite3 DB < FILE)\nBEGIN;\n")?;
        out.write_all(SCHEMA.as_bytes())?;
        Ok(SqlWriter {
            out,
            rows: 0,
            payments: Vec::new(),
        })
    }

    pub fn write(&mut self, b: &Beneficiary) -> Result<(), PopulationError> {
        self.out.write_all(if self.rows == 0 {
            BENEFICIARIES_INSERT.as_bytes()
        } else {
            b",\n"
        })?;
        let texts: Vec<String> = text_columns(b).iter().map(|t| literal(t)).collect();
        write!(
            self.out,
            "({}, {}, {}, {}, {})",
            b.id,
            texts.join(", "),
            b.household,
            literal(&b.password),
            literal(password_state_name(b.password_state))
        )?;
        for (number, payment) in b.payments.iter().enumerate() {
            self.payments.push(format!(
                "({}, {number}, {}, {}, {})",
                b.id,
                literal(&payment.date),
                literal(&payment.label),
                payment.amount_cents
            ));
        }
        self.rows += 1;
        if self.rows == ROWS_PER_INSERT {
            self.close_statement()?;
        }
        Ok(())
    }

    /// Ends the `INSERT` under way, then writes its payments (in statements of the same size).
    fn close_statement(&mut self) -> Result<(), PopulationError> {
        if self.rows > 0 {
            self.out.write_all(b";\n")?;
            self.rows = 0;
        }
        for rows in self.payments.chunks(ROWS_PER_INSERT) {
            self.out.write_all(PAYMENTS_INSERT.as_bytes())?;
            self.out.write_all(rows.join(",\n").as_bytes())?;
            self.out.write_all(b";\n")?;
        }
        self.payments.clear();
        Ok(())
    }

    /// Closes the last statement and the transaction; returns the output to flush.
    pub fn finish(mut self) -> Result<W, PopulationError> {
        self.close_statement()?;
        self.out.write_all(b"COMMIT;\n")?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn a_literal_doubles_its_quotes_and_keeps_backslashes() {
        assert_eq!(literal("N'Diaye"), "'N''Diaye'");
        assert_eq!(literal(r"a\'b"), r"'a\''b'");
        assert_eq!(literal(""), "''");
    }

    #[test]
    fn statements_hold_at_most_rows_per_insert_rows_and_end_in_a_commit() {
        let mut writer = SqlWriter::new(Vec::new()).unwrap();
        let mut b = sample();
        for id in 0..(ROWS_PER_INSERT as u32 + 3) {
            b.id = id;
            writer.write(&b).unwrap();
        }
        let text = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert!(
            text.contains("BEGIN;\nCREATE TABLE beneficiaries ("),
            "{text}"
        );
        assert!(text.ends_with(";\nCOMMIT;\n"));
        assert_eq!(text.matches("INSERT INTO beneficiaries").count(), 2);
        // One payment each: 503 payment rows in two statements.
        assert_eq!(text.matches("INSERT INTO payments").count(), 2);
        let first = text.split("INSERT INTO beneficiaries").nth(1).unwrap();
        let first = first.split(";\n").next().unwrap();
        assert_eq!(first.matches("),\n(").count(), ROWS_PER_INSERT - 1);
        assert!(text.contains("'Prime d''activité'"), "{text}");
    }
}
