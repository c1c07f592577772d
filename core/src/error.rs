//! One error type for the whole library.
//!
//! Every failure is an [`Error`] with a stable [`ErrorKind`], IR's code and the
//! HTTP status where the gateway gave them, and a message that never contains a
//! secret (key, JWT, token) or an investor's personal data (IRD number, name,
//! date of birth, address).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::options::{Call, Surface};
use crate::validate::FieldError;

/// The class of a failure. Stable: the C ABI, Python and Node map these one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request (or an argument) broke a rule; nothing was sent.
    InvalidInput,
    /// The configuration is incomplete or wrong (file, PEM, URL, setting).
    Config,
    /// The TLS handshake failed (policy, certificate, host name).
    Tls,
    /// The connection failed or broke (refused, reset, DNS, proxy).
    Transport,
    /// The gateway did not answer in time.
    Timeout,
    /// IR could not authenticate the caller (EV1023-EV1030).
    Authentication,
    /// The caller is authenticated but may not ask about this investor (EV1040-EV1043).
    Authorisation,
    /// IR003: the IRD number was queried too often in the last 24 hours.
    RateLimited,
    /// IR rejected the request (HTTP 400: EV1000, EV1100, PER100, PIR101).
    Rejected,
    /// IR failed (PIR150, 5xx) or answered something that is not IR's protocol.
    Server,
    /// OAuth: the refresh token was refused; a person must consent again.
    ConsentRequired,
    /// OAuth: the token store could not be read or written.
    TokenStore,
}

impl ErrorKind {
    /// Every kind, in a stable order.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidInput,
        ErrorKind::Config,
        ErrorKind::Tls,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::Authentication,
        ErrorKind::Authorisation,
        ErrorKind::RateLimited,
        ErrorKind::Rejected,
        ErrorKind::Server,
        ErrorKind::ConsentRequired,
        ErrorKind::TokenStore,
    ];
}

/// How every surface names one [`ErrorKind`]: the one table the bindings,
/// the C ABI and the command line map from, so that no surface keeps its own
/// copy (a kind added here without its row does not compile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindContract {
    /// The kind.
    pub kind: ErrorKind,
    /// The stable name ([`ErrorKind::as_str`]): Python's `kind`, Node's
    /// `kind`, C's `nzpir_error_kind`, the batch report.
    pub name: &'static str,
    /// The Python exception class (`nzpir.<name>`).
    pub python_class: &'static str,
    /// The Node error's `code`.
    pub node_code: &'static str,
    /// The C ABI's `nzpir_status` value.
    pub c_status: u32,
    /// The command line's exit code.
    pub exit_code: u8,
    /// What the kind means, in one sentence (the Python class's docstring).
    pub summary: &'static str,
}

macro_rules! kind_contract {
    ($( $kind:ident: $name:literal, $py:literal, $node:literal, $c:literal, $exit:literal, $summary:literal; )*) => {
        impl ErrorKind {
            /// How every surface names this kind (see [`KindContract`]).
            pub const fn contract(self) -> &'static KindContract {
                match self {
                    $( ErrorKind::$kind => &KindContract {
                        kind: ErrorKind::$kind,
                        name: $name,
                        python_class: $py,
                        node_code: $node,
                        c_status: $c,
                        exit_code: $exit,
                        summary: $summary,
                    }, )*
                }
            }

            /// A stable name for the kind, as the bindings spell it.
            pub const fn as_str(self) -> &'static str {
                self.contract().name
            }

            /// The kind with this [`as_str`](ErrorKind::as_str) name.
            pub fn from_name(name: &str) -> Option<ErrorKind> {
                match name {
                    $( $name => Some(ErrorKind::$kind), )*
                    _ => None,
                }
            }
        }
    };
}

kind_contract! {
    InvalidInput: "invalid_input", "InvalidInputError", "NZPIR_INVALID_INPUT", 1, 2,
        "A request or argument broke a rule; nothing was sent.";
    Config: "config", "ConfigError", "NZPIR_CONFIG", 2, 2,
        "The configuration is incomplete or wrong (file, PEM, URL, setting).";
    Tls: "tls", "TlsError", "NZPIR_TLS", 3, 7,
        "The TLS handshake failed (policy, certificate, host name).";
    Transport: "transport", "TransportError", "NZPIR_TRANSPORT", 4, 7,
        "The connection failed or broke (refused, reset, DNS, proxy).";
    Timeout: "timeout", "GatewayTimeoutError", "NZPIR_TIMEOUT", 5, 7,
        "The gateway did not answer in time.";
    Authentication: "authentication", "AuthenticationError", "NZPIR_AUTH", 6, 4,
        "IR could not authenticate the caller (EV1023-EV1030).";
    Authorisation: "authorisation", "AuthorisationError", "NZPIR_AUTHORISATION", 7, 4,
        "The caller may not ask about this investor (EV1040-EV1043).";
    RateLimited: "rate_limited", "RateLimitedError", "NZPIR_RATE_LIMITED", 8, 5,
        "IR003: this IRD number was queried too often in the last 24 hours.";
    Rejected: "rejected", "RejectedError", "NZPIR_REJECTED", 9, 3,
        "IR rejected the request (HTTP 400: EV1000, EV1100, PER100, PIR101).";
    Server: "server", "ServerError", "NZPIR_SERVER", 10, 6,
        "IR failed (PIR150, 5xx) or answered something that is not its protocol.";
    ConsentRequired: "consent_required", "ConsentRequiredError", "NZPIR_CONSENT_REQUIRED", 11, 4,
        "OAuth: the grant is gone (refresh token refused, none stored); a myIR user must authorise again.";
    TokenStore: "token_store", "TokenStoreError", "NZPIR_TOKEN_STORE", 12, 2,
        "OAuth: the token store could not be read or written.";
}

impl Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        ErrorKind::from_name(&s)
            .ok_or_else(|| serde::de::Error::custom("not a kind of nzpir error this version knows"))
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `type` IR gives each error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IrErrorClass {
    /// `validation`
    Validation,
    /// `security`
    Security,
    /// `server`
    Server,
    /// `result`
    Result,
}

impl IrErrorClass {
    /// IR's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            IrErrorClass::Validation => "validation",
            IrErrorClass::Security => "security",
            IrErrorClass::Server => "server",
            IrErrorClass::Result => "result",
        }
    }
}

macro_rules! ir_codes {
    ($( $(#[$doc:meta])* $v:ident = $s:literal, $status:literal, $class:ident, $kind:ident, $msg:literal; )*) => {
        /// An error code of IR's PIR gateway. Unknown codes are kept intact.
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum IrCode {
            $( $(#[$doc])* $v, )*
            /// A code this version does not know, as IR sent it.
            Other(Box<str>),
        }

        impl IrCode {
            /// Every code this version knows.
            pub const KNOWN: &'static [IrCode] = &[ $( IrCode::$v, )* ];

            /// Parses a code; unknown codes become [`IrCode::Other`]. Text
            /// that is not shaped like one of IR's codes (two to four capital
            /// letters, then three or four digits) is never kept: it could
            /// be anything the server chose to send (an IRD number, a
            /// spreadsheet formula), so it becomes
            /// `Other(`[`IrCode::UNRECOGNISED`]`)`.
            pub fn parse(s: &str) -> IrCode {
                match s {
                    $( $s => IrCode::$v, )*
                    other if is_code_shaped(other) => IrCode::Other(other.into()),
                    _ => IrCode::Other(IrCode::UNRECOGNISED.into()),
                }
            }

            /// The code as IR spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( IrCode::$v => $s, )*
                    IrCode::Other(s) => s,
                }
            }

            /// The HTTP status IR answers with this code.
            pub fn http_status(&self) -> Option<u16> {
                match self {
                    $( IrCode::$v => Some($status), )*
                    IrCode::Other(_) => None,
                }
            }

            /// The `type` IR gives this code.
            pub fn class(&self) -> Option<IrErrorClass> {
                match self {
                    $( IrCode::$v => Some(IrErrorClass::$class), )*
                    IrCode::Other(_) => None,
                }
            }

            /// The kind of failure this code means.
            pub fn kind(&self) -> Option<ErrorKind> {
                match self {
                    $( IrCode::$v => Some(ErrorKind::$kind), )*
                    IrCode::Other(_) => None,
                }
            }

            /// IR's message for this code.
            pub fn ir_message(&self) -> Option<&'static str> {
                match self {
                    $( IrCode::$v => Some($msg), )*
                    IrCode::Other(_) => None,
                }
            }
        }
    };
}

ir_codes! {
    /// No incoming POST content found.
    EV1000 = "EV1000", 400, Validation, Rejected, "No incoming POST content found";
    /// Invalid input parameters (names the field).
    EV1100 = "EV1100", 400, Validation, Rejected, "Invalid input parameters. Please check documentation.";
    /// The filing period is not a valid period on the customer.
    PER100 = "PER100", 400, Validation, Rejected, "FilingPeriod provided is not a valid period on customer.";
    /// PieIRD must be provided.
    PIR101 = "PIR101", 400, Validation, Rejected, "PieIRD must be provided.";
    /// No customer associated to the TLS certificate.
    EV1023 = "EV1023", 401, Security, Authentication, "No customer associated to TLS cert";
    /// Authentication error (malformed token).
    EV1024 = "EV1024", 401, Security, Authentication, "Authentication error";
    /// Missing OAuth or JWT token.
    EV1025 = "EV1025", 401, Security, Authentication, "Missing OAuth or JWT token in the HTTP header";
    /// Issued date or expiry date is invalid.
    EV1026 = "EV1026", 401, Security, Authentication, "Authentication error, Issued date or expiry date is invalid";
    /// Certificate or credential could not be found.
    EV1027 = "EV1027", 401, Security, Authentication, "Certificate or credential could not be found";
    /// JWT signature validation failed.
    EV1028 = "EV1028", 401, Security, Authentication, "Authentication error, JWT signature validation failed";
    /// JWT algorithm not configured on the credential.
    EV1029 = "EV1029", 401, Security, Authentication, "Authentication error, JWT algorithm not configured on credential doc";
    /// Unknown authentication error.
    EV1030 = "EV1030", 401, Security, Authentication, "Unknown authentication error";
    /// The OAuth logon has no access to any accounts or customers.
    EV1040 = "EV1040", 401, Security, Authorisation, "Start logon associated to OAuth token does not have access to any accounts or customers";
    /// The OAuth logon has no access to the investor.
    EV1041 = "EV1041", 401, Security, Authorisation, "Start logon associated to OAuth token does not have access to member/investor customer";
    /// The API consumer could not be validated to the JWT.
    EV1042 = "EV1042", 401, Security, Authorisation, "Unable to validate API consumer to JWT provided";
    /// The JWT could not be validated to the investor.
    EV1043 = "EV1043", 401, Security, Authorisation, "Unable to validate JWT to member/investor IRD number provided";
    /// The IRD number was queried too many times within 24 hours.
    IR003 = "IR003", 401, Security, RateLimited, "The IRD supplied has been queried too many times within the past 24 hours.";
    /// Unknown error while processing.
    PIR150 = "PIR150", 500, Server, Server, "Unknown error occurred while processing.";
}

impl IrCode {
    /// What stands in for a code that is not shaped like one of IR's
    /// (never a real code: it has no digits).
    pub const UNRECOGNISED: &'static str = "UNRECOGNISED";
}

/// Whether `s` is shaped like one of IR's codes: `^[A-Z]{2,4}[0-9]{3,4}$`
/// (EV1100, PER100, IR003, PIR150).
fn is_code_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let digits = b.len() - letters;
    (2..=4).contains(&letters)
        && (3..=4).contains(&digits)
        && b[letters..].iter().all(u8::is_ascii_digit)
}

/// The code as IR spells it. An unknown code is text from outside and ends up
/// in [`Error`]'s message, which is safe to log: it goes through [`scrub`]
/// ([`IrCode::as_str`] keeps it as sent).
impl fmt::Display for IrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IrCode::Other(s) => f.write_str(&scrub(s)),
            known => f.write_str(known.as_str()),
        }
    }
}

impl fmt::Debug for IrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IrCode({self})")
    }
}

impl Serialize for IrCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IrCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Ok(IrCode::parse(&s))
    }
}

/// One entry of IR's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IrErrorItem {
    /// IR's code, e.g. `EV1100`.
    pub code: IrCode,
    /// IR's class: `validation`, `security`, `server` or `result`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// IR's message.
    pub message: String,
}

impl IrErrorItem {
    /// An item for a known code, with IR's type and message.
    pub fn new(code: IrCode) -> Self {
        let error_type = code
            .class()
            .map_or("server", IrErrorClass::as_str)
            .to_owned();
        let message = code.ir_message().unwrap_or_default().to_owned();
        IrErrorItem {
            code,
            error_type,
            message,
        }
    }

    /// EV1100 naming the field, as IR words it.
    pub fn invalid_field(field: &str) -> Self {
        IrErrorItem {
            code: IrCode::EV1100,
            error_type: "validation".to_owned(),
            message: format!(
                "Invalid input parameters. Please check documentation. Field: {field}"
            ),
        }
    }

    /// The field an EV1100 message names (`... Field: IRD`), if any, when it
    /// is shaped like a field name (letters, digits, `.`, `_`; up to 64).
    pub fn field(&self) -> Option<&str> {
        self.message
            .rsplit_once("Field:")
            .map(|(_, f)| f.trim())
            .filter(|f| {
                !f.is_empty()
                    && f.len() <= 64
                    && f.starts_with(|c: char| c.is_ascii_alphabetic())
                    && f.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            })
    }

    /// The item with only what nzpir trusts from a server: the code (see
    /// [`IrCode::parse`]), IR's class, and IR's own fixed message for a
    /// known code (EV1100 with the field it names, when that is shaped like
    /// a field name). A message for an unknown code is dropped: free text
    /// from a server may carry names, addresses or IRD numbers.
    pub fn sanitised(&self) -> IrErrorItem {
        let code = IrCode::parse(self.code.as_str());
        let error_type = match self.error_type.as_str() {
            t @ ("validation" | "security" | "server" | "result") => t.to_owned(),
            _ => code
                .class()
                .map_or("unknown", IrErrorClass::as_str)
                .to_owned(),
        };
        let message = match (&code, self.field()) {
            (IrCode::EV1100, Some(field)) => return IrErrorItem::invalid_field(field),
            (c, _) => c.ir_message().unwrap_or_default().to_owned(),
        };
        IrErrorItem {
            code,
            error_type,
            message,
        }
    }
}

/// IR's error body: `{"errors":[{"code":..,"type":..,"message":..}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IrErrorBody {
    /// The errors, at least one.
    pub errors: Vec<IrErrorItem>,
}

impl IrErrorBody {
    /// A body with one error.
    pub fn single(item: IrErrorItem) -> Self {
        IrErrorBody { errors: vec![item] }
    }

    /// Parses IR's error body; `None` when the bytes are not one.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<IrErrorBody>(body)
            .ok()
            .filter(|b| !b.errors.is_empty())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    ir_code: Option<IrCode>,
    ir_errors: Vec<IrErrorItem>,
    http_status: Option<u16>,
    field_errors: Vec<FieldError>,
    source: Option<BoxError>,
    attempts: u32,
    retry_after: Option<std::time::Duration>,
    /// The request certainly never reached the server (no connection).
    not_sent: bool,
    /// For a setting's error: the setting, the problem (other settings
    /// as `{name}` placeholders) and whether the value had the wrong type.
    setting: Option<SettingProblem>,
    /// What is known of the cause beyond the kind (decides advice, never text).
    cause: Option<Cause>,
}

struct SettingProblem {
    setting: crate::options::Setting,
    problem: Cow<'static, str>,
    wrong_type: bool,
    /// Where the value came from, when it may differ from the surface that
    /// reports it (a `NZPIR_*` variable behind a CLI command).
    given_in: Option<Surface>,
    /// The call whose arguments name the setting.
    call: Call,
}

/// What is known of a failure's cause beyond its [`ErrorKind`], set where
/// the failure is found, so that code deciding what to do or advise looks
/// at this and never at the message's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The server closed or reset the connection (not a refusal).
    ConnectionClosed,
    /// The server refused the connection.
    ConnectionRefused,
    /// The server refused the client certificate, or asked for one.
    ClientCertificate,
    /// The server's certificate chains to no trusted root.
    UnknownIssuer,
    /// A private key does not match its certificate.
    KeyMismatch,
    /// A JWT algorithm does not fit the key or is not one IR accepts.
    JwtAlgorithm,
}

/// The error of every fallible nzpir call.
///
/// `Display` gives a message that is safe to log: it names fields, settings
/// and IR's codes, never secrets or personal data.
pub struct Error {
    inner: Box<Inner>,
}

impl Error {
    /// A new error of `kind` with a message. The message must not contain secrets
    /// or personal data; nzpir's own messages never do.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                ir_code: None,
                ir_errors: Vec::new(),
                http_status: None,
                field_errors: Vec::new(),
                source: None,
                attempts: 0,
                retry_after: None,
                not_sent: false,
                setting: None,
                cause: None,
            }),
        }
    }

    /// Local validation failed: every violation at once.
    pub fn invalid_input(field_errors: Vec<FieldError>) -> Self {
        let message = match field_errors.as_slice() {
            [] => Cow::Borrowed("invalid input"),
            [one] => Cow::Owned(format!("invalid input: {one}")),
            [first, rest @ ..] => {
                Cow::Owned(format!("invalid input: {first} (and {} more)", rest.len()))
            }
        };
        let mut e = Error::new(ErrorKind::InvalidInput, message);
        e.inner.field_errors = field_errors;
        e
    }

    /// A configuration error naming the setting (by its TOML key or its
    /// canonical name; a known one becomes [`Error::setting`]).
    pub fn config(setting: &str, problem: impl fmt::Display) -> Self {
        match crate::options::Setting::from_any_name(setting) {
            Some(s) => {
                let shown = if s.name_in(Surface::Toml) == setting {
                    None
                } else {
                    Some(Cow::Owned(setting.to_owned()))
                };
                Error::setting_problem(s, shown, Cow::Owned(problem.to_string()), false)
            }
            None => Error::new(ErrorKind::Config, format!("config `{setting}`: {problem}")),
        }
    }

    /// A configuration error about `setting`: `problem` may name other
    /// settings as `{name}` (canonical names), spelled per surface by
    /// [`Error::message_for`]. `wrong_type`: the value had the wrong type
    /// (Python raises `TypeError` for it).
    pub fn for_setting(
        setting: crate::options::Setting,
        problem: impl Into<Cow<'static, str>>,
        wrong_type: bool,
    ) -> Self {
        Error::setting_problem(setting, None, problem.into(), wrong_type)
    }

    fn setting_problem(
        setting: crate::options::Setting,
        shown: Option<Cow<'static, str>>,
        problem: Cow<'static, str>,
        wrong_type: bool,
    ) -> Self {
        let shown = shown.unwrap_or_else(|| setting.name_in(Surface::Toml));
        let message = format!(
            "config `{shown}`: {}",
            crate::options::render_problem(&problem, Surface::Toml, Call::Client)
        );
        let mut e = Error::new(ErrorKind::Config, message);
        e.inner.setting = Some(SettingProblem {
            setting,
            problem,
            wrong_type,
            given_in: None,
            call: Call::Client,
        });
        e
    }

    /// Records that the setting's value came from `surface` (the CLI names a
    /// value from a variable as `NZPIR_X`, not as its flag; a value from a
    /// configuration file keeps the file's key).
    pub(crate) fn given_in(mut self, surface: Surface) -> Self {
        if let Some(s) = &mut self.inner.setting {
            s.given_in = Some(surface);
        }
        self
    }

    /// Records where the setting was given, from `sources`, unless already
    /// known: an error found when a client is built from a file names the
    /// file's key.
    pub(crate) fn given_where(self, sources: &crate::config::Sources) -> Self {
        match self.inner.setting.as_ref() {
            Some(s) if s.given_in.is_none() => match sources.of(s.setting) {
                Some(surface) => self.given_in(surface),
                None => self,
            },
            _ => self,
        }
    }

    /// Records that the setting came as an argument of `call` (the one-shot
    /// JWT mint names `cert`, not `jwt_cert`), so that surfaces name it, and
    /// any setting its rule names, as that call's arguments.
    pub fn in_call(mut self, call: Call) -> Self {
        if let Some(s) = &mut self.inner.setting {
            s.call = call;
        }
        self
    }

    /// The setting a configuration error is about, as a structured key.
    pub fn setting(&self) -> Option<crate::options::Setting> {
        self.inner.setting.as_ref().map(|s| s.setting)
    }

    /// The setting a configuration error is about, as `surface` names it in
    /// the arguments of the call the error came from (`key`, `options.key`,
    /// `--key`, `tls.client_key`).
    pub fn setting_name(&self, surface: Surface) -> Option<Cow<'static, str>> {
        self.inner
            .setting
            .as_ref()
            .map(|s| s.setting.name_for(surface, s.call))
    }

    /// Whether a setting's value had the wrong type (not a wrong value).
    pub fn is_wrong_type(&self) -> bool {
        self.inner.setting.as_ref().is_some_and(|s| s.wrong_type)
    }

    /// The rule a setting broke, without the setting's name, in `surface`'s
    /// spelling of any other setting it names.
    pub fn setting_rule(&self, surface: Surface) -> Option<Cow<'_, str>> {
        self.inner
            .setting
            .as_ref()
            .map(|s| crate::options::render_problem(&s.problem, surface, s.call))
    }

    /// The message with settings spelled as `surface` names them
    /// (`config `key`: ...` in Python, `config `options.key`: ...` in Node,
    /// `config `--key`: ...` for the CLI), or as the variable or file that
    /// gave the value spells them. Other errors: [`Error::message`].
    pub fn message_for(&self, surface: Surface) -> Cow<'_, str> {
        match &self.inner.setting {
            Some(s) if !matches!(surface, Surface::Toml | Surface::Json) => {
                // Named where the value was given: a `NZPIR_*` variable
                // behind a CLI command, a key of a configuration file.
                let named = s.given_in.unwrap_or(surface);
                Cow::Owned(format!(
                    "config `{}`: {}",
                    s.setting.name_for(named, s.call),
                    crate::options::render_problem(&s.problem, named, s.call)
                ))
            }
            _ => Cow::Borrowed(&self.inner.message),
        }
    }

    /// The gateway answered with IR's error body. Only what
    /// [`IrErrorItem::sanitised`] keeps of it is kept.
    pub fn from_ir(status: u16, body: IrErrorBody) -> Self {
        let body = IrErrorBody {
            errors: body.errors.iter().map(IrErrorItem::sanitised).collect(),
        };
        let first = body.errors.first();
        let code = first.map(|e| e.code.clone());
        let kind = code
            .as_ref()
            .and_then(IrCode::kind)
            .unwrap_or_else(|| kind_for_status(status));
        let message = match first {
            Some(item) => {
                let text = match (&item.code, item.field()) {
                    (IrCode::EV1100, Some(field)) => {
                        format!("Invalid input parameters. Field: {field}")
                    }
                    (IrCode::Other(c), _) if &**c == IrCode::UNRECOGNISED => {
                        "an error code that is not shaped like IR's (left out, with its message)"
                            .to_owned()
                    }
                    (code, _) => code.ir_message().map_or_else(
                        || {
                            "an error code this version does not know (its message is left out)"
                                .to_owned()
                        },
                        str::to_owned,
                    ),
                };
                let more = body.errors.len() - 1;
                if more > 0 {
                    format!("IR {} (HTTP {status}): {text} (and {more} more)", item.code)
                } else {
                    format!("IR {} (HTTP {status}): {text}", item.code)
                }
            }
            None => format!("IR answered HTTP {status}"),
        };
        let mut e = Error::new(kind, message);
        e.inner.ir_code = code;
        e.inner.http_status = Some(status);
        e.inner.ir_errors = body.errors;
        e
    }

    /// The gateway answered with a status and no IR error body.
    pub fn from_status(status: u16, what: &str) -> Self {
        let mut e = Error::new(
            kind_for_status(status),
            format!("gateway answered HTTP {status} {what}"),
        );
        e.inner.http_status = Some(status);
        e
    }

    /// Attaches the underlying cause (kept out of `Display`; see [`std::error::Error::source`]).
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Sets the HTTP status.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// Sets IR's code (for an answer recorded earlier, e.g. in a batch journal).
    pub(crate) fn with_ir_code(mut self, code: IrCode) -> Self {
        self.inner.ir_code = Some(code);
        self
    }

    /// The class of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// IR's code of the (first) error, when the gateway sent one.
    pub fn ir_code(&self) -> Option<&IrCode> {
        self.inner.ir_code.as_ref()
    }

    /// Every error IR sent, as [`IrErrorItem::sanitised`] keeps it.
    pub fn ir_errors(&self) -> &[IrErrorItem] {
        &self.inner.ir_errors
    }

    /// The HTTP status, when there was an answer.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// For [`ErrorKind::InvalidInput`]: every violated rule, naming field and rule.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.inner.field_errors
    }

    /// Whether the request certainly never reached the server: no
    /// connection could be made (DNS, refused, unreachable, a connect
    /// timeout, a proxy that refused the tunnel). Only then is a retried
    /// lookup sure not to be counted twice by IR.
    pub fn request_not_sent(&self) -> bool {
        self.inner.not_sent
    }

    /// What is known of the cause (see [`Cause`]).
    pub(crate) fn cause(&self) -> Option<Cause> {
        self.inner.cause
    }

    /// Records what is known of the cause.
    pub(crate) fn with_cause(mut self, cause: Cause) -> Self {
        self.inner.cause = Some(cause);
        self
    }

    /// Every code IR sent, in its order (see [`Error::ir_errors`]); empty
    /// when the gateway sent none.
    pub fn ir_codes(&self) -> impl Iterator<Item = &IrCode> {
        self.inner.ir_errors.iter().map(|i| &i.code)
    }

    /// Marks the error as one where the request never left (see
    /// [`Error::request_not_sent`]).
    pub(crate) fn not_sent(mut self) -> Self {
        self.inner.not_sent = true;
        self
    }

    /// How many times the gateway was called before this error (0 when nothing
    /// was sent, e.g. local validation or configuration failed).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Records the attempt count; after more than one, the message says so.
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        if attempts > 1 {
            let msg = format!("{} (after {attempts} attempts)", self.inner.message);
            self.inner.message = Cow::Owned(msg);
        }
        self
    }

    /// How long the gateway asked the caller to wait (`Retry-After`), when it
    /// said so on the answer that ended the call.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.inner.retry_after
    }

    /// Records the gateway's `Retry-After`.
    pub(crate) fn with_retry_after(mut self, retry_after: Option<std::time::Duration>) -> Self {
        self.inner.retry_after = retry_after;
        self
    }

    /// The message alone (what `Display` shows).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Whether trying again later may succeed (transient faults only:
    /// connection failures, 502/503/504, PIR150, timeouts, and a gateway's
    /// HTTP 429 without IR's code; IR003 is IR's answer for 24 hours).
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::RateLimited => {
                self.inner.http_status == Some(429) && self.inner.ir_code.is_none()
            }
            ErrorKind::Server => {
                matches!(self.inner.ir_code, Some(IrCode::PIR150))
                    || matches!(self.inner.http_status, Some(502..=504))
            }
            _ => false,
        }
    }
}

fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Authentication,
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::Rejected,
        _ => ErrorKind::Server,
    }
}

/// Removes anything that looks like an IRD number (a run of 8 or more digits,
/// with or without separators) and control characters from text that came
/// from outside, and keeps at most 300 characters. The bindings use it for
/// text from host callbacks (e.g. a token store's error).
pub fn scrub(text: &str) -> String {
    const MAX: usize = 300;
    let mut out = String::with_capacity(text.len().min(MAX));
    // Control characters go first: dropped between two halves of a number,
    // they would otherwise join them into one after the check.
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).take(MAX).collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            let mut digits = 0;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (matches!(chars[i], '-' | ' ')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                digits += usize::from(chars[i].is_ascii_digit());
                i += 1;
            }
            if digits >= 8 {
                out.push_str("[redacted]");
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A parser's error message (serde_json, toml) made safe to show: serde words
/// a value of the wrong type as `string "..."`, and that value may be a name,
/// an IRD number, a token or a key; it is left out (`invalid type: string,
/// expected ...`). Field names, positions and the rest stay, through [`scrub`].
pub(crate) fn parse_error_text(message: &str) -> String {
    const QUOTED: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(QUOTED) {
        out.push_str(&rest[..at]);
        out.push_str("string");
        // The value is in Rust's `Debug` form: skip to its closing quote.
        let value = &rest[at + QUOTED.len()..];
        let mut end = value.len();
        let mut escaped = false;
        for (i, c) in value.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    scrub(&out)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(code) = &self.inner.ir_code {
            d.field("ir_code", code);
        }
        if let Some(status) = self.inner.http_status {
            d.field("http_status", &status);
        }
        if !self.inner.field_errors.is_empty() {
            d.field("field_errors", &self.inner.field_errors);
        }
        if self.inner.attempts > 0 {
            d.field("attempts", &self.inner.attempts);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `Result` with nzpir's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_eighteen_codes_are_known() {
        assert_eq!(IrCode::KNOWN.len(), 18);
        for code in IrCode::KNOWN {
            assert_eq!(&IrCode::parse(code.as_str()), code);
            assert!(code.http_status().is_some());
            assert!(code.kind().is_some());
            assert!(code.ir_message().is_some());
        }
        assert_eq!(IrCode::IR003.kind(), Some(ErrorKind::RateLimited));
        assert_eq!(IrCode::PIR150.http_status(), Some(500));
        assert_eq!(IrCode::EV1041.kind(), Some(ErrorKind::Authorisation));
        assert_eq!(IrCode::EV1027.kind(), Some(ErrorKind::Authentication));
        assert_eq!(IrCode::PIR101.http_status(), Some(400));
    }

    #[test]
    fn every_kind_has_one_row_of_names_that_no_other_kind_shares() {
        use std::collections::HashSet;
        let mut seen: [HashSet<String>; 4] = Default::default();
        for k in ErrorKind::ALL {
            let c = k.contract();
            assert_eq!(c.kind, k);
            assert_eq!(ErrorKind::from_name(c.name), Some(k));
            assert_eq!(
                serde_json::to_string(&k).expect("json"),
                format!("\"{}\"", c.name)
            );
            assert!(c.python_class.ends_with("Error"), "{k}");
            assert!(c.node_code.starts_with("NZPIR_"), "{k}");
            assert!((1..=98).contains(&c.c_status), "{k}");
            assert!((2..=7).contains(&c.exit_code), "{k}");
            assert!(!c.summary.is_empty(), "{k}");
            for (set, v) in seen.iter_mut().zip([
                c.name.to_owned(),
                c.python_class.to_owned(),
                c.node_code.to_owned(),
                c.c_status.to_string(),
            ]) {
                assert!(set.insert(v.clone()), "{k}: {v} is another kind's");
            }
        }
        assert_eq!(ErrorKind::from_name("no-such-kind"), None);
        assert!(serde_json::from_str::<ErrorKind>("\"no-such-kind\"").is_err());
    }

    #[test]
    fn every_ir_code_is_kept_in_order() {
        let body = IrErrorBody {
            errors: vec![
                IrErrorItem::invalid_field("Country"),
                IrErrorItem::new(IrCode::PIR101),
            ],
        };
        let e = Error::from_ir(400, body);
        let codes: Vec<&str> = e.ir_codes().map(IrCode::as_str).collect();
        assert_eq!(codes, ["EV1100", "PIR101"]);
        assert_eq!(e.ir_code(), Some(&IrCode::EV1100));
    }

    #[test]
    fn unknown_codes_are_kept() {
        let body = IrErrorBody::parse(
            br#"{"errors":[{"code":"XY999","type":"server","message":"odd 049091850"}]}"#,
        )
        .expect("body");
        let e = Error::from_ir(418, body);
        assert_eq!(e.ir_code().map(IrCode::as_str), Some("XY999"));
        assert_eq!(e.kind(), ErrorKind::Rejected);
        assert!(!e.to_string().contains("049091850"), "{e}");
        assert!(!e.to_string().contains("odd"), "{e}");
        assert_eq!(e.ir_errors()[0].message, "");
    }

    #[test]
    fn codes_that_are_not_code_shaped_are_not_kept() {
        for code in [
            "049091850",
            "=HYPERLINK(\"http://x\")",
            "EV1100; rm",
            "ev1100",
            "E1000",
            "ABCDE123",
            "AB12345",
            "",
        ] {
            let body = format!(
                r#"{{"errors":[{{"code":{},"type":"validation","message":"Gary Allen, 1 Queen St"}}]}}"#,
                serde_json::Value::from(code)
            );
            let e = Error::from_ir(400, IrErrorBody::parse(body.as_bytes()).expect("body"));
            assert_eq!(
                e.ir_code().map(IrCode::as_str),
                Some(IrCode::UNRECOGNISED),
                "{code}"
            );
            let text = e.to_string();
            if !code.is_empty() {
                assert!(!text.contains(code), "{text}");
            }
            assert!(!text.contains("Gary") && !text.contains("Queen"), "{text}");
            assert!(!format!("{:?}", e.ir_errors()).contains("Gary"));
        }
        for code in ["XY999", "IR003", "ABCD1234", "EV1100"] {
            assert!(is_code_shaped(code), "{code}");
        }
    }

    #[test]
    fn server_free_text_never_survives_for_known_codes() {
        let body = br#"{"errors":[{"code":"PIR101","type":"validation","message":"PieIRD for Gary Allen of 1 Queen St must be provided"}]}"#;
        let e = Error::from_ir(400, IrErrorBody::parse(body).expect("body"));
        assert!(!e.to_string().contains("Gary"), "{e}");
        assert_eq!(e.ir_errors()[0].message, "PieIRD must be provided.");
        // EV1100 keeps a field name, never a value in its place.
        let body = br#"{"errors":[{"code":"EV1100","type":"validation","message":"Invalid input parameters. Please check documentation. Field: Gary Allen"}]}"#;
        let e = Error::from_ir(400, IrErrorBody::parse(body).expect("body"));
        assert!(!e.to_string().contains("Gary"), "{e}");
        assert!(!format!("{:?}", e.ir_errors()).contains("Gary"));
    }

    #[test]
    fn ev1100_names_the_field() {
        let e = Error::from_ir(
            400,
            IrErrorBody::single(IrErrorItem::invalid_field("Country")),
        );
        assert_eq!(e.kind(), ErrorKind::Rejected);
        assert!(e.to_string().contains("Field: Country"), "{e}");
        assert_eq!(e.ir_errors()[0].field(), Some("Country"));
    }

    #[test]
    fn scrub_removes_ird_like_runs() {
        assert_eq!(scrub("IRD 049091850 bad"), "IRD [redacted] bad");
        assert_eq!(scrub("IRD 49-091-850"), "IRD [redacted]");
        assert_eq!(scrub("code 1234 ok"), "code 1234 ok");
    }

    #[test]
    fn parse_errors_do_not_quote_values() {
        assert_eq!(
            parse_error_text(
                r#"invalid type: string "Jane \"JJ\" Investorson", expected struct Name at line 1 column 44"#
            ),
            "invalid type: string, expected struct Name at line 1 column 44"
        );
        assert_eq!(
            parse_error_text(r#"a string "x" and string "y\\" then string "unterminated"#),
            "a string and string then string"
        );
        assert_eq!(
            parse_error_text("unknown field `Nmae`, expected one of `IRD`, `PieIRD`"),
            "unknown field `Nmae`, expected one of `IRD`, `PieIRD`"
        );
        assert_eq!(
            parse_error_text("invalid type: integer `49091850`, expected a string"),
            "invalid type: integer `[redacted]`, expected a string"
        );
    }

    #[test]
    fn scrub_sees_numbers_split_by_control_characters() {
        // Found by fuzzing: the control characters were dropped after the
        // digit check, so the two halves came out as one IRD number.
        assert_eq!(scrub("IRD 0490\u{0}91850"), "IRD [redacted]");
        assert_eq!(scrub("a 4909\n\r1850 b"), "a [redacted] b");
        assert_eq!(scrub("1234\t567"), "1234567");
    }

    #[test]
    fn retryable() {
        assert!(
            Error::from_ir(500, IrErrorBody::single(IrErrorItem::new(IrCode::PIR150)))
                .is_retryable()
        );
        assert!(Error::from_status(503, "").is_retryable());
        assert!(!Error::from_status(500, "").is_retryable());
        assert!(
            !Error::from_ir(401, IrErrorBody::single(IrErrorItem::new(IrCode::IR003)))
                .is_retryable()
        );
        assert!(
            !Error::from_ir(400, IrErrorBody::single(IrErrorItem::new(IrCode::EV1000)))
                .is_retryable()
        );
    }
}
