//! The rooms of ARCHITECTURE.md keep their walls: each room imports only the rooms its "may use"
//! column names, so data flows one way and no lower room reaches up. Reads the sources only.

use std::collections::BTreeSet;
use std::path::Path;

/// Each room and the rooms it may use, as ARCHITECTURE.md's table says.
const ROOMS: &[(&str, &[&str])] = &[
    ("identifiers", &[]),
    ("oracle", &[]),
    ("faults", &[]),
    ("outcome", &[]),
    ("error_cause", &[]),
    ("population", &["identifiers", "oracle"]),
    ("scenario", &["population", "oracle", "faults"]),
    ("transport", &["scenario", "error_cause"]),
    ("findings", &["population"]),
    (
        "load",
        &[
            "transport",
            "oracle",
            "population",
            "scenario",
            "findings",
            "error_cause",
        ],
    ),
    (
        "report",
        &["findings", "load", "outcome", "scenario", "transport"],
    ),
    ("har", &["scenario", "population", "oracle", "load"]),
    ("portal", &["faults", "identifiers", "population"]),
];

/// Every `crate::room` a room's code (comments left out) names, other than itself.
fn imports_of(room: &str) -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let file = src.join(format!("{room}.rs"));
    if file.exists() {
        files.push(file);
    }
    let mut dirs = vec![src.join(room)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "room {room} has no source");
    let mut imports = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source");
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let name: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != room && !name.is_empty() {
                    imports.insert(name);
                }
            }
        }
    }
    imports
}

#[test]
fn each_room_imports_only_the_rooms_it_may_use() {
    let mut breaches = Vec::new();
    for (room, allowed) in ROOMS {
        for import in imports_of(room) {
            if !allowed.contains(&import.as_str()) {
                breaches.push(format!("{room} imports {import}"));
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "walls crossed (fix the import, or ARCHITECTURE.md and this table together): {breaches:?}"
    );
}
