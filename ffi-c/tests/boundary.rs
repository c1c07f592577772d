//! Every function the library exports runs its body behind the panic
//! boundary (`boundary::run` or `boundary::catch`, directly or through a
//! helper that does), so no panic can unwind into C. This reads the source
//! (rustfmt's layout), so a new export cannot forget it.

use std::path::Path;

struct Function {
    name: String,
    exported: bool,
    body: String,
}

/// The top-level functions of a source file: name, whether it is exported to
/// C, and its body (from the signature's `{` to the `}` that closes it at the
/// start of a line).
fn functions(text: &str) -> Vec<Function> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("fn ") else { continue };
        let head = &line[..at];
        let top_level = !line.starts_with(' ')
            && head
                .split_whitespace()
                .all(|w| ["pub", "pub(crate)", "unsafe", "extern", "\"C\""].contains(&w));
        if !top_level {
            continue;
        }
        let name: String = line[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let exported = i > 0 && lines[i - 1].trim() == "#[unsafe(no_mangle)]";
        let body: Vec<&str> = lines[i..]
            .iter()
            .take_while(|l| **l != "}")
            .copied()
            .collect();
        out.push(Function {
            name,
            exported,
            body: body.join("\n"),
        });
    }
    out
}

#[test]
fn every_exported_function_runs_behind_the_panic_boundary() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        all.extend(functions(&std::fs::read_to_string(&path).expect("read")));
    }
    let guards = |body: &str| body.contains("boundary::run(") || body.contains("boundary::catch(");
    // Helpers whose own body is guarded (e.g. an accessor's `with`), also
    // through other helpers.
    let mut helpers: Vec<&str> = Vec::new();
    loop {
        let before = helpers.len();
        for f in all.iter().filter(|f| !f.exported) {
            let calls_helper = helpers.iter().any(|h| f.body.contains(&format!("{h}(")));
            if !helpers.contains(&f.name.as_str()) && (guards(&f.body) || calls_helper) {
                helpers.push(&f.name);
            }
        }
        if helpers.len() == before {
            break;
        }
    }
    let exported: Vec<&Function> = all.iter().filter(|f| f.exported).collect();
    assert!(
        exported.len() >= 35,
        "only {} exported functions found",
        exported.len()
    );
    let missing: Vec<&str> = exported
        .iter()
        .filter(|f| {
            let body = f.body.split_once('{').map_or("", |(_, b)| b);
            !guards(body) && !helpers.iter().any(|h| body.contains(&format!("{h}(")))
        })
        .map(|f| f.name.as_str())
        .collect();
    assert!(missing.is_empty(), "no panic boundary in: {missing:?}");
}
