//! Declarative connector files for the Wazuh commands: `siemtap wazuh rules|tests NAME` read
//! `connectors/NAME.toml` (or a `.toml` path) and generate from the file itself (its
//! `integration`, namespace, discriminator key, streams and `[rules]` block), and
//! `siemtap validate` refuses rule blocks that overlap across everything validated together.

use std::path::{Path, PathBuf};

use siemtap_connectors::rest::ConnectorSpec;
use siemtap_wazuh::blocks::{Claim, builtin_claims, conflicts};
use siemtap_wazuh::generate::Shape;

/// The file `siemtap wazuh rules NAME` reads: NAME itself when it is a `.toml` path, else
/// `connectors/NAME.toml` in the current directory, if it exists.
pub fn connector_file(name: &str) -> Option<PathBuf> {
    if name.ends_with(".toml") {
        return Some(PathBuf::from(name));
    }
    let p = Path::new("connectors").join(format!("{name}.toml"));
    p.is_file().then_some(p)
}

/// What rule generation needs from a loaded connector file.
pub fn shape_of(name: &str, spec: &ConnectorSpec) -> Shape {
    let f = spec.file();
    let mut event_types: Vec<String> = Vec::new();
    for s in &f.streams {
        let types = if s.extract.arrays.is_empty() {
            vec![s.event_type.clone().unwrap_or_else(|| s.name.clone())]
        } else {
            s.extract
                .arrays
                .iter()
                .map(|a| a.event_type.clone())
                .collect()
        };
        for t in types {
            if !event_types.contains(&t) {
                event_types.push(t);
            }
        }
    }
    Shape {
        name: name.to_string(),
        integration: f.integration.clone().unwrap_or_else(|| f.name.clone()),
        namespace: f.namespace.clone(),
        event_type_key: f.event_type_key.clone(),
        event_types,
        streams: f.streams.iter().map(|s| s.name.clone()).collect(),
        origin: Some(spec.origin().to_string()),
        block: f.rules.as_ref().map(|r| (r.first, r.last)),
    }
}

/// The shape of connector NAME from its file, `Ok(None)` when there is no file (a name-only
/// connector), or why the file cannot be read.
pub fn find_shape(name: &str) -> Result<Option<Shape>, String> {
    let Some(path) = connector_file(name) else {
        return Ok(None);
    };
    let spec = siemtap_connectors::rest::load_file(&path).map_err(|e| e.to_string())?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string());
    Ok(Some(shape_of(&stem, &spec)))
}

/// The declarative connector files a validated file brings in: itself (a connector file) or
/// the files of a config's declarative sources.
fn files_of(file: &Path, is_config: bool) -> Vec<PathBuf> {
    if !is_config {
        return vec![file.to_path_buf()];
    }
    let Ok(config) = crate::config::Config::load(file) else {
        return Vec::new();
    };
    config
        .file
        .sources
        .iter()
        .map(|s| s.connector.get_ref().as_str())
        .filter(|c| siemtap_connectors::find(c).is_none())
        .filter_map(|c| config.find_connector_file(c))
        .collect()
}

/// Rule block problems of the validated `files` (each with whether it is a config file):
/// every declarative connector they bring in, checked against the built-in blocks
/// (siemtap's health block is always installed) and each other, as they would be installed
/// together. One list of messages per file, naming the connector file.
pub fn block_problems(files: &[(PathBuf, bool)]) -> Vec<Vec<String>> {
    let mut claims = builtin_claims();
    let mut owner_of: Vec<usize> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for (i, (file, is_config)) in files.iter().enumerate() {
        for path in files_of(file, *is_config) {
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            // Unreadable files are reported by the per-file checks.
            let Ok(spec) = siemtap_connectors::rest::load_file(&path) else {
                continue;
            };
            let shape = shape_of(&path.display().to_string(), &spec);
            if let Some((first, last)) = shape.block {
                claims.push(Claim {
                    owner: path.display().to_string(),
                    first,
                    last,
                    integration: shape.integration,
                    builtin: false,
                });
                owner_of.push(i);
            }
        }
    }
    let mut out = vec![Vec::new(); files.len()];
    let builtins = builtin_claims().len();
    for (idx, msg) in conflicts(&claims) {
        let claim = &claims[idx];
        out[owner_of[idx - builtins]].push(format!("{}: {msg}", claim.owner));
    }
    out
}

/// Printed when a declarative connector's rules come from its name alone.
fn name_only_note(name: &str) -> String {
    format!(
        "note: no connectors/{name}.toml here: these rules match integration {name:?} and \
         namespace from --namespace (default {name:?}). Run from the directory whose connectors/ \
         holds {name}.toml (or pass the .toml path) to generate them from the file"
    )
}

fn from_file(name: &str, namespace: Option<&str>) -> Result<Option<Shape>, String> {
    if siemtap_wazuh::generate::builtin(name).is_some() {
        return Ok(None);
    }
    let shape = find_shape(name)?;
    if let (Some(s), Some(ns)) = (&shape, namespace)
        && s.namespace != ns
    {
        return Err(format!(
            "--namespace {ns:?} disagrees with {} (namespace = {:?}); drop --namespace: the file's is used",
            s.origin.as_deref().unwrap_or(name),
            s.namespace
        ));
    }
    Ok(shape)
}

/// `siemtap wazuh rules NAME`: built-in, from `connectors/NAME.toml`, or from the name alone
/// (with a note for stderr).
pub fn rules(
    name: &str,
    block: Option<u32>,
    namespace: Option<&str>,
) -> Result<(siemtap_wazuh::model::RuleFile, Option<String>), String> {
    use siemtap_wazuh::generate::{builtin, rules_for, rules_for_shape};
    match from_file(name, namespace)? {
        Some(shape) => rules_for_shape(&shape, block)
            .map(|f| (f, None))
            .map_err(|e| e.to_string()),
        None => {
            let note = builtin(name).is_none().then(|| name_only_note(name));
            rules_for(name, block, namespace)
                .map(|f| (f, note))
                .map_err(|e| e.to_string())
        }
    }
}

/// `siemtap wazuh tests NAME`: the INI tests of the rules [`rules`] gives.
pub fn tests(
    name: &str,
    block: Option<u32>,
    namespace: Option<&str>,
) -> Result<(String, Option<String>), String> {
    use siemtap_wazuh::generate::builtin;
    use siemtap_wazuh::testgen::{render_tests, render_tests_for_shape};
    match from_file(name, namespace)? {
        Some(shape) => render_tests_for_shape(&shape, block)
            .map(|t| (t, None))
            .map_err(|e| e.to_string()),
        None => {
            let note = builtin(name).is_none().then(|| name_only_note(name));
            render_tests(name, block, namespace)
                .map(|t| (t, note))
                .map_err(|e| e.to_string())
        }
    }
}
