//! `[population]` and `[population.columns]`: variables offered, a mapped export's header and
//! column kinds.

use super::*;

#[test]
fn a_broken_population_does_not_cascade_into_unknown_variables() {
    let text = MINIMAL.replace("generate = { size = 10 }", "generate = { size = \"ten\" }");
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::WrongType);
}

#[test]
fn a_template_variable_the_population_lacks_lists_the_available_ones() {
    let text = MINIMAL.replace("{{numero_allocataire}}", "{{numero_alocataire}}");
    let error = only_error(&text).to_string();
    assert!(error.contains("scenarios/x.toml:16:"), "{error}");
    assert!(
        error.contains("did you mean \"numero_allocataire\"?"),
        "{error}"
    );
    assert!(error.contains("\"nir13\""), "{error}");
}

#[test]
fn a_mapped_export_is_checked_against_its_header_on_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("export.csv"),
        "num_client,mdp,courriel,foyer\nC-1000001,pw-a,a@x.test,F1\nC-1000002,pw-b,b@x.test,F1\n",
    )
    .unwrap();
    let population = r#"[population]
file = "export.csv"
format = "csv"

[population.columns]
identifiers = { client = "num_client" }
password = "mdp"
watch = { email = "courriel" }
household = "foyer"
"#;
    let text = MINIMAL
        .replace("[population]\ngenerate = { size = 10 }\n", population)
        .replace("{{numero_allocataire}}", "{{client}}")
        .replace(
            "must_show = [\"numero_allocataire\"]",
            "must_show = [\"client\", \"email\"]",
        );
    let path = dir.path().join("portal.toml");
    std::fs::write(&path, &text).unwrap();
    let s = Scenario::load(&path).unwrap();
    assert_eq!(s.pages[0].must_show, ["client", "email"]);
    let LoadedPopulation::Watched(owners) = s.population.read().unwrap() else {
        panic!("a mapped export reads as watched owners");
    };
    assert_eq!(owners.fields, ["client", "email"]);
    assert_eq!(owners.owners[1].household, 0);
    assert_eq!(owners.owners[1].value("client"), Some("C-1000002"));

    std::fs::write(&path, text.replace("\"courriel\"", "\"courriels\"")).unwrap();
    let error = Scenario::load(&path).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("did you mean \"courriel\"?"), "{message}");

    // A variable the mapping does not provide lists the ones it does.
    std::fs::write(&path, text.replace("{{client}}", "{{nir}}")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("{{nir}}"), "{message}");
    assert!(
        message.contains("\"client\", \"email\" or \"password\""),
        "{message}"
    );
}

#[test]
fn a_column_declares_its_kind_or_has_it_inferred_and_bad_kinds_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("export.csv"),
        "num_client,mdp,tel,rib\nC-1000001,pw-a,06 39 98 05 96,FR7630006000011234567890189\nC-1000002,pw-b,0639980597,x\n",
    )
    .unwrap();
    let population = r#"[population]
file = "export.csv"
format = "csv"

[population.columns]
identifiers = { client = "num_client" }
password = "mdp"
watch = { phone = "tel", rib = { column = "rib", kind = "text" } }
"#;
    let text = MINIMAL
        .replace("[population]\ngenerate = { size = 10 }\n", population)
        .replace("{{numero_allocataire}}", "{{client}}")
        .replace(
            "must_show = [\"numero_allocataire\"]",
            "must_show = [\"client\"]",
        );
    let path = dir.path().join("portal.toml");
    std::fs::write(&path, &text).unwrap();
    let LoadedPopulation::Watched(owners) =
        Scenario::load(&path).unwrap().population.read().unwrap()
    else {
        panic!("a mapped export reads as watched owners");
    };
    let kinds: Vec<(ValueKind, bool)> = owners.kinds.iter().map(|k| (k.kind, k.inferred)).collect();
    assert_eq!(
        kinds,
        [
            (ValueKind::Text, true),
            (ValueKind::PhoneFr, true),
            (ValueKind::Text, false)
        ]
    );

    // A kind the values do not have: the export's line, and the way out.
    std::fs::write(&path, text.replace("kind = \"text\"", "kind = \"iban\"")).unwrap();
    let error = Scenario::load(&path)
        .unwrap()
        .population
        .read()
        .unwrap_err();
    assert_eq!(error.line(), Some(3), "{error}");
    assert!(error.to_string().contains("kind = \"text\""), "{error}");

    // An unknown kind, or key, is an error at its line with the fix.
    std::fs::write(&path, text.replace("kind = \"text\"", "kind = \"ibann\"")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("did you mean \"iban\"?"), "{message}");
    std::fs::write(&path, text.replace("kind = \"text\"", "kinds = \"text\"")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("\"column\" and \"kind\""), "{message}");
}
