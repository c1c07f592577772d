//! Profile `strict`: IR's production rules over the fixture.
//!
//! The checks run in the gateway's order: the TLS client certificate (EV1023),
//! the token (EV1025, then OAuth EV1024/EV1026 or the JWT checks EV1024-EV1029),
//! the body (EV1000, EV1100, PER100), the caller (EV1040 for an OAuth logon
//! without access; EV1042 for an unknown `startLogon`), PIR101, the
//! authorisation model of build pack 2.4 (EV1041, EV1042, EV1043), the IR003
//! quota, and finally the answer from the fixture.

use hyper::header::HeaderValue;
use nzpir::{Clock, IrCode};

use crate::body::{self, Resp};
use crate::jwt;
use crate::registry::{Denial, Via};
use crate::request::{self, IrdCheck, Parsed};
use crate::server::ConnInfo;
use crate::state::Shared;

/// Who is calling, once the token is checked.
enum Caller {
    /// An OAuth bearer token of this logon.
    OAuth { logon: String },
    /// A valid JWT: its credential's party, and `startLogon` if set.
    Jwt {
        credential_party: usize,
        start_logon: Option<String>,
    },
}

fn authenticate(shared: &Shared, auth: Option<&HeaderValue>, now: i64) -> Result<Caller, IrCode> {
    let Some(value) = auth else {
        return Err(IrCode::EV1025);
    };
    let value = value.to_str().map_err(|_| IrCode::EV1024)?.trim();
    if value.is_empty() {
        return Err(IrCode::EV1025);
    }
    if let Some((scheme, token)) = value.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        let token = token.trim();
        if token.is_empty() {
            return Err(IrCode::EV1025);
        }
        let access = shared.oauth.access(token, now)?;
        return Ok(Caller::OAuth {
            logon: access.logon,
        });
    }
    if value.eq_ignore_ascii_case("bearer") {
        return Err(IrCode::EV1025);
    }
    let v = jwt::verify(value, |sub| shared.registry.credential(sub), now)?;
    Ok(Caller::Jwt {
        credential_party: v.credential_party,
        start_logon: v.start_logon,
    })
}

pub(crate) fn answer(
    shared: &Shared,
    conn: &ConnInfo,
    auth: Option<&HeaderValue>,
    parsed: Parsed,
) -> Resp {
    let reg = &shared.registry;
    if !conn
        .common_name
        .as_deref()
        .is_some_and(|t| reg.tls_client_registered(t))
    {
        return body::ir_error(IrCode::EV1023);
    }
    let now = shared.clock.now_unix();
    let caller = match authenticate(shared, auth, now) {
        Ok(c) => c,
        Err(code) => return body::ir_error(code),
    };
    let req = match request::check(parsed, shared.clock.today_nz(), IrdCheck::Full) {
        Ok(r) => r,
        Err(items) => return body::ir_errors(items),
    };

    // The party the call is authorised by, how it was identified, and the
    // codes for "not allowed" on this path.
    let (party, via) = match &caller {
        Caller::OAuth { logon } => match reg.logon(logon).flatten() {
            Some(p) => (p, Via::OAuth),
            None => return body::ir_error(IrCode::EV1040),
        },
        Caller::Jwt {
            start_logon: Some(logon),
            ..
        } => match reg.logon(logon).flatten() {
            Some(p) => (p, Via::JwtLogon),
            None => return body::ir_error(IrCode::EV1042),
        },
        Caller::Jwt {
            credential_party,
            start_logon: None,
        } => (*credential_party, Via::JwtSub),
    };

    // PIR101: only a tax preparer's myIR logon may leave PieIRD out.
    let logon_of_tax_preparer = via != Via::JwtSub && reg.is_tax_preparer(party);
    if req.pie_ird().is_none() && !logon_of_tax_preparer {
        return body::ir_error(IrCode::PIR101);
    }

    if let Err(denial) = reg.authorise(party, via, &req) {
        let code = match (via, denial) {
            (Via::OAuth, _) => IrCode::EV1041,
            (_, Denial::Consumer) => IrCode::EV1042,
            (_, Denial::Investor) => IrCode::EV1043,
        };
        return body::ir_error(code);
    }

    // PER100 also means the investor has no income tax period for the
    // filing period (the current one when none is sent).
    let year = req
        .filing_period()
        .and_then(|p| p.get(..4))
        .and_then(|y| y.parse::<i32>().ok())
        .unwrap_or_else(|| nzpir::FilingPeriod::current(&shared.clock).year());
    if reg
        .investor(req.ird())
        .is_some_and(|i| !i.has_income_tax_period(year))
    {
        return body::ir_error(IrCode::PER100);
    }

    if !shared
        .counters
        .admit_query(req.ird(), now, shared.ir003_limit)
    {
        return body::ir_error(IrCode::IR003);
    }

    let rate = reg.investor(req.ird()).and_then(|i| i.rate_for(year));
    body::pir_answer(&req, rate)
}
