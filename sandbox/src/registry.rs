//! The fixture, checked and indexed for the request path, and the
//! authorisation model of build pack section 2.4.

use std::collections::{HashMap, HashSet};

use nzpir::{IrdNumber, PirRate, PirRequest};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::Error;
use crate::fixture::{CertRef, Fixture, InvestorAddress, InvestorName, PartyKind};
use crate::jwt::{Credential, JwtAlg, JwtKey};
use crate::pki::{Pki, thumbprint};

#[derive(Debug)]
pub(crate) struct PartyEntry {
    pub kind: PartyKind,
    /// `kiwisaver_scheme`: its provider.
    pub provider: Option<usize>,
    /// `scheme_admin_manager`: the providers it manages.
    pub manages: Vec<usize>,
    /// `tax_preparer`: the PIEs and schemes it prepares for.
    pub clients: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct InvestorEntry {
    pub rate: Option<PirRate>,
    pub memberships: Vec<usize>,
    pub reconciliation: Vec<usize>,
    pub tax_preparers: Vec<usize>,
    pub name: Option<InvestorName>,
    pub dob: Option<String>,
    pub address: Option<InvestorAddress>,
    /// Years (ending 31 March) with an income tax period; `None`: all.
    pub income_tax_periods: Option<Vec<i32>>,
    /// The investor's facts, when IR's answer is derived from them.
    pub facts: Option<nzpir::PirFacts>,
}

impl InvestorEntry {
    /// Whether the investor has an income tax period for the year ending 31
    /// March `year`.
    pub fn has_income_tax_period(&self, year: i32) -> bool {
        match (&self.income_tax_periods, &self.facts) {
            (Some(years), _) => years.contains(&year),
            (None, Some(f)) if !f.income.is_empty() => {
                f.income.iter().any(|i| (year - 2..=year).contains(&i.year))
            }
            _ => true,
        }
    }

    /// The rate IR suggests for the filing year `year`: the stored one, or,
    /// for an investor with facts, the estimator's rate for an individual and
    /// none (`PirRateNotFound`) for any other investor type.
    pub fn rate_for(&self, year: i32) -> Option<PirRate> {
        let Some(facts) = &self.facts else {
            return self.rate;
        };
        if facts.investor_type != nzpir::estimate::InvestorType::Individual {
            return None;
        }
        let mut facts = facts.clone();
        facts.pir_year = Some(year);
        nzpir::estimate_pir(&facts).rate
    }
}

#[derive(Debug)]
pub(crate) struct OAuthClientEntry {
    pub secret: String,
    pub redirect_uris: Vec<String>,
    /// `Some(logon)` when a logon consents for this client.
    pub logon: Option<String>,
    pub refresh_tokens: bool,
}

/// The checked fixture.
#[derive(Debug)]
pub(crate) struct Registry {
    pub parties: Vec<PartyEntry>,
    pie_by_ird: HashMap<String, usize>,
    /// Logon id to its party (`None`: the logon has no access to anything).
    logons: HashMap<String, Option<usize>>,
    tls_clients: HashSet<String>,
    jwt: HashMap<String, Credential>,
    pub oauth_clients: HashMap<String, OAuthClientEntry>,
    investors: HashMap<String, InvestorEntry>,
    /// The fixture's JWT credential algorithm per named certificate.
    pub named_jwt_alg: HashMap<String, String>,
}

/// How the caller was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// An OAuth access token of a myIR logon.
    OAuth,
    /// A JWT with `startLogon`.
    JwtLogon,
    /// A JWT without `startLogon`: its `sub` credential.
    JwtSub,
}

/// Why a caller may not ask about an investor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    /// No rule relates the caller to the PIE or the investor (EV1042; EV1041 over OAuth).
    Consumer,
    /// The caller is related, but the investor is not tied to the PIE (EV1043; EV1041).
    Investor,
}

fn check_ird(ird: &str, what: &str) -> Result<(), Error> {
    if ird.len() == 9 && IrdNumber::parse(ird).is_ok() {
        Ok(())
    } else {
        Err(Error::fixture(format!(
            "{what}: not a valid 9-digit IRD number"
        )))
    }
}

impl Registry {
    pub fn build(fixture: &Fixture, pki: &Pki) -> Result<Registry, Error> {
        let mut party_by_id = HashMap::new();
        for (i, p) in fixture.parties.iter().enumerate() {
            if party_by_id.insert(p.id.clone(), i).is_some() {
                return Err(Error::fixture(format!(
                    "parties[{i}]: id `{}` is used twice",
                    p.id
                )));
            }
            check_ird(&p.ird, &format!("parties[{i}].ird"))?;
        }
        let find = |id: &str, want: &[PartyKind], at: String| -> Result<usize, Error> {
            let idx = *party_by_id
                .get(id)
                .ok_or_else(|| Error::fixture(format!("{at}: unknown party `{id}`")))?;
            let kind = fixture.parties[idx].kind;
            if want.is_empty() || want.contains(&kind) {
                Ok(idx)
            } else {
                Err(Error::fixture(format!(
                    "{at}: party `{id}` is a {kind:?}, expected one of {want:?}"
                )))
            }
        };

        let mut parties: Vec<PartyEntry> = fixture
            .parties
            .iter()
            .map(|p| PartyEntry {
                kind: p.kind,
                provider: None,
                manages: Vec::new(),
                clients: Vec::new(),
            })
            .collect();
        let mut pie_by_ird = HashMap::new();
        for (i, p) in fixture.parties.iter().enumerate() {
            let only = |list: &Vec<String>, field: &str, kind: PartyKind| {
                if !list.is_empty() && p.kind != kind {
                    Err(Error::fixture(format!(
                        "parties[{i}].{field}: only a {kind:?} has {field}"
                    )))
                } else {
                    Ok(())
                }
            };
            only(&p.schemes, "schemes", PartyKind::KiwisaverProvider)?;
            only(&p.manages, "manages", PartyKind::SchemeAdminManager)?;
            only(&p.clients, "clients", PartyKind::TaxPreparer)?;
            for (j, s) in p.schemes.iter().enumerate() {
                let s = find(
                    s,
                    &[PartyKind::KiwisaverScheme],
                    format!("parties[{i}].schemes[{j}]"),
                )?;
                if parties[s].provider.replace(i).is_some_and(|prev| prev != i) {
                    return Err(Error::fixture(format!(
                        "parties[{i}].schemes[{j}]: the scheme has two providers"
                    )));
                }
            }
            for (j, m) in p.manages.iter().enumerate() {
                let m = find(
                    m,
                    &[PartyKind::KiwisaverProvider],
                    format!("parties[{i}].manages[{j}]"),
                )?;
                parties[i].manages.push(m);
            }
            for (j, c) in p.clients.iter().enumerate() {
                let c = find(
                    c,
                    &[PartyKind::Pie, PartyKind::KiwisaverScheme],
                    format!("parties[{i}].clients[{j}]"),
                )?;
                parties[i].clients.push(c);
            }
            if p.kind.is_pie() && pie_by_ird.insert(p.ird.clone(), i).is_some() {
                return Err(Error::fixture(format!(
                    "parties[{i}].ird: two PIEs have the same IRD number"
                )));
            }
        }

        let mut logons = HashMap::new();
        for (i, l) in fixture.logons.iter().enumerate() {
            let party = match &l.party {
                Some(p) => Some(find(p, &[], format!("logons[{i}].party"))?),
                None => None,
            };
            if logons.insert(l.id.clone(), party).is_some() {
                return Err(Error::fixture(format!(
                    "logons[{i}]: id `{}` is used twice",
                    l.id
                )));
            }
        }

        let cert_der = |r: &CertRef, at: &str| -> Result<CertificateDer<'static>, Error> {
            match r {
                CertRef::Named(n) => pki.named(n).cloned().ok_or_else(|| {
                    Error::fixture(format!(
                        "{at}: unknown certificate `{n}` (one of {:?}, or {{\"file\": PATH}})",
                        crate::pki::NAMED_CERTS
                    ))
                }),
                CertRef::File { file } => CertificateDer::from_pem_file(file)
                    .map_err(|e| Error::fixture(format!("{at}: reading {}: {e}", file.display()))),
            }
        };

        // IR registers TLS clients by the CN its portal assigned (and trusts
        // any certificate with that CN from an approved CA): the registry
        // keeps CNs, so a renewed certificate is accepted as it is at IR.
        let mut tls_clients = HashSet::new();
        for (i, t) in fixture.tls_clients.iter().enumerate() {
            let at = format!("tls_clients[{i}].cert");
            let der = cert_der(&t.cert, &at)?;
            let (_, x509) = X509Certificate::from_der(der.as_ref())
                .map_err(|e| Error::fixture(format!("{at}: not a certificate: {e}")))?;
            let cn = crate::pki::common_name(&x509)
                .ok_or_else(|| Error::fixture(format!("{at}: the certificate has no CN")))?;
            tls_clients.insert(cn);
        }

        let mut jwt = HashMap::new();
        let mut named_jwt_alg = HashMap::new();
        for (i, c) in fixture.jwt_credentials.iter().enumerate() {
            let at = format!("jwt_credentials[{i}]");
            let der = cert_der(&c.cert, &format!("{at}.cert"))?;
            let alg = JwtAlg::parse(&c.alg).ok_or_else(|| {
                Error::fixture(format!(
                    "{at}.alg: `{}` is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512",
                    c.alg
                ))
            })?;
            let (_, x509) = X509Certificate::from_der(der.as_ref())
                .map_err(|e| Error::fixture(format!("{at}.cert: not a certificate: {e}")))?;
            let key = JwtKey::from_spki(x509.public_key()).ok_or_else(|| {
                Error::fixture(format!(
                    "{at}.cert: the key is neither RSA nor ECDSA P-256/P-384/P-521"
                ))
            })?;
            if !alg.fits(&key) {
                return Err(Error::fixture(format!(
                    "{at}.alg: {} does not fit the certificate's key",
                    c.alg
                )));
            }
            let party = find(&c.party, &[], format!("{at}.party"))?;
            let not_before = x509.validity().not_before.timestamp();
            let credential = Credential::new(alg, key, party, not_before).ok_or_else(|| {
                Error::fixture(format!(
                    "{at}.alg: {} does not fit the certificate's key",
                    c.alg
                ))
            })?;
            if jwt.insert(thumbprint(&der), credential).is_some() {
                return Err(Error::fixture(format!(
                    "{at}: the certificate is registered twice"
                )));
            }
            if let CertRef::Named(n) = &c.cert {
                named_jwt_alg.insert(n.clone(), c.alg.clone());
            }
        }

        let mut oauth_clients = HashMap::new();
        for (i, c) in fixture.oauth_clients.iter().enumerate() {
            if let Some(l) = &c.logon
                && !logons.contains_key(l)
            {
                return Err(Error::fixture(format!(
                    "oauth_clients[{i}].logon: unknown logon `{l}`"
                )));
            }
            for (j, u) in c.redirect_uris.iter().enumerate() {
                url::Url::parse(u).map_err(|e| {
                    Error::fixture(format!("oauth_clients[{i}].redirect_uris[{j}]: {e}"))
                })?;
            }
            let entry = OAuthClientEntry {
                secret: c.client_secret.clone(),
                redirect_uris: c.redirect_uris.clone(),
                logon: c.logon.clone(),
                refresh_tokens: c.refresh_tokens,
            };
            if oauth_clients.insert(c.client_id.clone(), entry).is_some() {
                return Err(Error::fixture(format!(
                    "oauth_clients[{i}]: client_id `{}` is used twice",
                    c.client_id
                )));
            }
        }

        let mut investors = HashMap::new();
        for (i, inv) in fixture.investors.iter().enumerate() {
            let at = format!("investors[{i}]");
            check_ird(&inv.ird, &format!("{at}.ird"))?;
            let refs = |list: &[String], field: &str, want: &[PartyKind]| {
                list.iter()
                    .enumerate()
                    .map(|(j, id)| find(id, want, format!("{at}.{field}[{j}]")))
                    .collect::<Result<Vec<_>, _>>()
            };
            let entry = InvestorEntry {
                rate: inv.suggested_pir_rate,
                memberships: refs(
                    &inv.memberships,
                    "memberships",
                    &[PartyKind::KiwisaverScheme],
                )?,
                reconciliation: refs(
                    &inv.reconciliation,
                    "reconciliation",
                    &[PartyKind::Pie, PartyKind::KiwisaverScheme],
                )?,
                tax_preparers: refs(
                    &inv.tax_preparers,
                    "tax_preparers",
                    &[PartyKind::TaxPreparer],
                )?,
                name: inv.name.clone(),
                dob: inv.dob.clone(),
                address: inv.address.clone(),
                income_tax_periods: inv.income_tax_periods.clone(),
                facts: inv.facts.clone(),
            };
            if inv.facts.is_some() && inv.suggested_pir_rate.is_some() {
                return Err(Error::fixture(format!(
                    "{at}: give suggested_pir_rate or facts, not both"
                )));
            }
            if investors.insert(inv.ird.clone(), entry).is_some() {
                return Err(Error::fixture(format!(
                    "{at}.ird: the investor is listed twice"
                )));
            }
        }

        Ok(Registry {
            parties,
            pie_by_ird,
            logons,
            tls_clients,
            jwt,
            oauth_clients,
            investors,
            named_jwt_alg,
        })
    }

    /// Whether a client certificate's CN is registered.
    pub fn tls_client_registered(&self, common_name: &str) -> bool {
        self.tls_clients.contains(common_name)
    }

    pub fn credential(&self, sub: &str) -> Option<&Credential> {
        self.jwt.get(sub)
    }

    /// `Some(party)` for a known logon (`party` is `None` for a logon without access).
    pub fn logon(&self, id: &str) -> Option<Option<usize>> {
        self.logons.get(id).copied()
    }

    pub fn investor(&self, ird: &str) -> Option<&InvestorEntry> {
        self.investors.get(ird)
    }

    pub fn is_tax_preparer(&self, party: usize) -> bool {
        self.parties
            .get(party)
            .is_some_and(|p| p.kind == PartyKind::TaxPreparer)
    }

    /// Build pack 2.4: may `caller` (identified `via`) ask about the request's investor?
    pub fn authorise(&self, caller: usize, via: Via, req: &PirRequest) -> Result<(), Denial> {
        let Some(me) = self.parties.get(caller) else {
            return Err(Denial::Consumer);
        };
        let pie = req.pie_ird().and_then(|p| self.pie_by_ird.get(p).copied());
        let investor = self.investor(req.ird());
        let member_of = |scheme: usize| investor.is_some_and(|i| i.memberships.contains(&scheme));
        // The KiwiSaver scheme named by PieIRD and its provider, if it is one.
        let scheme_provider = pie.and_then(|s| self.parties[s].provider.map(|p| (s, p)));
        let client_link = investor.is_some_and(|i| i.tax_preparers.contains(&caller));

        // Each consumer rule as (caller side holds, whole rule holds).
        let mut related = false;
        let mut consumer_ok = false;
        let mut rule = |caller_side: bool, investor_side: bool| {
            related |= caller_side;
            consumer_ok |= caller_side && investor_side;
        };
        // They belong to the PIE or scheme named by PieIRD (not for `sub` JWTs).
        if via != Via::JwtSub {
            rule(pie == Some(caller), true);
        }
        // The KiwiSaver provider linked to the scheme, and the investor is a member.
        if let Some((scheme, provider)) = scheme_provider {
            rule(provider == caller, member_of(scheme));
            // The administration manager of that provider, and the investor is a member.
            rule(me.manages.contains(&provider), member_of(scheme));
        }
        // A tax preparer of the PIE or scheme named by PieIRD.
        if let Some(p) = pie {
            rule(me.clients.contains(&p), true);
        }
        // A tax preparer of the investor (OAuth and `sub` JWTs only).
        if via != Via::JwtLogon {
            rule(me.kind == PartyKind::TaxPreparer, client_link);
        }

        // The investor tied to the PIE: membership, reconciliation return, soft
        // match, or the caller's client-list link.
        let tied = investor.is_some_and(|i| {
            pie.is_some_and(|p| i.memberships.contains(&p) || i.reconciliation.contains(&p))
                || client_link
                || soft_match(i, req)
        });

        match (consumer_ok && tied, related) {
            (true, _) => Ok(()),
            (false, true) => Err(Denial::Investor),
            (false, false) => Err(Denial::Consumer),
        }
    }
}

/// Lower case, letters and digits only, single spaces.
fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// IR's "confident" soft match: name, date of birth and address all agree.
fn soft_match(inv: &InvestorEntry, req: &PirRequest) -> bool {
    let (Some(name), Some(dob), Some(addr)) = (&inv.name, &inv.dob, &inv.address) else {
        return false;
    };
    let (first, last) = (norm(&name.first), norm(&name.last));
    let name_ok = if let Some(n) = req.name() {
        n.first_name().map(norm).as_deref() == Some(first.as_str())
            && n.last_name().map(norm).as_deref() == Some(last.as_str())
            && match (n.middle_name().map(norm), name.middle.as_deref().map(norm)) {
                (Some(given), Some(known)) if !given.is_empty() => given == known,
                _ => true,
            }
    } else if let Some(f) = req.formatted_name() {
        // "Last, First Middle"
        f.split_once(',').is_some_and(|(l, rest)| {
            norm(l) == last && norm(rest).split(' ').next() == Some(first.as_str())
        })
    } else {
        false
    };
    let dob_ok = req.dob() == Some(dob.as_str());
    let (street, city) = (norm(&addr.street), norm(&addr.city));
    let addr_ok = if let Some(a) = req.address() {
        a.street().map(norm).as_deref() == Some(street.as_str())
            && a.city().map(norm).as_deref() == Some(city.as_str())
            && a.country()
                .is_some_and(|c| c.eq_ignore_ascii_case(&addr.country))
    } else if let Some(f) = req.formatted_address() {
        let f = format!(" {} ", norm(f));
        f.contains(&format!(" {street} ")) && f.contains(&format!(" {city} "))
    } else {
        false
    };
    name_ok && dob_ok && addr_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising() {
        assert_eq!(norm("  123 HA  Crescent, "), "123 ha crescent");
        assert_eq!(norm("Ōtāhuhu"), "ōtāhuhu");
    }
}
