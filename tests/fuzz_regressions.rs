//! Replays every input kept under `fuzz/regressions/<target>/` through the same library function
//! the fuzz target calls, so a crash found once by cargo-fuzz stays fixed under plain `cargo test`.

use std::path::Path;

fn replay(target: &str, property: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        property(&data);
        replayed += 1;
    }
    replayed
}

#[test]
fn nir_parse_regressions_stay_fixed() {
    let replayed = replay("nir_parse", crossleak::fuzzing::nir_parse);
    assert!(replayed > 0, "no regression input replayed");
}
