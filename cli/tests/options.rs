//! The options schema's cases (tests/options/cases.json, made by the core
//! from the schema) through the real `nzpir` binary: each bad value as a flag
//! and as its `NZPIR_*` variable exits 2 with the same rule as every other
//! surface, the setting named as the flag or the variable; in the `--config`
//! file, named by the file's key.

mod common;

use common::*;

fn cases() -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/options/cases.json");
    serde_json::from_str(&read(&path)).expect("cases.json")
}

#[test]
fn a_bad_flag_or_variable_names_itself() {
    let cases = cases();
    assert!(cases.len() >= 30, "{}", cases.len());
    let mut tried = 0;
    for case in &cases {
        let Some(cli) = case.get("cli") else { continue };
        let flag = cli["name"].as_str().expect("flag");
        let value = cli["value"].as_str().expect("text");
        let error = cli["error"].as_str().expect("error");
        let r = run(nzpir().args(["lookup", "--ird", "139276507", &format!("{flag}={value}")]));
        r.expect_code(2);
        assert!(r.stderr.contains(error), "{flag}: {}", r.stderr);

        // The same value from the variable is named as the variable.
        let spec = nzpir::options::Setting::from_name(nzpir::options::Surface::Cli, flag)
            .expect("a flag of the schema");
        let var = spec.name_in(nzpir::options::Surface::Env);
        let r = run(nzpir()
            .args(["lookup", "--ird", "139276507"])
            .env(var.as_ref(), value));
        r.expect_code(2);
        let from_var = error.replacen(&format!("`{flag}`"), &format!("`{var}`"), 1);
        assert!(r.stderr.contains(&from_var), "{var}: {}", r.stderr);
        tried += 1;
    }
    // Every setting but free text (which any text fits) has a case.
    assert!(tried >= 15, "{tried}");
}

/// Each bad value in the `--config` file is named by the file's key, as the
/// C ABI and the bindings' `from_config` name it, not as a flag.
#[test]
fn a_bad_value_in_the_config_file_names_the_files_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("nzpir.json");
    for case in &cases() {
        let json = &case["json"];
        std::fs::write(&file, json["document"].as_str().expect("document")).expect("write");
        let r = run(nzpir()
            .args(["lookup", "--ird", "139276507", "--config"])
            .arg(&file));
        r.expect_code(2);
        let error = json["error"].as_str().expect("error");
        assert!(
            r.stderr.starts_with(&format!("nzpir: {error}")),
            "{}: {}",
            json["name"],
            r.stderr
        );
    }
}

/// A file the configuration names that cannot be read is named where it was
/// given: the file's key, the flag or the variable that overrode it.
#[test]
fn a_file_that_cannot_be_read_is_named_where_it_was_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("nzpir.toml");
    std::fs::write(
        &file,
        "environment = \"test\"\n[tls]\nclient_cert = \"/nonexistent/file.pem\"\nclient_key = \"/nonexistent/file.key\"\n",
    )
    .expect("write");
    let lookup = || {
        let mut c = nzpir();
        c.args(["lookup", "--ird", "139276507", "--config"])
            .arg(&file);
        c
    };
    let r = run(&mut lookup());
    r.expect_code(2);
    assert!(
        r.stderr
            .starts_with("nzpir: config `tls.client_cert`: cannot read /nonexistent/file.pem"),
        "{}",
        r.stderr
    );
    let r = run(lookup().args(["--cert", "/nonexistent/flag.pem"]));
    r.expect_code(2);
    assert!(
        r.stderr
            .starts_with("nzpir: config `--cert`: cannot read /nonexistent/flag.pem"),
        "{}",
        r.stderr
    );
    let r = run(lookup().env("NZPIR_CERT", "/nonexistent/var.pem"));
    r.expect_code(2);
    assert!(
        r.stderr
            .starts_with("nzpir: config `NZPIR_CERT`: cannot read /nonexistent/var.pem"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_setting_has_a_flag() {
    let help = run(nzpir().args(["lookup", "--help"]));
    help.expect_code(0);
    for spec in nzpir::options::SPECS {
        assert!(help.stdout.contains(spec.cli), "{}", spec.cli);
        if let Some(var) = spec.env {
            assert!(help.stdout.contains(var), "{var}");
        }
    }
}
