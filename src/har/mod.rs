//! `crossleak scenario from-har`: a browser recording of one login, plus the population export the
//! recorded user is in, becomes a commented scenario file that `crossleak check` accepts as it is.
//!
//! Data flows one way: the HAR is read (`recording`), its exchanges grouped into visits with the
//! noise set aside (`visits`), the recorded user found in the export (`export`, `user`), the
//! export's columns mapped (`columns`), the login (`flow`, its requests templated by `template`)
//! and what followed it (`browse`) inferred into a [`draft::Draft`], which `writer` turns into
//! TOML. Values are compared as the oracle reads their presentations (`compare`); what the run's
//! oracle will see is asked of the oracle itself (`seen`). Nothing is sent over the network, and
//! nothing secret of the recording (cookies, tokens, passwords) reaches the file.

mod browse;
mod columns;
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
use crate::scenario::{is_loopback, Scenario};
use draft::{ColumnsDraft, Draft, LoginDraft, PopulationDraft};
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

/// Users of the generated phase at most.
const DEFAULT_USERS: usize = 20;

/// Reads the recording and the export, infers the scenario, writes it to `out` (if given) and
/// checks it as `crossleak check` would.
pub fn from_har(options: &FromHar) -> Result<Generated, HarError> {
    let file = options.recording.display().to_string();
    let exchanges = read_recording(&options.recording, &file)?;
    let export = Export::read(&options.population, options.format)?;
    let user = user::find(&export, &exchanges, &file)?;
    let visits = visits::visits(&exchanges);
    let credential = credential_visit(&visits, &exchanges, &user, &file)?;
    let origin = visits[credential].first(&exchanges).url.clone();
    let (kept, mut dropped) = set_noise_aside(&visits, &exchanges, &origin);
    let columns = columns::mapping(&export, &user, visits[credential].first(&exchanges), &file)?;
    let seer = columns::seer(&export, columns.as_ref(), user.owner, &file)?;
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
    let from_login = &kept[login.credential..];
    dropped.extend(unused_before_login(&exchanges, &visits, &kept, &login));
    let context = browse::Context {
        exchanges: &exchanges,
        user: &user,
        seer: &seer,
        session: &login.draft.session,
    };
    let browsed = browse_after_login(
        &context,
        &visits,
        from_login,
        &mut templater,
        &login.shown,
        &mut review,
    );
    dropped.extend(browsed.dropped);
    let login_draft = success(login.draft, &login.shown, &browsed.written, &mut review);
    if browsed.pages.is_empty() {
        review.push("no page after the login showed the user's own data: add [[page]]s for the personal pages, or record browsing them".into());
    }
    let others = others_shown(&seer, &exchanges, &visits, from_login);
    let columns = columns.map(|mut c| {
        columns::finish_watch(
            &mut c,
            &templater,
            &browsed.seen,
            &browsed.written,
            &mut review,
        );
        columns::household(&mut c, &export, user.owner, &others, &mut review);
        c
    });
    let dropped = left_out(dropped, &templater);
    let (base_url, remote_host) = target(options.base_url.as_deref(), &origin, &mut review);
    let draft = Draft {
        recording: recording_name(&options.recording, &file),
        entries: exchanges.len(),
        base_url,
        remote_host,
        population: population(&export, columns, options.out.as_deref()),
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

/// The recording's exchanges; `file` names it in errors.
fn read_recording(path: &Path, file: &str) -> Result<Vec<recording::Exchange>, HarError> {
    let text = std::fs::read_to_string(path).map_err(|e| HarError::Unreadable {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    recording::read(&text, file)
}

/// The recording's file name, as the scenario's name and header give it.
fn recording_name(path: &Path, file: &str) -> String {
    path.file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The first visit whose request sends the user's password: the login.
fn credential_visit(
    visits: &[visits::Visit],
    exchanges: &[recording::Exchange],
    user: &user::User,
    file: &str,
) -> Result<usize, HarError> {
    visits
        .iter()
        .position(|v| v.sends(exchanges, &user.password))
        .ok_or_else(|| {
            HarError::inference(
                file,
                "no request sends the recorded user's password".into(),
                "record the login itself, from the login page on",
            )
        })
}

/// The visits that are not noise (indexes, in order), and a line for each one that is.
fn set_noise_aside(
    visits: &[visits::Visit],
    exchanges: &[recording::Exchange],
    origin: &Url,
) -> (Vec<usize>, Vec<String>) {
    let mut dropped: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for (index, visit) in visits.iter().enumerate() {
        match visits::noise(visit, exchanges, origin) {
            Some(why) => dropped.push(visits::describe(visit.first(exchanges), why)),
            None => kept.push(index),
        }
    }
    (kept, dropped)
}

/// A line for each kept visit up to the login's that no step of the login uses.
fn unused_before_login(
    exchanges: &[recording::Exchange],
    visits: &[visits::Visit],
    kept: &[usize],
    login: &flow::Login,
) -> Vec<String> {
    kept[..=login.credential]
        .iter()
        .filter(|v| {
            !login
                .draft
                .steps
                .iter()
                .any(|s| s.entries == visits[**v].entries(exchanges))
        })
        .map(|v| {
            visits::describe(
                visits[*v].first(exchanges),
                "before the login, and nothing the login sends comes from it",
            )
        })
        .collect()
}

/// What followed the login (`from_login`: the credential visit, then the kept visits after it),
/// with the page the login's redirects landed on.
fn browse_after_login(
    cx: &browse::Context<'_>,
    visits: &[visits::Visit],
    from_login: &[usize],
    templater: &mut template::Templater<'_>,
    shown: &[String],
    review: &mut Vec<String>,
) -> browse::Browse {
    let credential_visit = &visits[from_login[0]];
    let landing = (credential_visit.hops.len() > 1).then_some(credential_visit);
    let after: Vec<&visits::Visit> = from_login[1..].iter().map(|v| &visits[*v]).collect();
    browse::infer(cx, landing, &after, templater, shown, review)
}

/// The login's success check: the landing page must show what it showed of the user, but no
/// value a write changes; a login that lands nowhere and shows nothing must answer 200. Adds
/// the note on expired sessions to review.
fn success(
    mut login: LoginDraft,
    shown: &[String],
    written: &[String],
    review: &mut Vec<String>,
) -> LoginDraft {
    login.must_show = shown
        .iter()
        .filter(|f| !written.contains(f))
        .cloned()
        .collect();
    if login.landing_path.is_none() && login.must_show.is_empty() {
        login.status.get_or_insert(200);
    }
    if let Some(first) = login.steps.first() {
        review.push(format!(
            "expired sessions: a 401 means \"log in again\" (the default); if the portal redirects an expired session to its login page instead, add expired_when = {{ status = [401], landing_path = {:?} }} to the flow",
            first.request.path
        ));
    }
    login
}

/// Other owners whose values the user's own pages show (household partners, or a leak in the
/// recording), in owner order.
fn others_shown(
    seer: &seen::Seer,
    exchanges: &[recording::Exchange],
    visits: &[visits::Visit],
    from_login: &[usize],
) -> Vec<usize> {
    let mut others: Vec<usize> = from_login
        .iter()
        .flat_map(|v| seer.other_owners(visits[*v].last(exchanges)))
        .collect();
    others.sort_unstable();
    others.dedup();
    others
}

/// The `[population]` section: the export's path from the scenario's folder, its format and
/// columns.
fn population(
    export: &Export,
    columns: Option<ColumnsDraft>,
    out: Option<&Path>,
) -> PopulationDraft {
    PopulationDraft {
        file: export.path_from(&scenario_dir(out)),
        format: columns::format_name(export),
        columns,
    }
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
