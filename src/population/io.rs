//! Populations as JSON Lines and CSV, over any `io::Write` / `io::Read`.
//! Reading trusts nothing: each record is checked, with its line and column, before it joins.

use super::validate::Loader;
use super::{Beneficiary, Location, PasswordState, Payment, Population, PopulationError};
use crate::identifiers::{Nir, NumeroAllocataire};
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

/// The fields of a record, in file order: the JSON keys and the CSV header.
pub const COLUMNS: [&str; 16] = [
    "id",
    "numero_allocataire",
    "nir",
    "first_name",
    "last_name",
    "street",
    "postcode",
    "city",
    "phone",
    "email",
    "iban",
    "spare_iban",
    "household",
    "password",
    "password_state",
    "payments",
];

/// The formats a population is written in: the two crossleak reads back (`[population] file`
/// with `format = "crossleak-csv"` or `"crossleak-jsonl"`), and SQL to seed a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A header row, then one row per beneficiary (format = "crossleak-csv").
    Csv,
    /// One JSON object per line (format = "crossleak-jsonl").
    Jsonl,
    /// CREATE TABLEs, then INSERTs of 500 rows, in one transaction (PostgreSQL and SQLite).
    Sql,
}

/// Writes beneficiaries one at a time, in id order, in one [`OutputFormat`]: nothing but the
/// current batch of a SQL `INSERT` is held. [`finish`](Self::finish) ends the output.
pub struct PopulationWriter<W: Write> {
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Jsonl(BufWriter<W>),
    // Boxed: the CSV writer holds its own buffer state, several times the others' size.
    Csv(Box<csv::Writer<W>>),
    Sql(super::sql::SqlWriter<BufWriter<W>>),
}

impl<W: Write> PopulationWriter<W> {
    /// Starts the output: the CSV header, or the SQL tables.
    pub fn new(format: OutputFormat, out: W) -> Result<Self, PopulationError> {
        let sink = match format {
            OutputFormat::Jsonl => Sink::Jsonl(BufWriter::new(out)),
            OutputFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(COLUMNS).map_err(csv_write_error)?;
                Sink::Csv(Box::new(writer))
            }
            OutputFormat::Sql => Sink::Sql(super::sql::SqlWriter::new(BufWriter::new(out))?),
        };
        Ok(PopulationWriter { sink })
    }

    pub fn write(&mut self, b: &Beneficiary) -> Result<(), PopulationError> {
        match &mut self.sink {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, b).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
            }
            Sink::Csv(writer) => {
                let (id, household) = (b.id.to_string(), b.household.to_string());
                let payments = payments_column(b)?;
                let row = std::iter::once(id.as_str()).chain(text_columns(b)).chain([
                    household.as_str(),
                    &b.password,
                    password_state_name(b.password_state),
                    &payments,
                ]);
                writer.write_record(row).map_err(csv_write_error)?
            }
            Sink::Sql(writer) => writer.write(b)?,
        }
        Ok(())
    }

    /// Ends the output (the last SQL statement, `COMMIT`) and flushes it.
    pub fn finish(self) -> Result<(), PopulationError> {
        match self.sink {
            Sink::Jsonl(mut out) => out.flush()?,
            Sink::Csv(mut writer) => writer.flush()?,
            Sink::Sql(writer) => writer.finish()?.flush()?,
        }
        Ok(())
    }
}

impl Population {
    /// Writes every beneficiary in `format`, in id order.
    pub fn write_as<W: Write>(&self, format: OutputFormat, out: W) -> Result<(), PopulationError> {
        let mut writer = PopulationWriter::new(format, out)?;
        for b in &self.beneficiaries {
            writer.write(b)?;
        }
        writer.finish()
    }

    /// One JSON object per line, in id order.
    pub fn write_jsonl<W: Write>(&self, out: W) -> Result<(), PopulationError> {
        self.write_as(OutputFormat::Jsonl, out)
    }

    /// Reads what [`write_jsonl`](Self::write_jsonl) writes; blank lines are skipped.
    /// Unknown keys are refused, so a file meant for something else is not half-read.
    pub fn read_jsonl<R: Read>(input: R) -> Result<Population, PopulationError> {
        let mut loader = Loader::default();
        for (index, line) in BufReader::new(input).lines().enumerate() {
            let line = line?;
            let at = Location::Line(index as u64 + 1);
            if line.trim().is_empty() {
                continue;
            }
            let beneficiary: Beneficiary =
                serde_json::from_str(&line).map_err(|e| json_error(at, &e))?;
            let keys: BTreeMap<String, IgnoredAny> =
                serde_json::from_str(&line).map_err(|e| json_error(at, &e))?;
            if let Some(unknown) = keys.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
                return Err(PopulationError::UnknownColumn {
                    at,
                    found: unknown.clone(),
                });
            }
            loader.push(at, beneficiary)?;
        }
        loader.finish()
    }

    /// A header row of [`COLUMNS`], then one row per beneficiary; payments go in one column
    /// as `date|label|amount_cents;…`.
    pub fn write_csv<W: Write>(&self, out: W) -> Result<(), PopulationError> {
        self.write_as(OutputFormat::Csv, out)
    }

    /// Reads what [`write_csv`](Self::write_csv) writes; the header must be exactly [`COLUMNS`].
    pub fn read_csv<R: Read>(input: R) -> Result<Population, PopulationError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(input);
        let header = reader.headers().map_err(|e| csv_read_error(&e, 1))?;
        if header.iter().ne(COLUMNS) {
            return Err(PopulationError::Header {
                found: header.iter().collect::<Vec<_>>().join(","),
                expected: COLUMNS.join(","),
            });
        }
        let mut loader = Loader::default();
        for (index, record) in reader.records().enumerate() {
            let fallback_line = index as u64 + 2;
            let record = record.map_err(|e| csv_read_error(&e, fallback_line))?;
            let at = Location::Line(record.position().map_or(fallback_line, |p| p.line()));
            loader.push(at, parse_record(at, &record)?)?;
        }
        loader.finish()
    }
}

fn json_error(at: Location, error: &serde_json::Error) -> PopulationError {
    // serde_json's message ends in " at line 1 column N"; the line is ours to give.
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    PopulationError::Json {
        at,
        column: error.column(),
        message: message.to_owned(),
    }
}

fn csv_read_error(error: &csv::Error, fallback_line: u64) -> PopulationError {
    let line = error.position().map_or(fallback_line, |p| p.line());
    match error.kind() {
        csv::ErrorKind::Io(e) => PopulationError::Io(std::io::Error::new(e.kind(), e.to_string())),
        _ => PopulationError::Csv {
            at: Location::Line(line),
            message: error.to_string(),
        },
    }
}

fn csv_write_error(error: csv::Error) -> PopulationError {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => PopulationError::Io(e),
        other => PopulationError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// A beneficiary's text columns, between `id` and `household`, in [`COLUMNS`] order: the one list
/// the CSV and SQL writers share.
pub(super) fn text_columns(b: &Beneficiary) -> [&str; 11] {
    [
        b.numero_allocataire.as_str(),
        b.nir.as_str(),
        &b.first_name,
        &b.last_name,
        &b.street,
        &b.postcode,
        &b.city,
        &b.phone,
        &b.email,
        &b.iban,
        &b.spare_iban,
    ]
}

pub(super) fn password_state_name(state: PasswordState) -> &'static str {
    match state {
        PasswordState::Provisional => "provisional",
        PasswordState::Changed => "changed",
    }
}

fn payments_column(b: &Beneficiary) -> Result<String, PopulationError> {
    let mut out = String::new();
    for (index, payment) in b.payments.iter().enumerate() {
        for text in [&payment.date, &payment.label] {
            if text.contains(['|', ';']) {
                return Err(PopulationError::PaymentSeparator {
                    id: b.id,
                    label: text.clone(),
                });
            }
        }
        if index > 0 {
            out.push(';');
        }
        out.push_str(&format!(
            "{}|{}|{}",
            payment.date, payment.label, payment.amount_cents
        ));
    }
    Ok(out)
}

fn parse_record(at: Location, record: &csv::StringRecord) -> Result<Beneficiary, PopulationError> {
    // The header check and the csv crate's equal-length rule guarantee 16 fields.
    let field = |index: usize| record.get(index).unwrap_or_default();
    let invalid = |column: &'static str, message: String| PopulationError::Value {
        at,
        column,
        message,
    };
    let number = |index: usize, column: &'static str| {
        field(index)
            .parse::<u32>()
            .map_err(|_| invalid(column, format!("{:?} is not a whole number", field(index))))
    };
    let password_state = match field(14) {
        "provisional" => PasswordState::Provisional,
        "changed" => PasswordState::Changed,
        other => {
            return Err(invalid(
                "password_state",
                format!("{other:?} is not a password state: write provisional or changed"),
            ))
        }
    };
    Ok(Beneficiary {
        id: number(0, "id")?,
        numero_allocataire: NumeroAllocataire::parse(field(1))
            .map_err(|e| invalid("numero_allocataire", e.to_string()))?,
        nir: Nir::parse(field(2)).map_err(|e| invalid("nir", e.to_string()))?,
        first_name: field(3).to_owned(),
        last_name: field(4).to_owned(),
        street: field(5).to_owned(),
        postcode: field(6).to_owned(),
        city: field(7).to_owned(),
        phone: field(8).to_owned(),
        email: field(9).to_owned(),
        iban: field(10).to_owned(),
        spare_iban: field(11).to_owned(),
        household: number(12, "household")?,
        password: field(13).to_owned(),
        password_state,
        payments: parse_payments(field(15)).map_err(|message| invalid("payments", message))?,
    })
}

fn parse_payments(column: &str) -> Result<Vec<Payment>, String> {
    if column.is_empty() {
        return Ok(Vec::new());
    }
    column
        .split(';')
        .map(|payment| {
            let parts: Vec<&str> = payment.split('|').collect();
            let [date, label, amount] = parts[..] else {
                return Err(format!(
                    "payment {payment:?} is not date|label|amount_cents: separate payments with ';' and their parts with '|'"
                ));
            };
            let amount_cents = amount.parse().map_err(|_| {
                format!("payment amount {amount:?} is not a whole number of cents")
            })?;
            Ok(Payment {
                date: date.to_owned(),
                label: label.to_owned(),
                amount_cents,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::GenerateOptions;
    use super::*;
    use proptest::prelude::*;

    fn population(size: usize) -> Population {
        let mut population = Population::generate(&GenerateOptions {
            size,
            seed: 42,
            ..GenerateOptions::default()
        })
        .unwrap();
        // Characters CSV must quote and pages must escape.
        population.beneficiaries[0].street = "3, rue du \"Vieux\" Moulin".into();
        population.beneficiaries[0].last_name = "N'Diaye".into();
        population
    }

    fn jsonl(population: &Population) -> String {
        let mut out = Vec::new();
        population.write_jsonl(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn csv(population: &Population) -> String {
        let mut out = Vec::new();
        population.write_csv(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn read_error(text: &str, csv: bool) -> String {
        let result = if csv {
            Population::read_csv(text.as_bytes())
        } else {
            Population::read_jsonl(text.as_bytes())
        };
        result.unwrap_err().to_string()
    }

    #[test]
    fn json_keys_are_the_csv_columns() {
        let value = serde_json::to_value(sample()).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns = COLUMNS.to_vec();
        columns.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, columns);
    }

    #[test]
    fn jsonl_round_trips() {
        let population = population(300);
        let text = jsonl(&population);
        assert_eq!(text.lines().count(), 300);
        assert_eq!(Population::read_jsonl(text.as_bytes()).unwrap(), population);
    }

    #[test]
    fn csv_round_trips() {
        let population = population(300);
        let text = csv(&population);
        assert!(text.starts_with("id,numero_allocataire,nir,"));
        assert!(text.contains("\"3, rue du \"\"Vieux\"\" Moulin\""));
        assert_eq!(Population::read_csv(text.as_bytes()).unwrap(), population);
    }

    #[test]
    fn jsonl_errors_carry_the_line_and_column() {
        let population = population(5);
        let mut lines: Vec<String> = jsonl(&population).lines().map(str::to_owned).collect();
        let nir = population.beneficiaries[2].nir.as_str().to_owned();
        lines[2] = lines[2].replace(&nir, "184132A00401654");
        let message = read_error(&lines.join("\n"), false);
        assert!(message.starts_with("line 3, column "), "{message}");
        assert!(message.contains("month 13"), "{message}");

        let mut blank = jsonl(&population);
        blank.insert_str(0, "\n\n");
        let mut lines: Vec<&str> = blank.lines().collect();
        lines.swap(3, 4);
        let message = read_error(&lines.join("\n"), false);
        assert!(
            message.starts_with("line 4: id 2 where 1 was expected"),
            "{message}"
        );

        let first = jsonl(&population)
            .lines()
            .next()
            .unwrap()
            .replacen('{', "{\"nom\":1,", 1);
        let message = read_error(&first, false);
        assert!(
            message.contains("line 1: unknown field \"nom\""),
            "{message}"
        );

        let message = read_error("{\"id\": 0}", false);
        assert!(
            message.contains("line 1, column 9: missing field"),
            "{message}"
        );

        let text = jsonl(&population).replacen("\"phone\":\"0", "\"phone\":\"+", 2);
        let message = read_error(&text, false);
        assert!(message.starts_with("line 1, column phone:"), "{message}");
        assert!(matches!(
            Population::read_jsonl(&b"\n \n"[..]),
            Err(PopulationError::Empty)
        ));
    }

    #[test]
    fn csv_errors_carry_the_line_and_column() {
        let population = population(5);
        let text = csv(&population);
        let nir = population.beneficiaries[3].nir.as_str();
        let message = read_error(&text.replace(nir, "1841"), true);
        assert!(
            message.starts_with("line 5, column nir: a NIR has 15 characters"),
            "{message}"
        );

        let na = population.beneficiaries[1].numero_allocataire.as_str();
        let message = read_error(&text.replace(&format!(",{na},"), ",12,"), true);
        assert!(
            message.starts_with("line 3, column numero_allocataire"),
            "{message}"
        );

        let line = text.lines().nth(2).unwrap();
        let message = read_error(&text.replace(line, "1,2,3"), true);
        assert!(message.starts_with("line 3: "), "{message}");

        let message = read_error(&text.replacen("payments", "paiements", 1), true);
        assert!(message.contains("it must be exactly"), "{message}");

        let message = read_error(
            &text.replace("|Prime d'activité|", "|Prime d'activité|x"),
            true,
        );
        assert!(message.contains("column payments"), "{message}");

        let message = read_error(&text.replace(",provisional,", ",temporary,"), true);
        assert!(message.contains("column password_state"), "{message}");

        let mut copied = text.clone();
        let second = text.lines().nth(2).unwrap();
        let iban = &population.beneficiaries[1].iban;
        let spare = population.beneficiaries[2].spare_iban.clone();
        copied = copied.replace(second, &second.replace(iban.as_str(), &spare));
        let message = read_error(&copied, true);
        assert!(
            message.contains("beneficiaries 1 (iban) and 2 (written_iban)"),
            "{message}"
        );
    }

    #[test]
    fn a_label_with_a_separator_cannot_be_written_as_csv() {
        let mut population = population(2);
        population.beneficiaries[1].payments[0].label = "APL; rappel".into();
        let mut out = Vec::new();
        let message = population.write_csv(&mut out).unwrap_err().to_string();
        assert!(message.contains("beneficiary 1"), "{message}");
        assert!(message.contains("JSON Lines instead"), "{message}");
        let mut out = Vec::new();
        population.write_jsonl(&mut out).unwrap();
        assert_eq!(Population::read_jsonl(&out[..]).unwrap(), population);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn any_generated_population_round_trips_through_both_formats(
            seed in any::<u64>(),
            size in 1usize..40,
            household_share in 0.0..=1.0f64,
            provisional_share in 0.0..=1.0f64,
        ) {
            let population = Population::generate(&GenerateOptions {
                size, seed, household_share, provisional_share,
            }).unwrap();
            prop_assert_eq!(&Population::read_jsonl(jsonl(&population).as_bytes()).unwrap(), &population);
            prop_assert_eq!(&Population::read_csv(csv(&population).as_bytes()).unwrap(), &population);
        }

        #[test]
        fn payment_columns_round_trip(
            payments in proptest::collection::vec(("[^|;]{0,12}", "[^|;]{0,20}", any::<i64>()), 0..4),
        ) {
            let mut b = sample();
            b.payments = payments.into_iter()
                .map(|(date, label, amount_cents)| Payment { date, label, amount_cents })
                .collect();
            prop_assert_eq!(parse_payments(&payments_column(&b).unwrap()).unwrap(), b.payments);
        }

        #[test]
        fn readers_never_panic(text in "(.{0,40}\n){0,4}") {
            let _ = Population::read_jsonl(text.as_bytes());
            let _ = Population::read_csv(text.as_bytes());
        }
    }
}
