//! What the load runner knows about a target, taken from a scenario: its login flows, the pages
//! to read and what each must show, the writes, logout. `demo_scenario()` is the demo portal's.

use crate::population::Field;
use crate::scenario::{LoginFlow, Logout, Page, Phase, Scenario, ScenarioErrors, Write};

/// The demo portal's journey, as a scenario file compiled into the binary.
pub const DEMO_SCENARIO: &str = include_str!("../../scenarios/demo.toml");

/// Parses the embedded demo scenario.
pub fn demo_scenario() -> Result<Scenario, ScenarioErrors> {
    Scenario::parse(DEMO_SCENARIO, "scenarios/demo.toml")
}

/// Everything the load runner needs to drive one target.
#[derive(Clone, Debug)]
pub struct Site {
    pub flows: Vec<LoginFlow>,
    pub pages: Vec<Page>,
    pub writes: Vec<Write>,
    pub logout: Option<Logout>,
    /// Per page, whether its request templates a watched value (`{{nir}}`, `{{nir13}}`,
    /// `{{spare_iban}}`, a mapped identifier…): only those are replayed as another owner (with no
    /// such value the request would ask for the same thing).
    pub replayable: Vec<bool>,
}

impl Site {
    pub fn from_scenario(scenario: &Scenario) -> Site {
        let watched = scenario.population.watched_variables();
        Site {
            replayable: scenario
                .pages
                .iter()
                .map(|page| page.request.templates_any(&watched))
                .collect(),
            flows: scenario.login_flows.clone(),
            pages: scenario.pages.clone(),
            writes: scenario.writes.clone(),
            logout: scenario.logout.clone(),
        }
    }

    /// The demo portal's site.
    pub fn demo() -> Site {
        Site::from_scenario(&demo_scenario().expect("the embedded demo scenario is valid"))
    }

    /// The flow a user plays in `phase`: the phase's mix, spread over user numbers.
    pub fn flow_for(&self, phase: &Phase, user: usize) -> usize {
        let name = phase.flow_for(user);
        self.flows.iter().position(|f| f.name == name).unwrap_or(0)
    }
}

/// Oracle field names (as scenarios write them) to population fields; names the population does
/// not know are skipped (the scenario validator already refused them).
pub fn fields(names: &[String]) -> Vec<Field> {
    names.iter().filter_map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_demo_scenario_is_valid_and_complete() {
        let site = Site::demo();
        assert_eq!(site.flows.len(), 2);
        assert!(site.pages.len() >= 2);
        assert_eq!(site.writes.len(), 1);
        assert!(site.logout.is_some());
        assert_eq!(
            fields(&site.pages[0].must_show),
            [Field::NumeroAllocataire, Field::Nir]
        );
    }

    /// A page addressed by a value derived from a watched one (the NIR's 13-character body, the
    /// spare IBAN) asks for another owner's file when replayed with that owner's values.
    #[test]
    fn a_page_templating_a_derived_watched_value_is_replayed_as_another_owner() {
        let pages = "[[page]]\nname = \"by nir13\"\npath = \"/api/assures/{{nir13}}\"\n\n\
                     [[page]]\nname = \"by spare iban\"\npath = \"/api/rib/{{spare_iban}}\"\n\n\
                     [[page]]\nname = \"by city\"\npath = \"/ville/{{city}}\"\n";
        let text = DEMO_SCENARIO.replacen("[[page]]", &format!("{pages}\n[[page]]"), 1);
        let scenario = Scenario::parse(&text, "derived.toml").unwrap_or_else(|e| panic!("{e}"));
        let site = Site::from_scenario(&scenario);
        assert_eq!(&site.replayable[..3], [true, true, false]);
    }
}
