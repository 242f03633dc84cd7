//! What a valid scenario asks for that would quietly do nothing: said by `crossleak check` and at
//! a run's start, never an error. Pure: judged from the validated model alone.

use super::model::{ReplayIdentity, Scenario};

impl Scenario {
    /// One sentence per key that validates but would have no effect, each naming what to change.
    pub fn warnings(&self) -> Vec<String> {
        self.replay_as_other_user_replays_nothing()
            .into_iter()
            .collect()
    }

    /// `replay` as `other_user` re-sends only a page read whose request templates a watched
    /// variable (the load's rule): with no such page it replays nothing.
    fn replay_as_other_user_replays_nothing(&self) -> Option<String> {
        let replay = self.load.replay.as_ref()?;
        if !replay.identities.contains(&ReplayIdentity::OtherUser) {
            return None;
        }
        let watched = self.population.watched_variables();
        if self.pages.iter().any(|p| p.request.templates_any(&watched)) {
            return None;
        }
        let pages: Vec<String> = self.pages.iter().map(|p| format!("{:?}", p.name)).collect();
        let pages = match pages.is_empty() {
            true => "the scenario has none".to_owned(),
            false => pages.join(", "),
        };
        let example = watched.first().map_or("numero_allocataire", String::as_str);
        let watched: Vec<String> = watched.iter().map(|w| format!("{{{{{w}}}}}")).collect();
        Some(format!(
            "[load] replay as \"other_user\" will replay nothing: no page's request templates a watched variable (pages: {pages}; watched: {}); template one into a page's path, query, form or JSON (e.g. path = \"/api/dossiers/{{{{{example}}}}}\"), or remove \"other_user\" from replay's as",
            watched.join(", "),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    use crate::scenario::tests::MINIMAL;

    /// [`MINIMAL`] with a second page templating an unwatched variable, and replay as other_user.
    fn scenario() -> String {
        MINIMAL.to_owned()
            + "\n[[page]]\nname = \"ville\"\npath = \"/ville/{{city}}\"\n\n[load]\nreplay = { as = [\"other_user\"] }\n"
    }

    fn warnings(text: &str) -> Vec<String> {
        Scenario::parse(text, "w.toml")
            .unwrap_or_else(|e| panic!("{e}"))
            .warnings()
    }

    #[test]
    fn replay_as_another_owner_with_no_page_templating_a_watched_value_names_pages_and_variables() {
        let warnings = warnings(&scenario());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            warnings[0],
            "[load] replay as \"other_user\" will replay nothing: no page's request templates a watched variable (pages: \"GET /home\", \"ville\"; watched: {{numero_allocataire}}, {{nir}}, {{nir13}}, {{phone}}, {{email}}, {{iban}}, {{spare_iban}}, {{written_iban}}); template one into a page's path, query, form or JSON (e.g. path = \"/api/dossiers/{{numero_allocataire}}\"), or remove \"other_user\" from replay's as"
        );
    }

    #[test]
    fn a_page_templating_a_watched_value_or_anonymous_replay_alone_warns_nothing() {
        let templated = scenario().replace("/ville/{{city}}", "/dossier/{{numero_allocataire}}");
        assert_eq!(warnings(&templated), Vec::<String>::new());
        let anonymous = scenario().replace("as = [\"other_user\"]", "as = [\"anonymous\"]");
        assert_eq!(warnings(&anonymous), Vec::<String>::new());
        let no_replay = scenario().replace("replay = { as = [\"other_user\"] }\n", "");
        assert_eq!(warnings(&no_replay), Vec::<String>::new());
    }
}
