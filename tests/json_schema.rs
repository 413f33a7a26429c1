//! The JSON reports (`link`, `check`, `inspect`, `load`, `load --dry-run`, `status` with
//! `--json`) follow the schemas documented in `docs/json/*.schema.json` exactly: every field
//! present with its type, no field more. A field added to or removed from a report fails here
//! until its schema (the documentation) says so.
//!
//! The schemas use a small subset of JSON Schema (type, properties, required,
//! additionalProperties, items, enum, minimum), checked by the validator below.

mod common;

use serde_json::Value;

use common::{bpfmerge, fixture, TempDir};

fn schema(name: &str) -> Value {
    let path = common::repo_dir().join(format!("docs/json/{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("schema uses unsupported type {other}"),
    }
}

/// Every violation of `schema` by `v`, as "path: problem".
fn validate(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    const KNOWN: &[&str] = &[
        "$schema",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "minimum",
    ];
    for k in schema.as_object().expect("schema is an object").keys() {
        assert!(
            KNOWN.contains(&k.as_str()),
            "schema keyword {k} not supported"
        );
    }
    if let Some(ty) = schema.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|t| t.as_str().unwrap()).collect(),
            _ => panic!("bad type in schema"),
        };
        if !types.iter().any(|t| type_ok(t, v)) {
            errors.push(format!("{path}: expected {types:?}, found {v}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            errors.push(format!("{path}: {v} not one of {allowed:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            errors.push(format!("{path}: {n} < {min}"));
        }
    }
    if let (Some(props), Some(obj)) = (schema.get("properties"), v.as_object()) {
        let props = props.as_object().unwrap();
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let req = req.as_str().unwrap();
            if !obj.contains_key(req) {
                errors.push(format!("{path}: missing field `{req}`"));
            }
        }
        for (k, val) in obj {
            match props.get(k) {
                Some(s) => validate(s, val, &format!("{path}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: field `{k}` is not in the schema"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn assert_valid(name: &str, json: &str) -> Value {
    let v: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{json}"));
    let mut errors = Vec::new();
    validate(&schema(name), &v, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{name} --json does not follow docs/json/{name}.schema.json:\n  {}",
        errors.join("\n  ")
    );
    v
}

/// The schemas list every property as required (so the validator catches removed fields) and
/// forbid others (so it catches added ones).
#[test]
fn schemas_are_closed() {
    fn walk(s: &Value, path: &str) {
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            assert_eq!(
                s.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{path}: additionalProperties must be false"
            );
            let mut req: Vec<&str> = s["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
            req.sort();
            keys.sort();
            assert_eq!(req, keys, "{path}: every property must be required");
            for (k, p) in props {
                walk(p, &format!("{path}.{k}"));
            }
        }
        if let Some(items) = s.get("items") {
            walk(items, &format!("{path}[]"));
        }
    }
    for name in ["link", "check", "inspect", "load", "load-dry-run", "status"] {
        walk(&schema(name), name);
    }
}

#[test]
fn the_validator_catches_added_missing_and_mistyped_fields() {
    let s = schema("link");
    let mut errors = Vec::new();
    let bad = serde_json::json!({
        "output": 3,
        "inputs": [{"file": "a.o", "programs": ["p"], "extra": 1}],
    });
    validate(&s, &bad, "$", &mut errors);
    let all = errors.join("\n");
    assert!(all.contains("$.output: expected"), "{all}");
    assert!(all.contains("missing field `maps`"), "{all}");
    assert!(all.contains("field `extra` is not in the schema"), "{all}");
}

#[test]
fn link_json_follows_its_schema() {
    let tmp = TempDir::new("schema-link");
    for (n, files) in [
        &["seed/entry", "seed/handler"][..],
        &["init/decl", "init/vals"][..],
    ]
    .iter()
    .enumerate()
    {
        let out = tmp.join(&format!("out{n}.o"));
        let mut args: Vec<std::ffi::OsString> = vec!["link".into(), "--json".into()];
        args.extend(files.iter().map(|f| fixture(f).into_os_string()));
        args.extend(["-o".into(), out.into_os_string()]);
        let r = bpfmerge(&args);
        assert_eq!(r.code, Some(0), "{files:?}: {}", r.stderr);
        let v = assert_valid("link", &r.stdout);
        assert_eq!(v["inputs"].as_array().unwrap().len(), files.len());
    }
}

#[test]
fn check_json_follows_its_schema_with_and_without_conflicts() {
    let ok = bpfmerge(&[
        "check".as_ref(),
        "--json".as_ref(),
        fixture("seed/entry").as_os_str(),
        fixture("seed/handler").as_os_str(),
    ]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    let v = assert_valid("check", &ok.stdout);
    assert_eq!(v["ok"], true);

    let mut args: Vec<std::ffi::OsString> = vec!["check".into(), "--json".into()];
    for f in [
        "conflict_max_entries/big",
        "conflict_max_entries/small",
        "conflict_license/dual",
        "conflict_license/gpl",
        "conflict_func/one",
        "conflict_func/two",
    ] {
        args.push(fixture(f).into_os_string());
    }
    let bad = bpfmerge(&args);
    assert_eq!(bad.code, Some(1), "{}", bad.stderr);
    let v = assert_valid("check", &bad.stdout);
    assert_eq!(v["ok"], false);
    let kinds: Vec<&str> = v["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"map") && kinds.contains(&"section") && kinds.contains(&"symbol"));
}

#[test]
fn inspect_json_follows_its_schema() {
    let mut args: Vec<std::ffi::OsString> = vec!["inspect".into(), "--json".into()];
    for dir in common::list_dir(&common::fixtures_dir()) {
        // bad_values: map definitions libbpf refuses, which inspect refuses too.
        if dir == "bad" || dir == "conflict_endian" || dir == "bad_values" {
            continue;
        }
        let d = common::fixtures_dir().join(&dir);
        for f in common::list_dir(&d) {
            if f.ends_with(".o") {
                args.push(d.join(f).into_os_string());
            }
        }
    }
    let r = bpfmerge(&args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v = assert_valid("inspect", &r.stdout);
    assert!(v["objects"].as_array().unwrap().len() > 20);
}

#[test]
fn load_and_status_json_follow_their_schemas() {
    if !common::kernel_ready("load_and_status_json_follow_their_schemas") {
        return;
    }
    let dir = TempDir::under(std::path::Path::new(common::BPFFS), "schema-load");
    let load = bpfmerge(&[
        "load".as_ref(),
        "--json".as_ref(),
        "--pin-dir".as_ref(),
        dir.path().as_os_str(),
        fixture("seed/entry").as_os_str(),
        fixture("seed/handler").as_os_str(),
    ]);
    assert_eq!(load.code, Some(0), "{}", load.stderr);
    assert_valid("load", &load.stdout);

    status_json(dir.path());

    unload_all(dir.path());
}

/// Two objects with identical same-named programs (fold_sample): `load --json` lists the
/// folded copies as its schema says.
#[test]
fn load_json_with_folded_programs_follows_its_schema() {
    if !common::kernel_ready("load_json_with_folded_programs_follows_its_schema") {
        return;
    }
    let dir = TempDir::under(std::path::Path::new(common::BPFFS), "schema-fold");
    let load = bpfmerge(&[
        "load".as_ref(),
        "--json".as_ref(),
        "--pin-dir".as_ref(),
        dir.path().as_os_str(),
        fixture("fold_sample/basic").as_os_str(),
        fixture("fold_sample/cpumap").as_os_str(),
    ]);
    assert_eq!(load.code, Some(0), "{}", load.stderr);
    let v = assert_valid("load", &load.stdout);
    // sample.h defines two programs, both in basic.c and cpumap.c.
    assert_eq!(v["folded"].as_array().unwrap().len(), 2, "{v}");
    unload_all(dir.path());
}

/// With `--attach`, `load --json` reports the links and `status --json` lists them, both as
/// their schemas say (a tracepoint program: attachable without a network namespace).
#[test]
fn load_attach_and_status_json_with_links_follow_their_schemas() {
    if !common::kernel_ready("load_attach_and_status_json_with_links_follow_their_schemas") {
        return;
    }
    let dir = TempDir::under(std::path::Path::new(common::BPFFS), "schema-attach");
    let load = bpfmerge(&[
        "load".as_ref(),
        "--json".as_ref(),
        "--attach".as_ref(),
        "--pin-dir".as_ref(),
        dir.path().as_os_str(),
        fixture("attach_trace/exec_v1").as_os_str(),
    ]);
    assert_eq!(load.code, Some(0), "{}", load.stderr);
    let v = assert_valid("load", &load.stdout);
    assert_eq!(v["links"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["links"][0]["action"], "created");

    let s = status_json(dir.path());
    assert_eq!(s["links"][0]["link_type"], "perf_event", "{s}");
    assert_eq!(s["links"][0]["id"], v["links"][0]["id"]);

    unload_all(dir.path());
}

/// `load --dry-run --json` and `load --migrate --json` (a map migrated, another reused and
/// compared by BTF) follow their schemas.
#[test]
fn load_dry_run_and_migrate_json_follow_their_schemas() {
    if !common::kernel_ready("load_dry_run_and_migrate_json_follow_their_schemas") {
        return;
    }
    let dir = TempDir::under(std::path::Path::new(common::BPFFS), "schema-migrate");
    let load = |obj: &str, extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec!["load".into(), "--json".into()];
        args.extend(extra.iter().map(|e| e.into()));
        args.extend(["--pin-dir".into(), dir.path().as_os_str().to_owned()]);
        args.push(fixture(obj).into_os_string());
        bpfmerge(&args)
    };
    let first = load("migrate_types/pair_v1", &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_valid("load", &first.stdout);
    let dry = load("migrate_types/pair_swapped", &["--migrate", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let v = assert_valid("load-dry-run", &dry.stdout);
    assert!(v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["action"] == "migrate"));
    let refused = load("migrate_types/pair_jumps4", &["--migrate", "--dry-run"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    let v = assert_valid("load-dry-run", &refused.stdout);
    assert!(v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["action"] == "refuse"));
    let migrated = load("migrate_types/pair_swapped", &["--migrate"]);
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    let v = assert_valid("load", &migrated.stdout);
    assert!(v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["migrated"].is_object()));
    unload_all(dir.path());
}

/// `status --json` of `dir`, checked against its schema.
fn status_json(dir: &std::path::Path) -> Value {
    let status = bpfmerge(&[
        "status".as_ref(),
        "--json".as_ref(),
        "--pin-dir".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert_valid("status", &status.stdout)
}

/// `unload --maps` of `dir`: every pin this test made goes.
fn unload_all(dir: &std::path::Path) {
    let r = bpfmerge(&[
        "unload".as_ref(),
        "--maps".as_ref(),
        "--pin-dir".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}
