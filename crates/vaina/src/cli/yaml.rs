//! A small YAML emitter for `info`'s default output, in the style of Go's yaml package that
//! Podman uses: keys sorted, lists at the indentation of their key, `|-` blocks for
//! multi-line strings, quotes only where a plain scalar would be misread.

use serde_json::Value;

/// Renders `v` (an object) as a YAML document.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(_) => emit_map(v, 0, &mut out),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn emit_map(v: &Value, indent: usize, out: &mut String) {
    let Value::Object(m) = v else { return };
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for k in keys {
        out.push_str(&" ".repeat(indent));
        out.push_str(&string_scalar(k, indent));
        out.push(':');
        emit_value(&m[k], indent, out);
    }
}

/// Emits the value of a key (the key and colon are written); ends with a newline.
fn emit_value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_map(v, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_list(a, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent));
            out.push('\n');
        }
    }
}

fn emit_list(a: &[Value], indent: usize, out: &mut String) {
    for item in a {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut inner = String::new();
                emit_map(item, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            Value::Array(l) if !l.is_empty() => {
                let mut inner = String::new();
                emit_list(l, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other, indent));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                format!("{}", f as i64)
            }
            _ => n.to_string(),
        },
        Value::String(s) => string_scalar(s, indent),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn string_scalar(s: &str, indent: usize) -> String {
    if s.contains('\n') {
        let (body, chomp) = match s.strip_suffix('\n') {
            Some(b) => (b, "|"),
            None => (s, "|-"),
        };
        let pad = " ".repeat(indent + 2);
        let mut out = chomp.to_string();
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
                out.push_str(line);
            }
        }
        return out;
    }
    if looks_like_other_type(s) {
        return format!("{s:?}");
    }
    if needs_quotes(s) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_string()
}

/// A plain scalar that YAML would read as null, a boolean or a number.
fn looks_like_other_type(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | ".nan"
    ) {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let t = t.replace('_', "");
    if t.starts_with("0x") && t.len() > 2 && t[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    !t.is_empty()
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.parse::<f64>().is_ok()
        && !t.ends_with(['.'])
        || (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
}

/// A scalar that cannot be written plain (indicator characters, `: `, ` #`).
fn needs_quotes(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn podman_like_layout() {
        let v = json!({
            "host": {
                "arch": "amd64",
                "cgroupControllers": ["cpu", "memory"],
                "conmon": {"version": "conmon version 2.1.6, commit: unknown"},
                "cpuUtilization": {"idlePercent": 67.26, "userPercent": 10.0},
                "distribution": {"version": "12"},
                "idMappings": {"gidmap": null},
                "ociRuntime": {"version": "runc version 1.1.5\nspec: 1.0.2"},
                "rootless": false,
            },
            "registries": {},
            "store": {"graphStatus": {"Native Overlay Diff": "true"}, "list": []},
            "version": {"GitCommit": "", "BuiltTime": "Thu Jan  1 00:00:00 1970", "Built": 0},
            "mirrors": [{"Location": "m.io", "Insecure": false}],
        });
        let y = to_yaml(&v);
        let want = "host:
  arch: amd64
  cgroupControllers:
  - cpu
  - memory
  conmon:
    version: 'conmon version 2.1.6, commit: unknown'
  cpuUtilization:
    idlePercent: 67.26
    userPercent: 10
  distribution:
    version: \"12\"
  idMappings:
    gidmap: null
  ociRuntime:
    version: |-
      runc version 1.1.5
      spec: 1.0.2
  rootless: false
mirrors:
- Insecure: false
  Location: m.io
registries: {}
store:
  graphStatus:
    Native Overlay Diff: \"true\"
  list: []
version:
  Built: 0
  BuiltTime: Thu Jan  1 00:00:00 1970
  GitCommit: \"\"
";
        assert_eq!(y, want);
    }

    #[test]
    fn quoting() {
        for (s, want) in [
            ("plain", "plain"),
            ("1.5", "\"1.5\""),
            ("yes", "\"yes\""),
            ("-x", "'-x'"),
            ("it's: x", "'it''s: x'"),
            ("0h 18m 4.00s", "0h 18m 4.00s"),
            ("/usr/bin/runc", "/usr/bin/runc"),
            ("v1", "v1"),
            ("6.18.44-fc", "6.18.44-fc"),
        ] {
            assert_eq!(string_scalar(s, 0), want, "{s}");
        }
    }
}
