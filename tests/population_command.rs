//! `crossleak population` as a user runs it: its CSV and JSON Lines read back through a scenario's
//! `[population] file` as the very population `generate` gives, and its SQL runs in SQLite (the
//! `sqlite3` command) with every value, quotes included, as generated.

mod common;

use crossleak::population::Population;
use crossleak::scenario::Scenario;
use std::path::Path;
use std::process::{Command, Output};

/// Three SQL statements' worth of beneficiaries (500 rows each), households and quotes included.
const SIZE: &str = "1200";
const SEED: &str = "3";

/// The population `crossleak population --size SIZE --seed SEED` writes.
fn generated() -> Population {
    common::population(1200, 3)
}

fn population_command(format: &str, out: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args([
            "population",
            "--size",
            SIZE,
            "--seed",
            SEED,
            "--format",
            format,
        ])
        .arg("--out")
        .arg(out)
        .output()
        .expect("the crossleak binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // stderr is not a terminal here: no progress line, only the closing one.
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(
        stderr.contains("population: 1200 beneficiaries (seed 3) written to"),
        "{stderr}"
    );
    output
}

/// Reads `file` back as a scenario's `[population] file` in `format`.
fn read_back(dir: &Path, file: &str, format: &str) -> Population {
    let scenario = common::MINIMAL_SCENARIO.replace(
        "generate = { size = 10 }",
        &format!("file = \"{file}\"\nformat = \"{format}\""),
    );
    let path = dir.join("seeded.toml");
    std::fs::write(&path, scenario).unwrap();
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let loaded = scenario.population.read().unwrap();
    loaded
        .beneficiaries()
        .expect("a crossleak format gives beneficiaries")
        .clone()
}

#[test]
fn the_csv_reads_back_through_population_file_as_the_generated_population() {
    let dir = tempfile::tempdir().unwrap();
    population_command("csv", &dir.path().join("population.csv"));
    let read = read_back(dir.path(), "population.csv", "crossleak-csv");
    assert_eq!(read, generated());
}

#[test]
fn the_jsonl_reads_back_through_population_file_as_the_generated_population() {
    let dir = tempfile::tempdir().unwrap();
    population_command("jsonl", &dir.path().join("population.jsonl"));
    let read = read_back(dir.path(), "population.jsonl", "crossleak-jsonl");
    assert_eq!(read, generated());
}

fn sqlite(db: &Path, sql: &str) -> String {
    let output = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 command is installed (apt-get install sqlite3; .ci/run installs it)");
    assert!(
        output.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_sql_runs_in_sqlite_and_holds_every_value_as_generated() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("population.sql");
    population_command("sql", &file);
    let db = dir.path().join("staging.sqlite");
    sqlite(&db, &format!(".read {}", file.display()));

    let population = generated();
    // Every text column of every row, one line each, as SQLite stores it.
    let rows = sqlite(
        &db,
        "SELECT id || '|' || numero_allocataire || '|' || nir || '|' || first_name || '|' || last_name || '|' || street || '|' || postcode || '|' || city || '|' || phone || '|' || email || '|' || iban || '|' || spare_iban || '|' || household || '|' || password || '|' || password_state FROM beneficiaries ORDER BY id;",
    );
    let expected: String = population
        .iter()
        .map(|b| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}\n",
                b.id,
                b.numero_allocataire,
                b.nir,
                b.first_name,
                b.last_name,
                b.street,
                b.postcode,
                b.city,
                b.phone,
                b.email,
                b.iban,
                b.spare_iban,
                b.household,
                b.password,
                if b.password_state == crossleak::population::PasswordState::Provisional {
                    "provisional"
                } else {
                    "changed"
                }
            )
        })
        .collect();
    assert_eq!(rows, expected);
    assert!(
        population.iter().any(|b| b.street.contains('\'')),
        "the sample holds values with a quote"
    );

    let payments = sqlite(
        &db,
        "SELECT beneficiary_id || '|' || payment_number || '|' || payment_date || '|' || label || '|' || amount_cents FROM payments ORDER BY beneficiary_id, payment_number;",
    );
    let expected: String = population
        .iter()
        .flat_map(|b| {
            b.payments.iter().enumerate().map(move |(n, p)| {
                format!("{}|{n}|{}|{}|{}\n", b.id, p.date, p.label, p.amount_cents)
            })
        })
        .collect();
    assert_eq!(payments, expected);
}

#[test]
fn a_size_out_of_range_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("none.sql");
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args(["population", "--size", "0", "--format", "sql", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("population size 0 is out of range"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).map(|b| b.len()).unwrap_or(0), 0);
}

#[test]
fn quiet_writes_the_population_and_nothing_on_stderr() {
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args(["population", "--size", "3", "--format", "jsonl", "--quiet"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stderr.is_empty(), "{:?}", output.stderr);
    // Without --out, the population goes to standard output.
    let read = Population::read_jsonl(&output.stdout[..]).unwrap();
    assert_eq!(read.len(), 3);
}
