//! HTML rendering for the demo portal: home, login, the beneficiary's file, and error pages.
//! Pure functions from data to markup; every value from an account goes through [`escape`].

use super::accounts::FileView;
use super::ledger::Statement;
use crate::population::PasswordState;
use std::fmt::Write;

/// The stylesheet served at `/static/site.css`.
pub const STYLESHEET: &str = "\
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; color: #1b1b1b; }
header { border-bottom: 3px solid #0b4f9c; margin-bottom: 1.5rem; }
h1 { color: #0b4f9c; }
form { border: 1px solid #ccc; padding: 1rem; margin: 1rem 0; }
label { display: block; margin: .5rem 0; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
td.montant { text-align: right; }
.avis { background: #fde8e8; border-left: 4px solid #c00; padding: .6rem; }
";

/// Escapes text for HTML element content: `&`, `<`, `>`. Quotes and apostrophes stay as they
/// are, so a name like `N'Diaye` or a parser message reads the same in the page as in the data.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for a double-quoted attribute value.
fn escape_attribute(text: &str) -> String {
    escape(text).replace('"', "&quot;")
}

/// `0639981234` → `06 39 98 12 34`; digits in pairs, whatever their number.
pub fn phone_spaced(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() * 3 / 2);
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && index % 2 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `123456` → `1234,56 €`, `-1250` → `-12,50 €`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02} €", cents / 100, cents % 100)
}

fn layout(title: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} — crossleak démo CAF</title>\n\
         <link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n\
         <header><p><a href=\"/\">Portail allocataire (démonstration crossleak)</a></p></header>\n\
         <main>\n{main}</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

pub fn home() -> String {
    layout(
        "Accueil",
        "<h1>Portail allocataire</h1>\n\
         <p>Portail de démonstration : toutes les personnes qu'il sert sont fictives.</p>\n\
         <ul>\n\
         <li><a href=\"/connexion\">Me connecter à mon compte</a></li>\n\
         <li><a href=\"/mon-compte\">Mon compte</a></li>\n\
         </ul>\n",
    )
}

/// The login page with both paths; `notice` says why the previous attempt failed.
pub fn login(notice: Option<&str>) -> String {
    let notice = notice
        .map(|text| format!("<p class=\"avis\" role=\"alert\">{}</p>\n", escape(text)))
        .unwrap_or_default();
    layout(
        "Connexion",
        &format!(
            "<h1>Me connecter</h1>\n{notice}\
             <form method=\"post\" action=\"/connexion/allocataire\">\n\
             <h2>Avec mon numéro allocataire</h2>\n\
             <label>Numéro allocataire (7 chiffres) \
             <input name=\"numero_allocataire\" inputmode=\"numeric\" autocomplete=\"username\"></label>\n\
             <label>Mot de passe <input name=\"mot_de_passe\" type=\"password\" \
             autocomplete=\"current-password\"></label>\n\
             <button>Me connecter</button>\n</form>\n\
             <form method=\"post\" action=\"/connexion/nir\">\n\
             <h2>Avec mon numéro de sécurité sociale</h2>\n\
             <label>Numéro de sécurité sociale (13 caractères, sans la clé) \
             <input name=\"nir\" autocomplete=\"username\"></label>\n\
             <label>Mot de passe <input name=\"mot_de_passe\" type=\"password\" \
             autocomplete=\"current-password\"></label>\n\
             <button>Me connecter</button>\n</form>\n"
        ),
    )
}

/// The beneficiary's file: identity, contact, bank details, household, the payments the ledger
/// holds for it, and the forms that change it.
pub fn account(file: &FileView<'_>, statement: &Statement) -> String {
    let person = file.identity;
    let mut main = String::with_capacity(4096);
    let password = match file.password_state {
        PasswordState::Provisional => "provisoire (à changer)",
        PasswordState::Changed => "personnalisé",
    };
    // Writing to a String cannot fail.
    let _ = write!(
        main,
        "<h1>Mon compte</h1>\n\
         <p>Bonjour {first} {last}</p>\n<dl>\n\
         <dt>Numéro allocataire</dt><dd>{numero}</dd>\n\
         <dt>Numéro de sécurité sociale</dt><dd>{nir}</dd>\n\
         <dt>Adresse</dt><dd>{street}<br>{postcode} {city}</dd>\n\
         <dt>Téléphone</dt><dd>{phone}</dd>\n\
         <dt>Courriel</dt><dd>{email}</dd>\n\
         <dt>IBAN</dt><dd>{iban}</dd>\n\
         <dt>Mot de passe</dt><dd>{password}</dd>\n</dl>\n",
        first = escape(&person.first_name),
        last = escape(&person.last_name),
        numero = person.numero_allocataire,
        nir = person.nir.spaced(),
        street = escape(&person.street),
        postcode = escape(&person.postcode),
        city = escape(&person.city),
        phone = escape(&phone_spaced(&person.phone)),
        email = escape(&person.email),
        iban = file.iban.grouped(),
    );
    for partner in &file.partners {
        let _ = writeln!(
            main,
            "<p>Conjoint·e : {} {}, n° allocataire {}</p>",
            escape(&partner.first_name),
            escape(&partner.last_name),
            partner.numero_allocataire,
        );
    }
    let _ = write!(
        main,
        "<h2>Mes paiements</h2>\n<p>Paiements du dossier n° {}</p>\n<table>\n\
         <thead><tr><th>Date</th><th>Libellé</th><th>Montant</th></tr></thead>\n<tbody>\n",
        escape(&statement.numero_allocataire),
    );
    for payment in &statement.paiements {
        let _ = writeln!(
            main,
            "<tr><td>{}</td><td>{}</td><td class=\"montant\">{}</td></tr>",
            escape(&payment.date),
            escape(&payment.libelle),
            euros(payment.montant_centimes),
        );
    }
    main.push_str(
        "</tbody>\n</table>\n\
         <form method=\"post\" action=\"/mon-compte/rib\">\n<h2>Changer mes coordonnées bancaires</h2>\n\
         <label>Nouvel IBAN <input name=\"iban\" autocomplete=\"off\"></label>\n\
         <button>Enregistrer</button>\n</form>\n\
         <form method=\"post\" action=\"/mon-compte/mot-de-passe\">\n<h2>Changer mon mot de passe</h2>\n\
         <label>Mot de passe actuel <input name=\"ancien\" type=\"password\" \
         autocomplete=\"current-password\"></label>\n\
         <label>Nouveau mot de passe (8 caractères au moins) <input name=\"nouveau\" \
         type=\"password\" autocomplete=\"new-password\"></label>\n\
         <button>Changer</button>\n</form>\n\
         <form method=\"post\" action=\"/deconnexion\"><button>Me déconnecter</button></form>\n",
    );
    layout("Mon compte", &main)
}

/// A page that explains a refusal or an error.
pub fn message(title: &str, text: &str) -> String {
    layout(
        title,
        &format!(
            "<h1>{}</h1>\n<p class=\"avis\" role=\"alert\">{}</p>\n\
             <p><a href=\"/connexion\">Connexion</a> · <a href=\"/mon-compte\">Mon compte</a></p>\n",
            escape(title),
            escape(text),
        ),
    )
}

/// The page a redirect carries, for clients that do not follow it.
pub fn redirect(location: &str) -> String {
    layout(
        "Redirection",
        &format!(
            "<p>Suite : <a href=\"{}\">{}</a></p>\n",
            escape_attribute(location),
            escape(location),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_keeps_accents_and_apostrophes() {
        assert_eq!(
            escape("<b>Zoé & \"N'Diaye\"</b>"),
            "&lt;b&gt;Zoé &amp; \"N'Diaye\"&lt;/b&gt;"
        );
        assert_eq!(escape_attribute("/a?b=\"c\""), "/a?b=&quot;c&quot;");
    }

    #[test]
    fn phone_is_spaced_in_pairs() {
        assert_eq!(phone_spaced("0639981234"), "06 39 98 12 34");
        assert_eq!(phone_spaced(""), "");
    }

    #[test]
    fn amounts_are_written_in_euros_with_a_comma() {
        assert_eq!(euros(123_456), "1234,56 €");
        assert_eq!(euros(5), "0,05 €");
        assert_eq!(euros(-1250), "-12,50 €");
    }
}
