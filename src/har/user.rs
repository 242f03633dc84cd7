//! Finds the recorded user: the export's row whose values the recording's requests send and its
//! responses show, and which of its columns is the password. No I/O.

use super::error::HarError;
use super::export::Export;
use super::recording::Exchange;
use crate::oracle::{Oracle, OracleBuilder, OracleError, OwnerId, ValueKind};
use std::collections::{BTreeSet, HashMap};

/// One value of the recorded user the scenario can template or watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserValue {
    /// Index into the export's columns.
    pub column: usize,
    pub variable: String,
    pub value: String,
    /// The value is unique and long enough to be watched.
    pub watchable: bool,
    /// The oracle field it is watched under, which `must_show` names (crossleak's own files:
    /// `nir13` as `nir`, `spare_iban` as `written_iban`; the variable for other exports).
    pub shown_as: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub owner: usize,
    pub line: u64,
    pub password: String,
    pub password_column: usize,
    /// Every other value the owner has, longest first.
    pub values: Vec<UserValue>,
}

/// Words a password field or column is named with.
const PASSWORD_NAMES: [&str; 6] = ["pass", "pwd", "mdp", "secret", "mot_de", "motdepasse"];

fn looks_like_password(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    PASSWORD_NAMES.iter().any(|w| name.contains(w))
}

/// The owner whose unique values the requests send most (and the responses show), with its
/// password: the column whose value a request sends exactly.
pub fn find(export: &Export, exchanges: &[Exchange], file: &str) -> Result<User, HarError> {
    let sent: Vec<(usize, String, String)> = exchanges
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.sent_values().into_iter().map(move |(k, v)| (i, k, v)))
        .collect();
    let (oracle, column_of) = unique_values(export).map_err(|e| {
        HarError::inference(
            file,
            format!("cannot index the export's values ({e})"),
            "give an export with fewer columns",
        )
    })?;
    let found = columns_seen(&oracle, &column_of, &sent, exchanges);
    let owner = recorded_owner(&found, export, file)?;
    let password_column = password_column(export, owner, &sent).ok_or_else(|| {
        HarError::inference(
            file,
            format!(
                "no request sends a password of line {} of the export",
                export.lines[owner]
            ),
            "record the login itself (the form or API call that sends the password), with the export's password column",
        )
    })?;
    let password = export
        .value(owner, password_column)
        .unwrap_or_default()
        .to_owned();
    Ok(User {
        owner,
        line: export.lines[owner],
        password,
        password_column,
        values: values_of(export, owner, password_column),
    })
}

/// For each owner: the columns whose values the requests send, and those the responses show.
type Sightings = HashMap<usize, (BTreeSet<usize>, BTreeSet<usize>)>;

/// Where the oracle finds each owner's values: in what the requests send (values and URL paths)
/// and in the response bodies.
fn columns_seen(
    oracle: &Oracle,
    column_of: &[usize],
    sent: &[(usize, String, String)],
    exchanges: &[Exchange],
) -> Sightings {
    let mut found = Sightings::new();
    let requests = sent
        .iter()
        .map(|(_, _, v)| v.as_bytes())
        .chain(exchanges.iter().map(|e| e.url.path().as_bytes()));
    for text in requests {
        for s in oracle.scan(text) {
            let (owner, c) = (s.owner as usize, column_of[s.field.index()]);
            found.entry(owner).or_default().0.insert(c);
        }
    }
    for e in exchanges {
        for s in oracle.scan(e.response_body.as_bytes()) {
            let (owner, c) = (s.owner as usize, column_of[s.field.index()]);
            found.entry(owner).or_default().1.insert(c);
        }
    }
    found
}

/// The owner the requests name by the most columns (a column a response shows counts a tenth),
/// refused when no owner's value is sent or two owners tie.
fn recorded_owner(found: &Sightings, export: &Export, file: &str) -> Result<usize, HarError> {
    let mut ranked: Vec<(usize, usize)> = found
        .iter()
        .filter(|(_, (in_requests, _))| !in_requests.is_empty())
        .map(|(owner, (req, resp))| (10 * req.len() + resp.len(), *owner))
        .collect();
    ranked.sort_by(|a, b| b.cmp(a));
    let Some(&(score, owner)) = ranked.first() else {
        return Err(HarError::inference(
            file,
            "no request of the recording sends a value of any owner of the export".into(),
            "record a login of an account that is in --population, and export the HAR with its content",
        ));
    };
    if let Some((second, other)) = ranked.get(1) {
        if *second == score {
            return Err(HarError::inference(
                file,
                format!(
                    "lines {} and {} of the export match the recording equally",
                    export.lines[owner.min(*other)],
                    export.lines[owner.max(*other)]
                ),
                "record a session of one account that shows its own data",
            ));
        }
    }
    Ok(owner)
}

/// The owner's values other than the password, longest first.
fn values_of(export: &Export, owner: usize, password_column: usize) -> Vec<UserValue> {
    let mut values: Vec<UserValue> = export
        .columns
        .iter()
        .enumerate()
        .filter(|(c, _)| *c != password_column)
        .filter_map(|(c, column)| {
            let value = export.value(owner, c)?;
            Some(UserValue {
                column: c,
                variable: column.variable.clone(),
                value: value.to_owned(),
                watchable: column.unique,
                shown_as: column
                    .shown_as
                    .clone()
                    .unwrap_or_else(|| column.variable.clone()),
            })
        })
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.value.len()));
    values
}

/// An oracle over every owner's values of the export's unique columns, each column of the kind
/// its values share, and the column of each oracle field (by field index).
fn unique_values(export: &Export) -> Result<(Oracle, Vec<usize>), OracleError> {
    let mut builder = OracleBuilder::new();
    let mut column_of = Vec::new();
    for (c, column) in export.columns.iter().enumerate() {
        if !column.unique {
            continue;
        }
        let values = (0..export.len()).filter_map(|owner| export.value(owner, c));
        let field = builder.field_of_kind(&c.to_string(), ValueKind::infer(values));
        column_of.resize(field.index() + 1, c);
        for owner in 0..export.len() {
            if let Some(value) = export.value(owner, c) {
                // A value another owner has too (in another column) tells neither apart: the
                // oracle refuses it, and it counts for no one.
                let _ = builder.add(owner as OwnerId, field, value);
            }
        }
    }
    Ok((builder.build()?, column_of))
}

/// crossleak's own files say which column is the password; any other export: the column whose
/// value is sent exactly under a password-like field name, else one with a password-like name.
fn password_column(
    export: &Export,
    owner: usize,
    sent: &[(usize, String, String)],
) -> Option<usize> {
    if export.own_format {
        return export.column_named("password");
    }
    let candidates: Vec<(usize, &str)> = export
        .columns
        .iter()
        .enumerate()
        .filter_map(|(c, _)| {
            let value = export.value(owner, c)?;
            sent.iter()
                .find(|(_, _, v)| v == value)
                .map(|(_, field, _)| (c, field.as_str()))
        })
        .collect();
    candidates
        .iter()
        .find(|(_, field)| looks_like_password(field))
        .or_else(|| {
            candidates
                .iter()
                .find(|(c, _)| looks_like_password(&export.columns[*c].column))
        })
        .or_else(|| candidates.iter().find(|(c, _)| !export.columns[*c].unique))
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::har::recording::RequestBody;
    use std::io::Write;

    fn export(text: &str) -> (tempfile::NamedTempFile, Export) {
        let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let export = Export::read(file.path(), None).unwrap();
        (file, export)
    }

    fn login(fields: &[(&str, &str)], page: &str) -> Vec<Exchange> {
        let mut e = crate::har::visits::tests::exchange(1, "POST", "http://127.0.0.1/login", 200);
        e.body = RequestBody::Form(
            fields
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        );
        e.response_body = page.into();
        vec![e]
    }

    const EXPORT: &str = "client,secret_word,mail\nC-2000001,same-pw,a.martin@x.test\nC-2000002,same-pw,b.durand@x.test\n";

    #[test]
    fn the_row_the_login_sends_is_the_user_and_its_password_column_is_found() {
        let (_file, export) = export(EXPORT);
        let exchanges = login(
            &[("id", "c-2000002"), ("pass", "same-pw")],
            "<p>b.durand@x.test</p>",
        );
        let user = find(&export, &exchanges, "r.har").unwrap();
        assert_eq!((user.owner, user.line), (1, 3));
        assert_eq!(export.columns[user.password_column].column, "secret_word");
        assert_eq!(user.password, "same-pw");
        assert!(user.values.iter().all(|v| v.variable != "secret_word"));
    }

    #[test]
    fn a_recording_of_no_one_or_of_two_owners_equally_is_refused() {
        let (_file, export) = export(EXPORT);
        let nobody = find(&export, &login(&[("id", "C-2000009")], ""), "r.har").unwrap_err();
        assert!(
            nobody
                .to_string()
                .contains("no request of the recording sends a value of any owner"),
            "{nobody}"
        );
        let both = find(
            &export,
            &login(&[("a", "C-2000001"), ("b", "C-2000002")], ""),
            "r.har",
        )
        .unwrap_err();
        assert!(
            both.to_string()
                .contains("lines 2 and 3 of the export match the recording equally"),
            "{both}"
        );
        let no_password = find(&export, &login(&[("id", "C-2000001")], ""), "r.har").unwrap_err();
        assert!(
            no_password
                .to_string()
                .contains("no request sends a password of line 2"),
            "{no_password}"
        );
    }

    /// The old har comparison decoded only the `@` of an e-mail address, so a page escaping its
    /// dots left the two owners tied.
    #[test]
    fn a_page_showing_an_escaped_e_mail_address_tells_the_recorded_owner() {
        let (_file, export) = export(EXPORT);
        let exchanges = login(
            &[("a", "C-2000001"), ("b", "C-2000002"), ("pass", "same-pw")],
            "<p>b&#46;durand&#64;x&#46;test</p>",
        );
        let user = find(&export, &exchanges, "r.har").unwrap();
        assert_eq!((user.owner, user.line), (1, 3));
    }
}
