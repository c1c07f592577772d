//! Walks the options schema and gives every setting, good and bad, to every
//! surface's entry point: the TOML file and the C ABI's JSON as text, and
//! Python's keywords, Node's options and the CLI's flags and variables as the
//! raw values those surfaces hand to the core. Each must mean the same: the
//! same configuration for a good value, the same setting and rule for a bad
//! one, the setting spelled as that surface names it.

use nzpir::options::{Kind, Options, SPECS, Setting, Surface, Value};
use nzpir::{Config, ErrorKind};

/// A value of a kind, in seconds-or-units (Node's durations are scaled).
#[derive(Clone, Copy)]
enum Case {
    Text(&'static str),
    Number(f64),
    Bool(bool),
}

fn good(kind: Kind) -> Case {
    match kind {
        Kind::Text | Kind::Secret => Case::Text("https://x.example"),
        // Upper case: the case rule is the same everywhere.
        Kind::Enum(values) => Case::Text(match values[0].0 {
            "production" => "PROD",
            "cloud" => "Cloud",
            "null" => "EMPTY",
            other => other,
        }),
        Kind::Pem => Case::Text("/x/file.pem"),
        Kind::Path => Case::Text("/x/file"),
        Kind::Seconds => Case::Number(2.5),
        Kind::WholeSeconds { min, .. } => Case::Number(min as f64 + 60.0),
        Kind::Count { max, .. } => Case::Number(max as f64),
        Kind::Bool => Case::Bool(false),
    }
}

fn bad(kind: Kind) -> Case {
    match kind {
        Kind::Enum(_) => Case::Text("bogus"),
        Kind::Pem | Kind::Path => Case::Text(""),
        Kind::Seconds => Case::Number(-1.0),
        Kind::WholeSeconds { min, .. } => Case::Number(min as f64 - 1.0),
        Kind::Count { max, .. } => Case::Number(max as f64 + 1.0),
        Kind::Text | Kind::Secret => Case::Number(5.0),
        Kind::Bool => Case::Number(1.0),
    }
}

fn toml_literal(c: Case) -> String {
    match c {
        Case::Text(s) => format!("{s:?}"),
        Case::Number(n) if n.fract() == 0.0 => format!("{}", n as i64),
        Case::Number(n) => format!("{n}"),
        Case::Bool(b) => b.to_string(),
    }
}

/// The TOML document setting one key path to a value.
fn toml_doc(path: &str, c: Case) -> String {
    match path.split_once('.') {
        Some((table, key)) => format!("[{table}]\n{key} = {}\n", toml_literal(c)),
        None => format!("{path} = {}\n", toml_literal(c)),
    }
}

fn json_doc(path: &str, c: Case) -> String {
    let v = match c {
        Case::Text(s) => serde_json::json!(s),
        Case::Number(n) if n.fract() == 0.0 => serde_json::json!(n as i64),
        Case::Number(n) => serde_json::json!(n),
        Case::Bool(b) => serde_json::json!(b),
    };
    let doc = match path.split_once('.') {
        Some((table, key)) => serde_json::json!({ table: { key: v } }),
        None => serde_json::json!({ path: v }),
    };
    doc.to_string()
}

/// What a surface hands to the core for a value: Python's int/float/str/bool,
/// JavaScript's number (milliseconds for durations), the CLI's text.
fn raw(surface: Surface, kind: Kind, c: Case) -> Value {
    let duration = matches!(kind, Kind::Seconds | Kind::WholeSeconds { .. });
    match (surface, c) {
        (Surface::Cli | Surface::Env, Case::Text(s)) => Value::Str(s.to_owned()),
        (Surface::Cli | Surface::Env, Case::Number(n)) => Value::Str(n.to_string()),
        (Surface::Cli | Surface::Env, Case::Bool(b)) => Value::Str(b.to_string()),
        (_, Case::Text(s)) => Value::Str(s.to_owned()),
        (Surface::Node, Case::Number(n)) if duration => Value::Float(n * 1000.0),
        (Surface::Node, Case::Number(n)) => Value::Float(n),
        (_, Case::Number(n)) if n.fract() == 0.0 => Value::Int(n as i64),
        (_, Case::Number(n)) => Value::Float(n),
        (_, Case::Bool(b)) => Value::Bool(b),
    }
}

type Outcome = Result<Config, (Option<Setting>, ErrorKind, String, String)>;

fn outcome(surface: Surface, r: Result<Config, nzpir::Error>) -> Outcome {
    r.map_err(|e| {
        // The rule with other settings in one spelling (the canonical names),
        // so rules compare across surfaces; the message shows the surface's.
        let rule = e
            .setting_rule(Surface::Python)
            .map(|r| {
                r.replace("milliseconds", "seconds")
                    .replace("60000 to 28800000", "60 to 28800")
            })
            .unwrap_or_else(|| e.message().to_owned());
        (
            e.setting(),
            e.kind(),
            rule,
            e.message_for(surface).into_owned(),
        )
    })
}

fn through(surface: Surface, setting: Setting, kind: Kind, c: Case) -> Outcome {
    let spec = setting.spec().expect("row");
    match surface {
        Surface::Toml => outcome(surface, Config::from_toml_str(&toml_doc(spec.toml, c))),
        Surface::Json => outcome(surface, Config::from_json_str(&json_doc(spec.toml, c))),
        _ => {
            let mut o = Options::new(surface);
            o.set(&setting.name_in(surface), raw(surface, kind, c))
                .expect("the surface's own name is known");
            outcome(surface, o.to_config())
        }
    }
}

/// A surface's bad-value message names the setting as that surface does.
fn names_it(surface: Surface, setting: Setting, message: &str) {
    let name = setting.name_in(surface);
    assert!(
        message.contains(&format!("`{name}`")),
        "{surface:?} {setting:?}: {message}"
    );
}

#[test]
fn every_setting_means_the_same_on_every_surface() {
    let typed = [Surface::Toml, Surface::Json, Surface::Python, Surface::Node];
    let text = [Surface::Cli, Surface::Env];
    for spec in SPECS {
        let (s, kind) = (spec.setting, spec.kind);
        // A good value: every surface gives the same configuration (or the
        // same rule between settings, e.g. a certificate without its key).
        let first = through(Surface::Toml, s, kind, good(kind));
        for surface in typed.iter().chain(&text) {
            let got = through(*surface, s, kind, good(kind));
            match (&first, &got) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{surface:?} {s:?}"),
                (Err(a), Err(b)) => {
                    assert_eq!((a.0, a.1, &a.2), (b.0, b.1, &b.2), "{surface:?} {s:?}");
                    if let Some(other) = b.0 {
                        names_it(*surface, other, &b.3);
                    }
                }
                _ => panic!("{surface:?} {s:?}: {first:?} vs {got:?}"),
            }
        }
        // A bad value: a Config error about this setting, the same rule on
        // every surface that receives typed values; and on the text ones
        // when the mistake is a value rather than a type.
        let first = through(Surface::Toml, s, kind, bad(kind)).expect_err("bad value");
        assert_eq!(first.0, Some(s), "{s:?}: {first:?}");
        assert_eq!(first.1, ErrorKind::Config);
        let text_too = !matches!(kind, Kind::Text | Kind::Secret | Kind::Bool);
        let text = if text_too { &text[..] } else { &[] };
        for &surface in typed.iter().chain(text) {
            let e = through(surface, s, kind, bad(kind)).expect_err("bad value");
            assert_eq!(
                (e.0, e.1, &e.2),
                (first.0, first.1, &first.2),
                "{surface:?} {s:?}"
            );
            names_it(surface, s, &e.3);
        }
    }
}

#[test]
fn the_divergences_once_found_are_one_behaviour() {
    // environment = "prod" in the file and the C ABI's JSON, as in Python.
    let toml = Config::from_toml_str("environment = \"prod\"").expect("alias");
    let json = Config::from_json_str(r#"{"environment":"Prod"}"#).expect("alias");
    assert_eq!(toml, json);
    // connection in any case, everywhere.
    for surface in [Surface::Python, Surface::Node, Surface::Cli] {
        let mut o = Options::new(surface);
        o.set(
            &Setting::Connection.name_in(surface),
            Value::Str("CLOUD".into()),
        )
        .expect("known");
        assert!(o.to_config().is_ok(), "{surface:?}");
    }
    assert!(Config::from_toml_str("connection = \"Cloud\"").is_ok());
    // The same max_retries cap everywhere.
    let e = Config::from_toml_str("max_retries = 101").expect_err("cap");
    assert_eq!(e.setting(), Some(Setting::MaxRetries));
    // A Python user who passed key= is told about key, not tls.client_key.
    let mut o = Options::new(Surface::Python);
    o.set("cert", Value::Str("/x/c.pem".into())).expect("known");
    let e = o.to_config().expect_err("key missing");
    assert_eq!(e.setting(), Some(Setting::Key));
    assert_eq!(
        e.message_for(Surface::Python),
        "config `key`: required with cert"
    );
    assert_eq!(
        e.message_for(Surface::Node),
        "config `options.key`: required with options.cert"
    );
    assert_eq!(
        e.message_for(Surface::Cli),
        "config `--key`: required with --cert"
    );
    assert_eq!(
        e.message(),
        "config `tls.client_key`: required with tls.client_cert"
    );
    // max_idle_connections reaches every surface and Config's Debug.
    let cfg = Config::from_toml_str("max_idle_connections = 0").expect("parses");
    assert!(format!("{cfg:?}").contains("max_idle_connections: Some(0)"));
    for surface in [Surface::Python, Surface::Node, Surface::Cli, Surface::Env] {
        let mut o = Options::new(surface);
        o.set(
            &Setting::MaxIdleConnections.name_in(surface),
            raw(
                surface,
                Kind::Count { min: 0, max: 4096 },
                Case::Number(0.0),
            ),
        )
        .expect("known");
        assert_eq!(o.to_config().expect("ok").max_idle_connections, Some(0));
    }
}

fn json_of(surface: Surface, kind: Kind, c: Case) -> serde_json::Value {
    match raw(surface, kind, c) {
        Value::Str(s) => serde_json::json!(s),
        Value::Int(n) => serde_json::json!(n),
        Value::Float(n) => serde_json::json!(n),
        Value::Bool(b) => serde_json::json!(b),
        other => panic!("no JSON for {other:?}"),
    }
}

/// One bad value per setting, as Python, Node and the CLI give it, with the
/// error each must show: the tests of those surfaces read this table
/// (`tests/options/cases.json`), so the bindings and the CLI prove the same
/// rule and their own spelling of the setting through their real entry points.
fn cases() -> serde_json::Value {
    let mut out = Vec::new();
    for spec in SPECS {
        let (s, kind) = (spec.setting, spec.kind);
        let mut case = serde_json::Map::new();
        case.insert("setting".into(), serde_json::json!(spec.name));
        for surface in [Surface::Python, Surface::Node, Surface::Cli] {
            let c = match (surface, kind) {
                (Surface::Cli, Kind::Text | Kind::Secret) => continue,
                (Surface::Cli, Kind::Bool) => Case::Text("maybe"),
                _ => bad(kind),
            };
            let name = s.name_in(surface);
            let bare = match surface {
                Surface::Node => name.trim_start_matches("options.").to_owned(),
                _ => name.clone().into_owned(),
            };
            let mut o = Options::new(surface);
            o.set(&bare, raw(surface, kind, c)).expect("known name");
            let e = o.to_config().expect_err("bad value");
            case.insert(
                surface.as_str().into(),
                serde_json::json!({
                    "name": bare,
                    "value": json_of(surface, kind, c),
                    "error": e.message_for(surface),
                    "wrong_type": e.is_wrong_type(),
                }),
            );
        }
        // The C ABI's JSON: the document, by its key path.
        let doc = json_doc(spec.toml, bad(kind));
        let e = Config::from_json_str(&doc).expect_err("bad value");
        case.insert(
            "json".into(),
            serde_json::json!({
                "name": spec.toml,
                "document": doc,
                "error": e.message_for(Surface::Json),
                "wrong_type": e.is_wrong_type(),
            }),
        );
        out.push(serde_json::Value::Object(case));
    }
    serde_json::Value::Array(out)
}

#[test]
fn the_cases_file_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/options/cases.json");
    let text = serde_json::to_string_pretty(&cases()).expect("json") + "\n";
    if std::env::var_os("NZPIR_UPDATE_CASES").is_some() {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
        std::fs::write(&path, &text).expect("write");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "tests/options/cases.json is not what the schema gives: run \
         NZPIR_UPDATE_CASES=1 cargo test -p nzpir --test options_parity"
    );
}

/// The settings table of the docs (docs/settings.md), made from the schema.
fn settings_doc() -> String {
    let mut out = String::from(
        "# Settings\n\n\
         <!-- Made from the options schema (core/src/options.rs) by\n\
         NZPIR_UPDATE_CASES=1 cargo test -p nzpir --test options_parity; do not edit. -->\n\n\
         Every surface takes the same settings, checked by the same rules in the core\n\
         (`nzpir::options`). Errors name a setting as the surface spells it: the\n\
         keyword in Python, `options.name` in Node, the flag (or the variable it\n\
         came from) for the CLI, the key in the TOML file and the C ABI's JSON.\n\
         Durations are seconds, except in Node (milliseconds). Enum names take\n\
         any case. Give one way to authenticate: a JWT, a bearer token, or OAuth.\n\n\
         | Python | Node | CLI | variable | TOML / C JSON | auth | default | |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for s in SPECS {
        let toml = match s.toml_inline {
            Some(inline) => format!("`{}` (path), `{inline}` (text)", s.toml),
            None => format!("`{}`", s.toml),
        };
        let way = match s.way {
            Some(nzpir::options::AuthWay::Jwt) => "jwt",
            Some(nzpir::options::AuthWay::Bearer) => "bearer",
            Some(nzpir::options::AuthWay::OAuth) => "oauth",
            None => "",
        };
        let secret = if s.secret { " Secret." } else { "" };
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | `{}` | {toml} | {way} | {} | {}.{secret} |\n",
            s.name,
            s.node,
            s.cli,
            s.env.unwrap_or(""),
            s.default,
            s.help
        ));
    }
    out.push_str(
        "\nThe CLI also takes `--config FILE` (`NZPIR_CONFIG`), `--no-validate` (the same as\n\
         `--validate-locally false`) and `-v`. Python and Node also take a token store\n\
         object (with `load()` and `save(tokens)`) as `token_store` / `oauth.tokenStore`.\n",
    );
    out
}

#[test]
fn the_settings_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/settings.md");
    let text = settings_doc();
    if std::env::var_os("NZPIR_UPDATE_CASES").is_some() {
        std::fs::write(&path, &text).expect("write");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/settings.md is not what the schema gives: run \
         NZPIR_UPDATE_CASES=1 cargo test -p nzpir --test options_parity"
    );
}
