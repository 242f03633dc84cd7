//! What the load runner knows about a target: its login flows, the pages to read and what each must
//! show, the write it may make. Plain data; the demo portal's description is `Site::demo()`.

use crate::population::{Beneficiary, Field};

/// Which of a beneficiary's values a login form sends as the identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginIdentifier {
    NumeroAllocataire,
    /// The 13 characters of the NIR without its key, as the CAF asks since 2021.
    NirBody,
}

impl LoginIdentifier {
    pub fn value_of(self, beneficiary: &Beneficiary) -> String {
        match self {
            Self::NumeroAllocataire => beneficiary.numero_allocataire.as_str().to_owned(),
            Self::NirBody => beneficiary.nir.body().as_str().to_owned(),
        }
    }
}

/// One way to log in: a form posted to `path`, whose success lands on `success_path`.
#[derive(Clone, Debug)]
pub struct LoginFlow {
    pub name: String,
    pub path: String,
    pub identifier: LoginIdentifier,
    pub identifier_field: String,
    pub password_field: String,
    pub success_path: String,
    /// What the landing page must show of the account the login opened.
    pub must_show: Vec<Field>,
}

/// A page read by every user, and the user's own fields it must show.
#[derive(Clone, Debug)]
pub struct Page {
    pub path: String,
    pub must_show: Vec<Field>,
}

/// A write of the user's own data: the form field carries a value unique to the user, and the page
/// it lands on must then show it.
#[derive(Clone, Debug)]
pub struct RibChange {
    pub path: String,
    pub form_field: String,
    pub landing_path: String,
}

/// A password change: a form with the old and the new password, landing on a page.
#[derive(Clone, Debug)]
pub struct PasswordChange {
    pub path: String,
    pub old_field: String,
    pub new_field: String,
    pub landing_path: String,
}

/// Everything the load runner needs to drive one target.
#[derive(Clone, Debug)]
pub struct Site {
    pub login_flows: Vec<LoginFlow>,
    pub login_page: String,
    pub pages: Vec<Page>,
    pub rib_change: Option<RibChange>,
    /// The cookie that carries the session, to watch its tokens and replay old ones.
    pub session_cookie: Option<String>,
    /// Logout: a POST to this path ends the session.
    pub logout: Option<String>,
    pub password_change: Option<PasswordChange>,
}

impl Site {
    /// The embedded demo portal: both login paths, the account page, the JSON file, a RIB change.
    pub fn demo() -> Self {
        let identity = vec![Field::NumeroAllocataire, Field::Nir];
        let flow = |name: &str, path: &str, identifier, field: &str| LoginFlow {
            name: name.into(),
            path: path.into(),
            identifier,
            identifier_field: field.into(),
            password_field: "mot_de_passe".into(),
            success_path: "/mon-compte".into(),
            must_show: identity.clone(),
        };
        Site {
            login_flows: vec![
                flow(
                    "legacy",
                    "/connexion/allocataire",
                    LoginIdentifier::NumeroAllocataire,
                    "numero_allocataire",
                ),
                flow("nir", "/connexion/nir", LoginIdentifier::NirBody, "nir"),
            ],
            login_page: "/connexion".into(),
            pages: vec![
                Page {
                    path: "/mon-compte".into(),
                    must_show: identity.clone(),
                },
                Page {
                    path: "/api/dossier".into(),
                    must_show: identity,
                },
            ],
            rib_change: Some(RibChange {
                path: "/mon-compte/rib".into(),
                form_field: "iban".into(),
                landing_path: "/mon-compte".into(),
            }),
            session_cookie: Some("crossleak_session".into()),
            logout: Some("/deconnexion".into()),
            password_change: Some(PasswordChange {
                path: "/mon-compte/mot-de-passe".into(),
                old_field: "ancien".into(),
                new_field: "nouveau".into(),
                landing_path: "/mon-compte".into(),
            }),
        }
    }

    /// The login flow a beneficiary uses: the flows alternate over owners so both paths carry load.
    pub fn flow_for(&self, owner: u32) -> &LoginFlow {
        &self.login_flows[owner as usize % self.login_flows.len()]
    }
}
