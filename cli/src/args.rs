//! The command line's shape (clap derive). The subcommands, flags, environment
//! variables and exit codes are a contract: add, never rename.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Parser, Subcommand, ValueEnum};
use nzpir::options::{Kind, SPECS, Setting, Surface};

const TOP_HELP: &str = "\
Examples:
  nzpir demo                                   a real mTLS + JWT lookup against a local sandbox
  nzpir validate 49-091-850 136410132          check IRD numbers locally
  nzpir lookup --config nzpir.toml --ird 139276507 --pie-ird 125000002
  nzpir batch members.csv --out rates.csv --config nzpir.toml

Connection settings come from flags, then NZPIR_* environment variables, then
the TOML file given by --config (NZPIR_CONFIG): a flag wins over a variable,
a variable over the file.

Exit codes:
  0 rate or not-found, 2 usage or invalid input, 3 rejected by IR (400),
  4 authentication/authorisation (401), 5 rate limited (IR003),
  6 IR server error, 7 TLS/transport/timeout";

/// A client for Inland Revenue's PIR gateway: the suggested Prescribed Investor
/// Rate for an investor's IRD number.
#[derive(Debug, Parser)]
#[command(name = "nzpir", version, after_help = TOP_HELP, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a sandbox in this process and make a real mTLS + JWT lookup against it.
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
    /// Check IRD numbers locally (modulus 11): one line per input, in order.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),
    /// Ask IR for one investor's suggested PIR.
    #[command(after_help = LOOKUP_HELP)]
    Lookup(Box<LookupArgs>),
    /// Check the configuration against IR's requirements and the live gateway.
    #[command(after_help = DOCTOR_HELP)]
    Doctor(Box<DoctorArgs>),
    /// Look up every row of a CSV file; resumable after a crash.
    #[command(after_help = BATCH_HELP)]
    Batch(Box<BatchArgs>),
    /// Run the local emulator of IR's gateway and OAuth server until SIGINT or SIGTERM.
    #[command(after_help = SANDBOX_HELP)]
    Sandbox(nzpir_sandbox::SandboxArgs),
    /// Mint an M2M JWT as IR expects it (printed on standard output).
    #[command(after_help = JWT_HELP)]
    Jwt(JwtArgs),
    /// Print a certificate's SHA-256 thumbprint (the JWT `sub`): upper-case hex, no colons.
    #[command(after_help = THUMBPRINT_HELP)]
    Thumbprint(ThumbprintArgs),
    /// OAuth 2.0 with IR: authorise a myIR user, then keep the tokens fresh.
    #[command(subcommand)]
    Oauth(Box<OauthCommand>),
    /// Estimate an investor's PIR locally from their facts, by IR's published rules, with the reason.
    #[command(after_help = ESTIMATE_HELP)]
    Estimate(EstimateArgs),
    /// Run IR's 13 PIR onboarding scenarios (PIR-OB-001 to 013) and write IR's test report.
    #[command(after_help = ONBOARDING_HELP)]
    Onboarding(OnboardingArgs),
}

const ESTIMATE_HELP: &str = "\
The facts are JSON with snake_case keys (the same in every surface and in the
sandbox's fixture): pir_year or filing_period, investor_type, residency,
trustee_election, zero_rate_pie, notified_foreign_investor, and income as a
list of {\"year\": 2025, \"taxable_income\": \"40000.00\", \"pie_income\": \"0\"}.
Flags add to (and win over) the facts of --facts. A year not listed had no income.

An estimate is never IR's answer: IR's suggested rate and the investor's own
choice take precedence. Use it where IR answers PirRateNotFound.

Examples:
  nzpir estimate --pir-year 2026 --income 2024:40000:5000 --income 2025:61000
  nzpir estimate --facts investor.json --json
  nzpir estimate --investor-type company

Exit codes: 0 an estimate or \"cannot estimate\" (rate null, missing facts named),
2 bad facts (each field and rule named on standard error).";

/// `nzpir estimate`.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// A JSON file with the facts (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// The PIR year (the year ending 31 March the rate is for, e.g. 2026).
    #[arg(long, value_name = "YEAR")]
    pub pir_year: Option<String>,
    /// The filing period instead of --pir-year: 31 March of a tax year, yyyy-MM-dd.
    #[arg(long, value_name = "DATE")]
    pub filing_period: Option<String>,
    /// individual (default), company, incorporated_society, charity, pie, superannuation_fund, trustee.
    #[arg(long, value_name = "TYPE")]
    pub investor_type: Option<String>,
    /// resident (default), non_resident, transitional_resident.
    #[arg(long, value_name = "RESIDENCY")]
    pub residency: Option<String>,
    /// A trustee's elected rate: 0, 10.5, 17.5 or 28.
    #[arg(long, value_name = "RATE")]
    pub trustee_election: Option<String>,
    /// The PIE is a foreign investment zero-rate PIE.
    #[arg(long)]
    pub zero_rate_pie: bool,
    /// The investor notified the PIE that they are a foreign investor.
    #[arg(long)]
    pub notified_foreign_investor: bool,
    /// One income year: YEAR:TAXABLE[:PIE] (dollars, at most 2 decimal places); repeatable.
    #[arg(long, value_name = "YEAR:TAXABLE[:PIE]")]
    pub income: Vec<String>,
    /// Print the estimate as JSON: rate (number or null), rate_decimal, rule, explanation, missing.
    #[arg(long)]
    pub json: bool,
}

const ONBOARDING_HELP: &str = "\
Runs IR's PIR onboarding test plan (13 scenarios) against the environment the
scenario file configures, and writes IR's test report as Markdown: one row per
scenario with its id, the expected result, what happened (IR's code or rate),
Pass / Fail / Not run, and the request and answer as evidence (tokens, keys and
JWTs removed). Scenarios the configuration cannot run are reported as not run,
with the reason. The scenario file is described in the README (\"Onboarding with IR\").

Examples:
  nzpir onboarding --sandbox --report report.md
  nzpir onboarding --scenarios onboarding.toml --report report.md

Exit codes: 0 when every scenario that ran passed, 1 when one failed,
2 for a bad scenario file or configuration.";

/// `nzpir onboarding`.
#[derive(Debug, Args)]
pub struct OnboardingArgs {
    /// The scenario file (TOML): connection settings and IR's test data per scenario.
    #[arg(long, value_name = "FILE", required_unless_present = "sandbox")]
    pub scenarios: Option<PathBuf>,
    /// Start an embedded sandbox and run against it with the shipped scenario file
    /// (a --scenarios file is then read with the sandbox's connection settings).
    #[arg(long)]
    pub sandbox: bool,
    /// Where to write the Markdown report.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

const DEMO_HELP: &str = "\
Starts the sandbox (profile strict) with a fresh test CA and certificates,
builds a client from the sandbox's nzpir.toml, and asks about one of IR's
published test investors. Nothing leaves this machine.

Examples:
  nzpir demo
  nzpir demo --ird 139276310        another published test investor (10.5)

Exit codes: 0 when the lookup answered; otherwise as for `nzpir lookup`.";

/// `nzpir demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The investor to ask about: one of IR's published test IRD numbers
    /// (members of the sandbox's scheme: 139276507, 139276310, 139439976, 049091850).
    #[arg(long, value_name = "IRD", default_value = "139276507")]
    pub ird: String,
    /// The scheme to ask as (the sandbox's KiwiSaver scheme).
    #[arg(long, value_name = "IRD", default_value = "125000002")]
    pub pie_ird: String,
}

const VALIDATE_HELP: &str = "\
Prints `<9 digits> valid` or `<input> invalid: <reason>` for each input, in
input order. Accepts what people type: 49091850, 049091850, 49-091-850,
049 091 850. With `-`, reads one number per line from standard input.

Examples:
  nzpir validate 49091850 136410133
  nzpir validate - < irds.txt > report.txt

Exit codes: 0 when every input is valid, 2 when any is invalid.";

/// `nzpir validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// IRD numbers; `-` reads one per line from standard input.
    #[arg(value_name = "IRD", required = true, num_args = 1..)]
    pub irds: Vec<OsString>,
}

/// The fields of one request (IR's names in brackets).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Request")]
pub struct RequestArgs {
    /// The investor's IRD number [IRD] (8 or 9 digits; 49-091-850 style accepted).
    #[arg(long, value_name = "IRD")]
    pub ird: String,
    /// The PIE or KiwiSaver scheme's IRD number [PieIRD].
    #[arg(long, value_name = "IRD")]
    pub pie_ird: Option<String>,
    /// The filing period [FilingPeriod]: the year it ends (2026) or 31 March of a tax year, yyyy-MM-dd (default: the current one).
    #[arg(long, value_name = "DATE")]
    pub filing_period: Option<String>,
    /// The investor's name as one line [FormattedName], "Last, First Middle".
    #[arg(long, value_name = "TEXT")]
    pub formatted_name: Option<String>,
    /// First name [Name.FirstName].
    #[arg(long, value_name = "TEXT")]
    pub first_name: Option<String>,
    /// Middle name [Name.MiddleName].
    #[arg(long, value_name = "TEXT")]
    pub middle_name: Option<String>,
    /// Last name [Name.LastName].
    #[arg(long, value_name = "TEXT")]
    pub last_name: Option<String>,
    /// Date of birth [Dob], yyyy-MM-dd.
    #[arg(long, value_name = "DATE")]
    pub dob: Option<String>,
    /// The address as one line [FormattedAddress].
    #[arg(long, value_name = "TEXT")]
    pub formatted_address: Option<String>,
    /// Street [Address.Street].
    #[arg(long, value_name = "TEXT")]
    pub street: Option<String>,
    /// City [Address.City].
    #[arg(long, value_name = "TEXT")]
    pub city: Option<String>,
    /// Post code [Address.PostCode].
    #[arg(long, value_name = "TEXT")]
    pub post_code: Option<String>,
    /// State [Address.State].
    #[arg(long, value_name = "TEXT")]
    pub state: Option<String>,
    /// Country [Address.Country], ISO 3166-1 alpha-2 (NZ, AU, ...).
    #[arg(long, value_name = "CODE")]
    pub country: Option<String>,
}

/// How to reach and authenticate with IR's gateway. The flags are the core's
/// options schema (`nzpir::options::SPECS`): each also comes from its
/// `NZPIR_*` variable; a flag wins over the variable, the variable over the
/// `--config` file. The values are handed to the core as given; it checks them.
#[derive(Debug, Clone, Default)]
pub struct ConnArgs {
    /// A TOML configuration file (the sandbox writes a ready one: nzpir.toml).
    pub config: Option<PathBuf>,
    /// Each setting given, where it came from (a flag or a variable), as text.
    pub settings: Vec<(Setting, Surface, String)>,
    /// `--no-validate`: send the request even if it breaks a local rule.
    pub no_validate: bool,
    /// `-v`: one log line per call (`-vv`: retries too).
    pub verbose: u8,
}

fn value_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pem => "PEM",
        Kind::Path => "FILE",
        Kind::Seconds | Kind::WholeSeconds { .. } => "SECONDS",
        Kind::Count { .. } => "N",
        Kind::Bool => "BOOL",
        Kind::Enum(_) => "NAME",
        Kind::Secret => "SECRET",
        Kind::Text => "TEXT",
    }
}

impl clap::FromArgMatches for ConnArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut settings = Vec::new();
        for spec in SPECS {
            if let Some(v) = m.get_one::<String>(spec.name) {
                let surface = match m.value_source(spec.name) {
                    Some(ValueSource::EnvVariable) => Surface::Env,
                    _ => Surface::Cli,
                };
                settings.push((spec.setting, surface, v.clone()));
            }
        }
        Ok(ConnArgs {
            config: m.get_one::<PathBuf>("config").cloned(),
            settings,
            no_validate: m.get_flag("no_validate"),
            verbose: m.get_count("verbose"),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for ConnArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd.next_help_heading("Connection").arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .env("NZPIR_CONFIG")
                .value_parser(clap::value_parser!(PathBuf))
                .help("A TOML configuration file (the sandbox writes a ready one: nzpir.toml)"),
        );
        for spec in SPECS {
            let mut arg = Arg::new(spec.name)
                .long(spec.cli.trim_start_matches('-'))
                .value_name(value_name(spec.kind))
                .help(format!("{} (default: {})", spec.help, spec.default));
            if let Some(var) = spec.env {
                arg = arg.env(var).hide_env_values(spec.secret);
            }
            cmd = cmd.arg(arg);
        }
        cmd.arg(
            Arg::new("no_validate")
                .long("no-validate")
                .action(ArgAction::SetTrue)
                .help(
                    "Send the request even if it breaks a local rule (IR's mock uses IRD numbers \
                     that fail modulus 11); the same as --validate-locally false",
                ),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::Count)
                .help(
                    "Log one line per call to standard error (-vv: retries too). Never IRD \
                     numbers, names, dates of birth or tokens",
                ),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

const LOOKUP_HELP: &str = "\
Prints the suggested rate (or that IR has none) on standard output; with
--json, IR's response body. IR's errors go to standard error with their code.

Examples:
  nzpir lookup --config sandbox-pki/nzpir.toml --ird 139276507 --pie-ird 125000002
  nzpir lookup --env test --cert client.pem --key client.key \\
      --jwt-cert jwt.pem --jwt-key jwt.key --issuer 'My Fund Admin Ltd' \\
      --ird 49-091-850 --pie-ird 136410132 --json
  NZPIR_CONFIG=nzpir.toml nzpir lookup --ird 139276329 --pie-ird 130000002 \\
      --first-name Gary --last-name Allen --dob 1990-01-02 \\
      --street '123 Ha Crescent' --city Auckland --country NZ

Exit codes:
  0 rate or not-found; 2 invalid request or configuration (every broken rule
  is listed); 3 rejected by IR; 4 authentication/authorisation; 5 IR003;
  6 IR server error; 7 TLS/transport/timeout.";

/// `nzpir lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The request.
    #[command(flatten)]
    pub request: RequestArgs,
    /// The connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Print IR's response JSON (or IR's error body) instead of a sentence.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

const DOCTOR_HELP: &str = "\
Checks, one line each (ok, warn, fail or skip, and what to do):
  the client certificate and key: readable, matching, dates (warn within 30
  days of expiry), key type and size, issued by a CA on IR's approved list
  (Amazon, Comodo, DigiCert, Entrust, GeoTrust, Let's Encrypt, Sectigo,
  Thawte; the sandbox's CA is an expected warning), not self-signed, IR's CN
  form <32 hex>.irdgws.<domain>, and (with --compare-config) not the same
  certificate as the other environment's;
  the JWT credential: key matching, algorithm, the `sub` it sends, lifetime;
  the gateway: DNS, TCP, TLS handshake (version, suite, server certificate),
  this machine's clock against the gateway's Date (warn beyond 30 s), the
  status endpoint, and with --ird one real lookup.

Examples:
  nzpir doctor --config sandbox-pki/nzpir.toml
  nzpir doctor --sandbox --ird 139276507 --pie-ird 125000002
  nzpir doctor --env test --pkcs12 client.p12 --jwt-cert jwt.cer --jwt-key jwt.key \\
      --issuer 'My Fund Admin Ltd' --ird 49-091-850 --pie-ird 136410132 --json

Exit codes: 0 nothing failed (warnings allowed); otherwise the class of the
worst failure: 2 configuration, 4 authentication/authorisation, 7 TLS,
connection or timeout (3, 5 or 6 when the --ird lookup fails so).";

/// `nzpir doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Make one real lookup of this investor (IRD number) at the end.
    #[arg(long, value_name = "IRD", help_heading = "Doctor")]
    pub ird: Option<String>,
    /// The PIE's IRD number for the --ird lookup.
    #[arg(long, value_name = "IRD", requires = "ird", help_heading = "Doctor")]
    pub pie_ird: Option<String>,
    /// The other environment's configuration file (test when checking
    /// production, or the reverse): its client certificate must differ.
    #[arg(long, value_name = "FILE", help_heading = "Doctor")]
    pub compare_config: Option<PathBuf>,
    /// Check against a sandbox started in this process (profile strict, fresh
    /// certificates): its ready configuration, with any connection flags on top
    /// (e.g. --cert/--key to try other certificates).
    #[arg(long, help_heading = "Doctor")]
    pub sandbox: bool,
    /// Print the checks as JSON.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

const BATCH_HELP: &str = "\
Reads IN.csv (a header row, then one investor per row) and writes OUT.csv:
the input columns followed by SuggestedPirRate, PirRateNotFound, ErrorCode
and ErrorMessage, one row per input row, in input order.

Columns read (case does not matter; others are carried through unchanged):
  IRD, PieIRD, FilingPeriod, FirstName, MiddleName, LastName, FormattedName,
  Dob, Street, City, PostCode, State, Country, FormattedAddress

Rows that break a local rule (ErrorCode INVALID) or cannot be read (CSV, with
the line number) make no call. Identical requests are looked up once. IR003
rows are marked and not retried.

Every completed lookup is appended to a journal (OUT.csv.journal unless
--journal; it holds keyed hashes, never IRD numbers) before it is counted.
After a crash, Ctrl-C or kill -9, run the same command with --resume: the
output is written again in full, every row once, and no completed lookup is
repeated. The journal is removed when every row has a final answer; when some
rows failed on the way (connection, timeout, server), it is kept and --resume
tries just those again.

Examples:
  nzpir batch members.csv --out rates.csv --config nzpir.toml
  nzpir batch members.csv --out rates.csv --config nzpir.toml --concurrency 8 --max-rps 5
  nzpir batch members.csv --out rates.csv --config nzpir.toml --resume

Exit codes: 0 when every row has a rate or not-found; otherwise the highest
code among the failed rows' classes (2 invalid row or CSV, 3 rejected,
4 authentication/authorisation, 5 IR003, 6 server, 7 transport), so a run
whose infrastructure failed outranks one with bad rows. 2 also when the run
cannot start (missing IRD column, unreadable file, journal already there).";

/// `nzpir batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The input CSV file.
    #[arg(value_name = "IN.csv")]
    pub input: PathBuf,
    /// The output CSV file (written to OUT.csv.partial, renamed when complete).
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Lookups in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// At most this many lookups started per second.
    #[arg(long, value_name = "R", value_parser = parse_rps)]
    pub max_rps: Option<f64>,
    /// Continue an interrupted run from its journal.
    #[arg(long)]
    pub resume: bool,
    /// The journal file (default: OUT.csv.journal).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// The PieIRD for rows whose PieIRD cell is empty (or that have no PieIRD column).
    #[arg(long, value_name = "IRD")]
    pub pie_ird: Option<String>,
    /// Progress on standard error: auto (a bar on a terminal, periodic lines
    /// otherwise), bar, lines or none.
    #[arg(long, value_name = "HOW", default_value = "auto")]
    pub progress: ProgressMode,
    /// The connection.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// How batch progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A bar on a terminal, periodic lines otherwise.
    Auto,
    /// A bar with rate and ETA.
    Bar,
    /// A line every few seconds.
    Lines,
    /// Only the summary.
    None,
}

fn parse_rps(s: &str) -> Result<f64, String> {
    const RULE: &str = "must be a number of lookups per second from 0.001 to 10000";
    let r: f64 = s.trim().parse().map_err(|_| RULE.to_owned())?;
    nzpir::batch::check_max_rps(r).map_err(|_| RULE.to_owned())
}

const SANDBOX_HELP: &str = "\
The same as `nzpir-sandbox`: prints its URL and the manifest's path, writes
manifest.json (and a ready nzpir.toml) once listening, and serves until
SIGINT or SIGTERM. See sandbox/README.md for the fixture, faults and admin API.

Examples:
  nzpir sandbox --pki-dir ./sandbox-pki
  nzpir sandbox --profile ir-mock --listen 127.0.0.1:4046
  nzpir lookup --config ./sandbox-pki/nzpir.toml --ird 139276507 --pie-ird 125000002

Exit codes: 0 after a signal, 1 when it cannot start, 2 for bad arguments.";

const JWT_HELP: &str = "\
Header {\"alg\":..,\"typ\":\"JWT\",\"kid\":\"M2M\"}; claims sub (the signing
certificate's SHA-256 thumbprint), iss, startLogon, iat, exp. The token is a
credential: it is printed because you asked for it.

Examples:
  nzpir jwt --cert jwt.pem --key jwt.key --issuer 'My Fund Admin Ltd'
  nzpir jwt --cert jwt-ec.pem --key jwt-ec.key --alg ES256 --issuer Acme \\
      --start-logon ops.user --ttl 300
  nzpir jwt --cert jwt.pem --key jwt.key --issuer Acme --ttl 28800   # 8 hours, IR's limit

Exit codes: 0 printed; 2 unreadable or mismatched certificate/key, bad option.";

/// `nzpir jwt`.
#[derive(Debug, Args)]
pub struct JwtArgs {
    /// The signing certificate (PEM).
    #[arg(long, value_name = "PEM", env = "NZPIR_JWT_CERT")]
    pub cert: PathBuf,
    /// The signing key (PEM: PKCS#8, SEC1 or PKCS#1).
    #[arg(long, value_name = "PEM", env = "NZPIR_JWT_KEY")]
    pub key: PathBuf,
    /// The algorithm (default: RS256 for RSA keys, ES256/ES384/ES512 for P-256/P-384/P-521).
    /// IR lists RS256, RS384, RS512, ES256, ES384, ES512; PS256 is not on IR's list.
    #[arg(long, value_name = "ALG", env = "NZPIR_JWT_ALG")]
    pub alg: Option<String>,
    /// `iss`: the provider's name registered with IR.
    #[arg(long, value_name = "NAME", env = "NZPIR_ISSUER")]
    pub issuer: Option<String>,
    /// `startLogon`: a myIR logon (default none: authorised by the certificate).
    #[arg(long, value_name = "LOGON", env = "NZPIR_START_LOGON")]
    pub start_logon: Option<String>,
    /// What `startLogon` carries when no logon is set: `null` (the default, IR's build
    /// packs) or `empty` (`""`, IR's sample script).
    #[arg(long, value_name = "null|empty", env = "NZPIR_UNSET_START_LOGON", value_parser = ["null", "empty"])]
    pub unset_start_logon: Option<String>,
    /// Lifetime in seconds, 60 to 28800 (8 hours, IR's limit; default 540).
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(
            nzpir::jwt::MIN_TTL.as_secs()..=nzpir::jwt::MAX_TTL.as_secs()
        )
    )]
    pub ttl: Option<u64>,
}

const THUMBPRINT_HELP: &str = "\
The same as `openssl x509 -fingerprint -sha256 -noout -in CERT` with the
colons removed. Reads the first certificate of a PEM file (or a DER file).

Examples:
  nzpir thumbprint jwt.pem

Exit codes: 0 printed; 2 unreadable file or no certificate in it.";

/// `nzpir thumbprint`.
#[derive(Debug, Args)]
pub struct ThumbprintArgs {
    /// The certificate (PEM or DER).
    #[arg(value_name = "CERT.pem")]
    pub cert: PathBuf,
}

const OAUTH_HELP: &str = "\
The OAuth settings come from flags, NZPIR_* variables or the [auth] section
(type = \"oauth\") of the --config file: client id and secret, redirect URI,
OAuth endpoint (or --env), token store. Tokens are kept in the token store
file; refresh tokens are never printed unless --show-tokens asks.

Exit codes: 0 done; 2 configuration or a missing pending authorisation;
4 refused (consent needed, invalid grant); 6 server error; 7 transport.";

/// `nzpir oauth ...`.
#[derive(Debug, Subcommand)]
#[command(after_help = OAUTH_HELP)]
pub enum OauthCommand {
    /// Start an authorisation: print the URL to open in a browser and save its
    /// state and PKCE verifier for `exchange`.
    #[command(after_help = AUTHORIZE_HELP, visible_alias = "authorization-request")]
    AuthorizeUrl(OauthAuthorizeArgs),
    /// Finish an authorisation: check the redirect's state, exchange its code
    /// and store the tokens.
    #[command(after_help = EXCHANGE_HELP, visible_alias = "complete-authorization")]
    Exchange(OauthExchangeArgs),
    /// Use the stored refresh token (single-use at IR) and store the new tokens.
    #[command(after_help = REFRESH_HELP)]
    Refresh(OauthTokensArgs),
    /// Ask IR whether the stored access (or refresh) token is live; prints JSON.
    #[command(after_help = INTROSPECT_HELP)]
    Introspect(OauthTokenArgs),
    /// Revoke the stored refresh (or access) token and forget the stored tokens.
    #[command(after_help = REVOKE_HELP)]
    Revoke(OauthTokenArgs),
}

const AUTHORIZE_HELP: &str = "\
Examples:
  nzpir oauth authorize-url --config nzpir.toml
  nzpir oauth authorize-url --env test --oauth-client-id my-app \\
      --oauth-redirect-uri https://app.example/callback --token-store tokens.json

The state and PKCE verifier go to TOKEN_STORE.pending (mode 0600) unless
--state-file says otherwise.";

const EXCHANGE_HELP: &str = "\
Examples:
  nzpir oauth exchange --config nzpir.toml \\
      --redirect-url 'https://app.example/callback?code=...&state=...'";

const REFRESH_HELP: &str = "\
Examples:
  nzpir oauth refresh --config nzpir.toml
  nzpir oauth refresh --config nzpir.toml --show-tokens | jq -r .access_token";

const INTROSPECT_HELP: &str = "\
Examples:
  nzpir oauth introspect --config nzpir.toml
  nzpir oauth introspect --config nzpir.toml --token-type refresh";

const REVOKE_HELP: &str = "\
Revoking the refresh token also revokes the access token issued with it, and
removes the token store file.

Examples:
  nzpir oauth revoke --config nzpir.toml";

/// `nzpir oauth authorize-url`.
#[derive(Debug, Args)]
pub struct OauthAuthorizeArgs {
    /// Where to keep the state and PKCE verifier (default: TOKEN_STORE.pending).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// The connection and OAuth settings.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `nzpir oauth exchange`.
#[derive(Debug, Args)]
pub struct OauthExchangeArgs {
    /// The URL the browser was sent back to (or just its query string).
    #[arg(long, value_name = "URL")]
    pub redirect_url: String,
    /// The file `authorize-url` saved (default: TOKEN_STORE.pending).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Also print the new tokens (access and refresh) as JSON on standard output.
    #[arg(long)]
    pub show_tokens: bool,
    /// The connection and OAuth settings.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `nzpir oauth refresh`.
#[derive(Debug, Args)]
pub struct OauthTokensArgs {
    /// Also print the new tokens (access and refresh) as JSON on standard output.
    /// If IR rotated the grant but the token store could not save it, they are
    /// printed on standard error instead, so that the live refresh token is not lost.
    #[arg(long)]
    pub show_tokens: bool,
    /// The connection and OAuth settings.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `nzpir oauth introspect` and `revoke`.
#[derive(Debug, Args)]
pub struct OauthTokenArgs {
    /// Which stored token (introspect: access by default; revoke: refresh by default).
    #[arg(long, value_name = "KIND")]
    pub token_type: Option<TokenType>,
    /// The connection and OAuth settings.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Which token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenType {
    /// The access token.
    Access,
    /// The refresh token.
    Refresh,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_examples() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            let mut subs: Vec<&clap::Command> = sub.get_subcommands().collect();
            if subs.is_empty() {
                subs.push(sub);
            }
            for s in subs {
                let help = s
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(
                    help.contains("Examples:") || help.contains("nzpir "),
                    "{} has no examples",
                    s.get_name()
                );
            }
        }
    }
}
