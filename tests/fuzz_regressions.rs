//! Replays every input kept under `fuzz/regressions/<target>/` through the same library function
//! the fuzz target calls, so a crash found once by cargo-fuzz stays fixed under plain `cargo test`.
//! Byte targets keep raw inputs; structure-aware targets keep their case as JSON (`*.json`).

use crossleak::fuzzing::{identifier_collision, Checked, IdentityPair, LoginFixture, LoginRequest};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|e| e != "md"))
        .collect();
    paths.sort();
    paths
}

fn replay(target: &str, property: fn(&[u8])) -> usize {
    let mut replayed = 0;
    for path in inputs(target) {
        let data = std::fs::read(&path).unwrap();
        property(&data);
        replayed += 1;
    }
    replayed
}

/// Every `*.json` case of `target`, with its file name.
fn cases<T: DeserializeOwned>(target: &str) -> Vec<(String, T)> {
    inputs(target)
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let case = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a {target} case: {e}", path.display()));
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, case)
        })
        .collect()
}

#[test]
fn nir_parse_regressions_stay_fixed() {
    let replayed = replay("nir_parse", crossleak::fuzzing::nir_parse);
    assert!(replayed > 0, "no regression input replayed");
}

#[test]
fn response_reader_regressions_stay_fixed() {
    let replayed = replay("response_reader", crossleak::fuzzing::response_reader);
    assert!(replayed > 0, "no regression input replayed");
}

#[test]
fn login_request_regressions_stay_fixed() {
    let fixture = LoginFixture::new();
    let cases: Vec<(String, LoginRequest)> = cases("login_request");
    assert!(!cases.is_empty(), "no regression case replayed");
    for (name, case) in cases {
        assert_eq!(
            fixture.check(&case),
            Ok(Checked::Passed),
            "{name}: {case:?}"
        );
    }
}

#[test]
fn identifier_collision_regressions_pass_on_the_correct_portal_and_nir_lookup_ones_still_fire() {
    let cases: Vec<(String, IdentityPair)> = cases("identifier_collision");
    assert!(cases
        .iter()
        .any(|(name, _)| name.starts_with("nir_lookup_")));
    for (name, pair) in cases {
        assert_eq!(
            identifier_collision(&pair, false),
            Ok(Checked::Passed),
            "{name}"
        );
        if name.starts_with("nir_lookup_") {
            assert!(
                identifier_collision(&pair, true).is_err(),
                "{name}: the nir-lookup fault no longer shows"
            );
        }
    }
}
