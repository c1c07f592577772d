//! Every failure becomes a JavaScript `Error` with a stable `code`; argument
//! problems become a `TypeError` with code `NZPIR_INVALID_ARG` naming the
//! field. Messages come from nzpir's own (safe) messages and field names only:
//! never IRD numbers, names, dates of birth, tokens or keys.

use napi::bindgen_prelude::*;
use napi::{JsError, JsTypeError};

/// The code of a wrong argument type, a missing field or an unknown field.
pub const INVALID_ARG: &str = "NZPIR_INVALID_ARG";
/// The code of a sandbox that could not start or be driven.
pub const SANDBOX: &str = "NZPIR_SANDBOX";

/// The stable `code` for each of nzpir's error kinds: the core's table
/// ([`nzpir::ErrorKind::contract`]), which every surface maps from.
pub fn code_for(kind: nzpir::ErrorKind) -> &'static str {
    kind.contract().node_code
}

/// One kind of nzpir error, as the core's table names it for Node.
#[napi(object)]
pub struct ErrorKindInfo {
    /// The core's name, e.g. `rate_limited` (an error's `kind`).
    pub kind: String,
    /// The stable code, e.g. `NZPIR_RATE_LIMITED` (an error's `code`).
    pub code: String,
    /// The C ABI's status for the kind.
    pub c_status: u32,
    /// The command line's exit code for the kind.
    pub exit_code: u32,
}

/// Every kind of nzpir error with its names on every surface, from the
/// core's one table (`ErrorCode` is built from it).
#[napi]
pub fn error_kinds() -> Vec<ErrorKindInfo> {
    nzpir::ErrorKind::ALL
        .iter()
        .map(|k| {
            let c = k.contract();
            ErrorKindInfo {
                kind: c.name.to_owned(),
                code: c.node_code.to_owned(),
                c_status: c.c_status,
                exit_code: u32::from(c.exit_code),
            }
        })
        .collect()
}

/// A wrong argument: which field, and what was wrong with it (never its value).
#[derive(Debug, Clone)]
pub struct ArgError {
    /// The field path, e.g. `request.name.firstName`.
    pub field: String,
    /// The whole message, naming the field.
    pub message: String,
}

impl ArgError {
    /// `{field} {problem}`, e.g. "`options.timeout` must be a positive number".
    pub fn new(field: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        let field = field.into();
        let message = format!("`{field}` {problem}");
        ArgError { field, message }
    }
}

/// Anything a call can fail with, carried from the worker thread to the JS
/// thread, where it becomes an `Error` object.
#[derive(Debug)]
pub enum Failure {
    /// nzpir's error (validation, configuration, TLS, IR's answers...).
    Nzpir(nzpir::Error),
    /// A wrong argument.
    Arg(ArgError),
    /// The sandbox could not start or be driven.
    Sandbox(nzpir_sandbox::Error),
}

impl From<nzpir::Error> for Failure {
    fn from(e: nzpir::Error) -> Self {
        Failure::Nzpir(e)
    }
}

impl From<ArgError> for Failure {
    fn from(e: ArgError) -> Self {
        Failure::Arg(e)
    }
}

impl From<nzpir_sandbox::Error> for Failure {
    fn from(e: nzpir_sandbox::Error) -> Self {
        Failure::Sandbox(e)
    }
}

/// One broken rule of a request, as JavaScript sees it.
#[napi(object)]
pub struct FieldErrorInfo {
    /// The field path in IR's terms, e.g. `IRD`, `Name.FirstName`, `Address.Country`.
    pub field: String,
    /// A stable code for the rule, e.g. `required`, `ird_check_digit`, `country_code`.
    pub rule: String,
    /// The rule in words, e.g. "must be an ISO 3166-1 alpha-2 country code".
    pub message: String,
}

/// One entry of IR's error body (IR's messages name fields, never values).
#[napi(object, use_nullable = true)]
pub struct IrErrorInfo {
    /// IR's code, e.g. `EV1100`.
    pub code: String,
    /// IR's class: `validation`, `security`, `server` or `result`.
    #[napi(js_name = "type")]
    pub error_type: String,
    /// IR's message for the code.
    pub message: String,
    /// For EV1100, the field IR named (e.g. `Country`), else `null`.
    pub field: Option<String>,
}

/// A field name as IR writes it (`Country`, `Name.FirstName`), or nothing.
fn field_name(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    ok.then(|| s.to_owned())
}

/// Everything an nzpir error object carries, as plain data (for results that
/// hold an error rather than reject with one, e.g. `lookupMany`'s).
#[napi(object, use_nullable = true)]
pub struct ErrorInfo {
    /// The message (never an IRD number, name, date of birth, token or key).
    pub message: String,
    /// The stable `NZPIR_*` code.
    pub code: String,
    /// The core's kind, e.g. `authorisation`.
    pub kind: String,
    /// IR's code, e.g. `EV1043`, or `null`.
    pub ir_code: Option<String>,
    /// The HTTP status, or `null`.
    pub http_status: Option<u32>,
    /// For `NZPIR_INVALID_INPUT`: every broken rule.
    pub field_errors: Vec<FieldErrorInfo>,
    /// IR's error body.
    pub ir_errors: Vec<IrErrorInfo>,
    /// Whether trying again later may help.
    pub retryable: bool,
    /// Calls made to the gateway.
    pub attempts: u32,
}

impl ErrorInfo {
    /// The one mapping of an nzpir error's properties.
    pub fn from_error(e: &nzpir::Error) -> Self {
        ErrorInfo {
            message: e.message().to_owned(),
            code: code_for(e.kind()).to_owned(),
            kind: e.kind().as_str().to_owned(),
            ir_code: e.ir_code().map(|c| c.as_str().to_owned()),
            http_status: e.http_status().map(u32::from),
            field_errors: e
                .field_errors()
                .iter()
                .map(|f| FieldErrorInfo {
                    field: f.field.to_owned(),
                    rule: f.rule.code().to_owned(),
                    message: f.message(),
                })
                .collect(),
            ir_errors: e
                .ir_errors()
                .iter()
                .map(|i| IrErrorInfo {
                    code: i.code.as_str().to_owned(),
                    error_type: i.error_type.clone(),
                    // IR's own messages for known codes; an unknown code's text may come
                    // from elsewhere, so it is replaced by the (scrubbed) core message.
                    message: i
                        .code
                        .ir_message()
                        .map_or_else(|| e.message().to_owned(), str::to_owned),
                    field: i.field().and_then(field_name),
                })
                .collect(),
            retryable: e.is_retryable(),
            attempts: e.attempts(),
        }
    }
}

fn set_props(obj: &mut Object<'_>, e: &nzpir::Error) -> Result<()> {
    let info = ErrorInfo::from_error(e);
    obj.set("code", info.code)?;
    obj.set("kind", info.kind)?;
    obj.set("irCode", info.ir_code)?;
    obj.set("httpStatus", info.http_status)?;
    obj.set("fieldErrors", info.field_errors)?;
    obj.set("irErrors", info.ir_errors)?;
    obj.set("retryable", info.retryable)?;
    obj.set("attempts", info.attempts)?;
    obj.set(
        "setting",
        e.setting_name(nzpir::Surface::Node).map(|s| s.into_owned()),
    )?;
    Ok(())
}

fn build(env: &Env, failure: Failure) -> Result<Unknown<'_>> {
    match failure {
        // A setting given a value of the wrong type is a TypeError naming
        // the option, as for any other argument.
        Failure::Nzpir(e) if e.is_wrong_type() => build(
            env,
            Failure::Arg(ArgError {
                field: e
                    .setting_name(nzpir::Surface::Node)
                    .map_or_else(|| "options".to_owned(), |s| s.into_owned()),
                message: e.message_for(nzpir::Surface::Node).into_owned(),
            }),
        ),
        Failure::Nzpir(e) => {
            // Settings are named as the options are (`options.key`).
            let js = JsError::from(Error::new(
                Status::GenericFailure,
                e.message_for(nzpir::Surface::Node),
            ))
            .into_unknown(*env);
            let mut obj = js.coerce_to_object()?;
            set_props(&mut obj, &e)?;
            Ok(obj.to_unknown())
        }
        Failure::Arg(a) => {
            let js =
                JsTypeError::from(Error::new(Status::InvalidArg, a.message)).into_unknown(*env);
            let mut obj = js.coerce_to_object()?;
            obj.set("code", INVALID_ARG)?;
            obj.set("field", a.field)?;
            Ok(obj.to_unknown())
        }
        Failure::Sandbox(e) => {
            let js =
                JsError::from(Error::new(Status::GenericFailure, e.to_string())).into_unknown(*env);
            let mut obj = js.coerce_to_object()?;
            obj.set("code", SANDBOX)?;
            Ok(obj.to_unknown())
        }
    }
}

/// The JavaScript error for `failure`, to throw or to reject a Promise with.
pub fn to_js(env: &Env, failure: Failure) -> Error {
    match build(env, failure) {
        Ok(value) => Error::from(value),
        Err(e) => e,
    }
}

/// Shorthand for synchronous functions: the error as a thrown JavaScript error.
pub fn throw<T>(env: &Env, r: std::result::Result<T, impl Into<Failure>>) -> Result<T> {
    r.map_err(|e| to_js(env, e.into()))
}
