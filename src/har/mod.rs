//! `crossleak scenario from-har`: a browser recording of one login, plus the population export the
//! recorded user is in, becomes a commented scenario file that `crossleak check` accepts as it is.
//!
//! Data flows one way: the HAR is read (`recording`), its exchanges grouped into visits with the
//! noise set aside (`visits`), the recorded user found in the export (`export`, `user`), the login
//! (`flow`) and what followed it (`browse`) inferred into a [`draft::Draft`], which `writer` turns
//! into TOML. Values are compared as the oracle reads their presentations (`compare`); what the
//! run's oracle will see is asked of the oracle itself (`seen`). Nothing is sent over the network, and nothing
//! secret of the recording (cookies, tokens, passwords) reaches the file.

mod browse;
pub mod compare;
pub mod draft;
mod error;
mod export;
mod flow;
pub mod recording;
mod seen;
mod template;
mod user;
mod visits;
mod writer;

pub use error::HarError;

use crate::population::FileFormat;
use crate::scenario::{is_loopback, PopulationSource, Scenario};
use draft::{ColumnsDraft, Draft, PopulationDraft};
use export::Export;
use std::path::{Path, PathBuf};
use url::Url;

/// What `crossleak scenario from-har` is asked.
#[derive(Clone, Debug)]
pub struct FromHar {
    pub recording: PathBuf,
    pub population: PathBuf,
    /// Defaults from the export's extension.
    pub format: Option<FileFormat>,
    /// Where the scenario goes; `None`: returned only (the CLI prints it).
    pub out: Option<PathBuf>,
    /// The target to write instead of the recorded one.
    pub base_url: Option<String>,
}

/// The scenario written, and a line saying what it holds.
#[derive(Clone, Debug)]
pub struct Generated {
    pub text: String,
    pub draft: Draft,
}

/// Columns whose name says they group owners into households.
const HOUSEHOLD_NAMES: [&str; 5] = ["household", "foyer", "famille", "family", "menage"];
/// Users of the generated phase at most.
const DEFAULT_USERS: usize = 20;

/// Reads the recording and the export, infers the scenario, writes it to `out` (if given) and
/// checks it as `crossleak check` would.
pub fn from_har(options: &FromHar) -> Result<Generated, HarError> {
    let file = options.recording.display().to_string();
    let text = std::fs::read_to_string(&options.recording).map_err(|e| HarError::Unreadable {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let exchanges = recording::read(&text, &file)?;
    let export = Export::read(&options.population, options.format)?;
    let inference = |message: String, help: &str| HarError::Inference {
        file: file.clone(),
        message,
        help: help.to_owned(),
    };
    let user = user::find(&export, &exchanges, &file)?;
    let visits = visits::visits(&exchanges);
    let credential = visits
        .iter()
        .position(|v| {
            v.first(&exchanges)
                .sent_values()
                .iter()
                .any(|(_, value)| *value == user.password)
        })
        .ok_or_else(|| {
            inference(
                "no request sends the recorded user's password".into(),
                "record the login itself, from the login page on",
            )
        })?;
    let origin = visits[credential].first(&exchanges).url.clone();
    let mut dropped: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for (index, visit) in visits.iter().enumerate() {
        match visits::noise(visit, &exchanges, &origin) {
            Some(why) => dropped.push(visits::describe(visit.first(&exchanges), why)),
            None => kept.push(index),
        }
    }
    let credential_request = visits[credential].first(&exchanges);
    let columns = mapping(&export, &user, credential_request, &file)?;
    let source = population_source(&export, columns.as_ref(), &file)?;
    let seer = seen::Seer::new(&source, user.owner).map_err(|message| HarError::Population {
        file: export.path.display().to_string(),
        message,
        help: "the export must be readable as the scenario will read it".into(),
    })?;
    let mut templater = template::Templater::new(&user, &exchanges);
    let mut review = Vec::new();
    let login = flow::infer(
        &exchanges,
        &visits,
        &kept,
        &mut templater,
        &seer,
        &mut review,
        &file,
    )?;
    let credential_at = login.credential;
    let after: Vec<&visits::Visit> = kept[credential_at + 1..]
        .iter()
        .map(|v| &visits[*v])
        .collect();
    let login_visits: Vec<usize> = kept[..=credential_at].to_vec();
    for v in &login_visits {
        let used = login
            .draft
            .steps
            .iter()
            .any(|s| s.entries == visits[*v].entries(&exchanges));
        if !used {
            dropped.push(visits::describe(
                visits[*v].first(&exchanges),
                "before the login, and nothing the login sends comes from it",
            ));
        }
    }
    let context = browse::Context {
        exchanges: &exchanges,
        user: &user,
        seer: &seer,
        session: &login.draft.session,
    };
    let credential_visit = &visits[kept[credential_at]];
    let landing = (credential_visit.hops.len() > 1).then_some(credential_visit);
    let browsed = browse::infer(
        &context,
        landing,
        &after,
        &mut templater,
        &login.shown,
        &mut review,
    );
    dropped.extend(browsed.dropped);
    let mut login_draft = login.draft;
    login_draft.must_show = login
        .shown
        .iter()
        .filter(|f| !browsed.written.contains(f))
        .cloned()
        .collect();
    if login_draft.landing_path.is_none() && login_draft.must_show.is_empty() {
        login_draft.status.get_or_insert(200);
    }
    if let Some(first) = login_draft.steps.first() {
        review.push(format!(
            "expired sessions: a 401 means \"log in again\" (the default); if the portal redirects an expired session to its login page instead, add expired_when = {{ status = [401], landing_path = {:?} }} to the flow",
            first.request.path
        ));
    }
    if browsed.pages.is_empty() {
        review.push("no page after the login showed the user's own data: add [[page]]s for the personal pages, or record browsing them".into());
    }
    let scenario_dir = scenario_dir(options.out.as_deref());
    // Other owners' values on the user's own pages: household partners, or a leak in the recording.
    let mut others: Vec<usize> = kept[credential_at..]
        .iter()
        .flat_map(|v| seer.other_owners(visits[*v].last(&exchanges)))
        .collect();
    others.sort_unstable();
    others.dedup();
    let columns = columns.map(|mut c| {
        finish_watch(
            &mut c,
            &templater,
            &browsed.seen,
            &browsed.written,
            &mut review,
        );
        household(&mut c, &export, user.owner, &others, &mut review);
        c
    });
    let dropped = left_out(dropped, &templater);
    let (base_url, remote_host) = target(options.base_url.as_deref(), &origin, &mut review);
    let draft = Draft {
        recording: options
            .recording
            .file_name()
            .map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned()),
        entries: exchanges.len(),
        base_url,
        remote_host,
        population: PopulationDraft {
            file: export.path_from(&scenario_dir),
            format: format_name(&export),
            columns,
        },
        user_line: user.line,
        login: login_draft,
        pages: browsed.pages,
        writes: browsed.writes,
        suggestions: browsed.suggestions,
        logout: browsed.logout,
        dropped,
        review,
        users: export.len().min(DEFAULT_USERS),
    };
    let text = writer::write(&draft);
    check(&text, options)?;
    Ok(Generated { text, draft })
}

/// The folder the scenario goes to, which its relative paths start from.
fn scenario_dir(out: Option<&Path>) -> PathBuf {
    match out.and_then(Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The entries left out, in the recording's order; an address that holds the user's values is
/// templated like the rest, one that holds a cookie or token is not written.
fn left_out(dropped: Vec<String>, templater: &template::Templater<'_>) -> Vec<String> {
    let mut lines: Vec<String> = dropped
        .into_iter()
        .map(|line| {
            templater.value(&line).unwrap_or_else(|| {
                let entry = line.split(':').next().unwrap_or_default();
                format!("{entry}: an address that held a cookie or token — left out")
            })
        })
        .collect();
    lines.sort_by_key(|line| {
        line.strip_prefix("entry ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse::<usize>().ok())
    });
    lines
}

/// Writes the file (if asked) and validates it as `crossleak check` does.
fn check(text: &str, options: &FromHar) -> Result<(), HarError> {
    let result = match &options.out {
        Some(out) => {
            std::fs::write(out, text).map_err(|e| HarError::Write {
                path: out.display().to_string(),
                message: e.to_string(),
            })?;
            Scenario::load(out).map(|_| ())
        }
        None => Scenario::parse(text, "from-har.toml").map(|_| ()),
    };
    result.map_err(|errors| HarError::Inference {
        file: options.recording.display().to_string(),
        message: format!("the scenario written does not pass crossleak check:\n{errors}"),
        help: "this is a bug in from-har: please report it with the recording's shape".into(),
    })
}

fn format_name(export: &Export) -> &'static str {
    match (export.own_format, export.format) {
        (true, FileFormat::Csv) => "crossleak-csv",
        (true, FileFormat::Jsonl) => "crossleak-jsonl",
        (false, FileFormat::Csv) => "csv",
        (false, FileFormat::Jsonl) => "jsonl",
    }
}

/// A mapped export's columns: identifiers are the unique, complete columns the login sends;
/// every other unique column is watched for now (narrowed by [`finish_watch`]).
fn mapping(
    export: &Export,
    user: &user::User,
    credential: &recording::Exchange,
    file: &str,
) -> Result<Option<ColumnsDraft>, HarError> {
    if export.own_format {
        return Ok(None);
    }
    let sent = credential.sent_values();
    let identifiers: Vec<(String, String)> = user
        .values
        .iter()
        .filter(|v| v.watchable && export.columns[v.column].complete)
        .filter(|v| sent.iter().any(|(_, s)| compare::same(s, &v.value)))
        .map(|v| (v.variable.clone(), export.columns[v.column].column.clone()))
        .collect();
    if identifiers.is_empty() {
        return Err(HarError::Inference {
            file: file.to_owned(),
            message: format!(
                "the login (entry {}) sends no value of a column that is unique and filled for every owner",
                credential.entry
            ),
            help: "the export needs the login's identifier as a column (client number, login, e-mail)".into(),
        });
    }
    let watch = user
        .values
        .iter()
        .filter(|v| v.watchable && !identifiers.iter().any(|(i, _)| *i == v.variable))
        .map(|v| (v.variable.clone(), export.columns[v.column].column.clone()))
        .collect();
    let household = export
        .columns
        .iter()
        .find(|c| {
            !c.unique
                && HOUSEHOLD_NAMES
                    .iter()
                    .any(|w| c.column.to_ascii_lowercase().contains(w))
        })
        .map(|c| c.column.clone());
    Ok(Some(ColumnsDraft {
        identifiers,
        password: export.columns[user.password_column].column.clone(),
        watch,
        household,
    }))
}

/// Keeps the watched columns the scenario uses or the recording showed; names the others.
fn finish_watch(
    columns: &mut ColumnsDraft,
    templater: &template::Templater<'_>,
    seen: &[String],
    written: &[String],
    review: &mut Vec<String>,
) {
    let used = templater.used.borrow();
    let (keep, left): (Vec<_>, Vec<_>) = columns.watch.drain(..).partition(|(variable, _)| {
        used.contains(variable) || seen.contains(variable) || written.contains(variable)
    });
    columns.watch = keep;
    if !left.is_empty() {
        review.push(format!(
            "also unique in the export but not seen in the recording, so not watched: {} (add them to watch to look for them too)",
            left.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(household) = &columns.household {
        review.push(format!(
            "household: owners with the same {household} may see each other's data"
        ));
    }
}

/// The population as the written scenario will read it: its `[population]` section, validated by
/// the scenario parser (so every key a run honours is honoured here too), the file absolute.
/// Owners whose values the user's pages showed share the user's household if a column says so:
/// the named household column, or else the one column whose value they all share with the user.
fn household(
    columns: &mut ColumnsDraft,
    export: &Export,
    owner: usize,
    others: &[usize],
    review: &mut Vec<String>,
) {
    if others.is_empty() {
        return;
    }
    let lines: Vec<String> = others
        .iter()
        .map(|o| export.lines[*o].to_string())
        .collect();
    let shares = |c: usize| {
        let mine = export.value(owner, c);
        mine.is_some() && others.iter().all(|o| export.value(*o, c) == mine)
    };
    let named = columns
        .household
        .as_ref()
        .and_then(|h| export.columns.iter().position(|c| c.column == *h));
    if let Some(c) = named {
        if !shares(c) {
            review.push(format!(
                "the user's pages show the data of line(s) {} of the export, which are not in the user's {} household: a leak in the recording itself, or a household column to fix",
                lines.join(", "),
                export.columns[c].column
            ));
        }
        return;
    }
    let password = columns.password.as_str();
    let shared = (0..export.columns.len()).find(|c| {
        let column = &export.columns[*c];
        !column.unique && column.column != password && shares(*c)
    });
    match shared {
        Some(c) => {
            let column = export.columns[c].column.clone();
            review.push(format!(
                "household = {column:?}: the user's pages show line(s) {} of the export, which share the user's {column}",
                lines.join(", ")
            ));
            columns.household = Some(column);
        }
        None => review.push(format!(
            "the user's pages show the data of line(s) {} of the export and no column groups them with the user: a leak in the recording itself, or a household the export does not hold",
            lines.join(", ")
        )),
    }
}

fn population_source(
    export: &Export,
    columns: Option<&ColumnsDraft>,
    file: &str,
) -> Result<PopulationSource, HarError> {
    let path = export
        .path
        .canonicalize()
        .unwrap_or_else(|_| export.path.clone());
    let probe = writer::population_probe(&PopulationDraft {
        file: path.display().to_string(),
        format: format_name(export),
        columns: columns.cloned(),
    });
    Scenario::parse(&probe, &format!("{file} (its population)"))
        .map(|scenario| scenario.population)
        .map_err(|errors| HarError::Population {
            file: export.path.display().to_string(),
            message: format!("the columns found do not make a valid mapping: {errors}"),
            help: "check that the export's identifying columns are unique across owners".into(),
        })
}

/// The base URL to write: the one asked, else the recorded origin when it is loopback, else a
/// loopback placeholder (a load on a recorded production host would be an incident).
fn target(asked: Option<&str>, origin: &Url, review: &mut Vec<String>) -> (String, Option<String>) {
    let origin_text = origin.origin().ascii_serialization();
    let base = match asked {
        Some(asked) => asked.trim_end_matches('/').to_owned(),
        None if origin.host_str().is_some_and(is_loopback) => origin_text,
        None => {
            review.push(format!(
                "the recording is of {origin_text}, which is not loopback: base_url is a placeholder; pass --base-url with your staging copy's address"
            ));
            "http://127.0.0.1:8080".to_owned()
        }
    };
    let remote = Url::parse(&base)
        .ok()
        .filter(|u| !u.host_str().is_some_and(is_loopback))
        .and_then(|u| u.host_str().map(str::to_owned));
    (base, remote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_remote_host_is_never_the_target_unless_asked() {
        let mut review = Vec::new();
        let recorded = Url::parse("https://portail.example.org/connexion").unwrap();
        assert_eq!(
            target(None, &recorded, &mut review),
            ("http://127.0.0.1:8080".to_owned(), None)
        );
        assert!(review[0].contains("pass --base-url"), "{review:?}");
        let asked = target(Some("https://staging.example.org/"), &recorded, &mut review);
        assert_eq!(
            asked,
            (
                "https://staging.example.org".to_owned(),
                Some("staging.example.org".to_owned())
            )
        );
        let local = Url::parse("http://localhost:3000/login").unwrap();
        assert_eq!(
            target(None, &local, &mut review),
            ("http://localhost:3000".to_owned(), None)
        );
    }
}
