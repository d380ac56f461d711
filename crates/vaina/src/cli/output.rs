//! Output as Podman prints it: aligned tables, `--format` Go templates (with Podman's helper
//! functions), `json`, and `table` headers derived from the template.
//!
//! Podman's rules, followed here: a format starting with `table` prints a header row (made by
//! running the same template over a map of column headers), a literal `\t` in a format means a
//! tab, every row ends with a newline, and all rows go through a tab writer with a minimum cell
//! width of 12 and a padding of 2.

use anyhow::{anyhow, Context};
use gotmpl::{Template, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use tabwriter::TabWriter;

/// What `--format` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `json`: a JSON document.
    Json,
    /// A Go template; `table` says whether a header row goes first.
    Template { text: String, table: bool },
}

impl Format {
    /// Parses a `--format` value; `None` means the command's default table.
    pub fn parse(format: Option<&str>, default_table: &str) -> Format {
        let f = format.unwrap_or(default_table);
        if f.trim() == "json" {
            return Format::Json;
        }
        let (table, body) = match f.strip_prefix("table") {
            Some("") => (true, default_table.trim_start_matches("table").trim_start()),
            Some(rest) if rest.starts_with(char::is_whitespace) => (true, rest.trim_start()),
            _ => (false, f),
        };
        let mut text = body.replace("\\t", "\t").replace("\\n", "\n");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Format::Template { text, table }
    }
}

/// Podman's template helper functions (`json`, `upper`, `lower`, `title`, `truncate`, `pad`,
/// `join`, `split`) on top of Go's built-ins.
fn template(text: &str) -> anyhow::Result<Template> {
    let s = |v: &Value| match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    };
    let t = Template::new("format")
        .func("json", |a| {
            let v = a.first().cloned().unwrap_or(Value::Nil);
            Ok(Value::String(gotmpl_to_json(&v).to_string().into()))
        })
        .func("upper", move |a| {
            Ok(Value::String(
                a.first().map(s).unwrap_or_default().to_uppercase().into(),
            ))
        })
        .func("lower", move |a| {
            Ok(Value::String(
                a.first().map(s).unwrap_or_default().to_lowercase().into(),
            ))
        })
        .func("title", move |a| {
            let t = a.first().map(s).unwrap_or_default();
            let mut out = String::new();
            let mut start = true;
            for c in t.chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            Ok(Value::String(out.into()))
        })
        .func("truncate", move |a| {
            let t = a.first().map(s).unwrap_or_default();
            let n = a.get(1).and_then(|v| v.as_int()).unwrap_or(i64::MAX).max(0) as usize;
            Ok(Value::String(t.chars().take(n).collect::<String>().into()))
        })
        .func("pad", move |a| {
            let t = a.first().map(s).unwrap_or_default();
            let l = a.get(1).and_then(|v| v.as_int()).unwrap_or(0).max(0) as usize;
            let r = a.get(2).and_then(|v| v.as_int()).unwrap_or(0).max(0) as usize;
            Ok(Value::String(
                format!("{}{}{}", " ".repeat(l), t, " ".repeat(r)).into(),
            ))
        })
        .func("join", move |a| {
            let sep = a.get(1).map(s).unwrap_or_default();
            let parts: Vec<String> = match a.first() {
                Some(Value::List(l)) => l.iter().map(s).collect(),
                Some(v) => vec![s(v)],
                None => vec![],
            };
            Ok(Value::String(parts.join(&sep).into()))
        })
        .func("split", move |a| {
            let t = a.first().map(s).unwrap_or_default();
            let sep = a.get(1).map(s).unwrap_or_default();
            let l: Vec<Value> = t
                .split(sep.as_str())
                .map(|p| Value::String(p.into()))
                .collect();
            Ok(Value::List(l.into()))
        });
    t.parse(text)
        .map_err(|e| anyhow!("template parsing error: {e}"))
}

fn gotmpl_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Uint(u) => J::from(*u),
        Value::Float(f) => J::from(*f),
        Value::String(s) => J::String(s.to_string()),
        Value::List(l) => J::Array(l.iter().map(gotmpl_to_json).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), gotmpl_to_json(v)))
                .collect(),
        ),
        other => J::String(other.to_string()),
    }
}

/// Converts any serialisable value into template data.
pub fn to_template_value<T: Serialize>(v: &T) -> anyhow::Result<Value> {
    gotmpl::to_value(v).map_err(|e| anyhow!("template data: {e}"))
}

/// Podman's header for a field: an explicit override, else the CamelCase name split into
/// upper-case words (`CreatedAt` → `CREATED AT`, `ID` → `ID`).
pub fn header_for(field: &str, overrides: &[(&str, &str)]) -> String {
    if let Some((_, h)) = overrides.iter().find(|(f, _)| *f == field) {
        return h.to_string();
    }
    let chars: Vec<char> = field.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev_lower = chars[i - 1].is_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_uppercase()) {
                out.push(' ');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// Prints `rows` as the format asks. `fields` are the row's field names (for the header row),
/// `overrides` maps a field to its Podman header. `json` prints the rows as a JSON array.
pub fn print_rows<T: Serialize>(
    rows: &[T],
    format: &Format,
    fields: &[&str],
    overrides: &[(&str, &str)],
    noheading: bool,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            write_json(&mut out, &rows)?;
        }
        Format::Template { text, table } => {
            let t = template(text)?;
            let mut tw = TabWriter::new(Vec::new()).minwidth(10).padding(2);
            if *table && !noheading {
                let headers: BTreeMap<String, String> = fields
                    .iter()
                    .map(|f| (f.to_string(), header_for(f, overrides)))
                    .collect();
                let hv = to_template_value(&headers)?;
                let h = t.execute_to_string(&hv).unwrap_or_default();
                tw.write_all(h.as_bytes())?;
            }
            for row in rows {
                let v = to_template_value(row)?;
                let line = t
                    .execute_to_string(&v)
                    .map_err(|e| anyhow!("template: {e}"))?;
                tw.write_all(line.as_bytes())?;
            }
            let buf = tw.into_inner().context("formatting table")?;
            out.write_all(&buf)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Executes a template once per value (inspect's `--format`), no table handling.
pub fn print_each<T: Serialize>(values: &[T], format: &str) -> anyhow::Result<()> {
    let f = Format::parse(Some(format), "");
    match f {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            write_json(&mut out, &values)?;
            Ok(())
        }
        Format::Template { text, .. } => {
            let t = template(&text)?;
            let mut out = std::io::stdout().lock();
            for v in values {
                let line = t
                    .execute_to_string(&to_template_value(v)?)
                    .map_err(|e| anyhow!("template: {e}"))?;
                out.write_all(line.as_bytes())?;
            }
            Ok(())
        }
    }
}

/// Writes JSON indented with four spaces, as Podman does, followed by a newline.
pub fn write_json<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> anyhow::Result<()> {
    write_json_indented(w, value, 4)
}

/// Writes JSON indented with `spaces` spaces and a final newline. Podman is not uniform:
/// lists use four, inspect documents and `diff` five, `volume ls`/`network ls` two.
pub fn write_json_indented<W: Write, T: Serialize + ?Sized>(
    w: &mut W,
    value: &T,
    spaces: usize,
) -> anyhow::Result<()> {
    let indent = " ".repeat(spaces);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, fmt);
    value.serialize(&mut ser)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// [`write_json_indented`] to stdout.
pub fn print_json_indented<T: Serialize + ?Sized>(value: &T, spaces: usize) -> anyhow::Result<()> {
    write_json_indented(&mut std::io::stdout().lock(), value, spaces)
}

/// Renders a template for one value to a string (for callers that assemble output themselves).
pub fn render<T: Serialize>(format: &str, value: &T) -> anyhow::Result<String> {
    let t = template(format)?;
    t.execute_to_string(&to_template_value(value)?)
        .map_err(|e| anyhow!("template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(header_for("ID", &[]), "ID");
        assert_eq!(header_for("CreatedAt", &[]), "CREATED AT");
        assert_eq!(header_for("ImageID", &[]), "IMAGE ID");
        assert_eq!(header_for("ID", &[("ID", "IMAGE ID")]), "IMAGE ID");
    }

    #[test]
    fn format_parsing() {
        assert_eq!(Format::parse(Some("json"), "table {{.ID}}"), Format::Json);
        assert_eq!(
            Format::parse(Some("table {{.ID}}\\t{{.Name}}"), ""),
            Format::Template {
                text: "{{.ID}}\t{{.Name}}\n".into(),
                table: true
            }
        );
        assert_eq!(
            Format::parse(None, "table {{.ID}}"),
            Format::Template {
                text: "{{.ID}}\n".into(),
                table: true
            }
        );
        assert_eq!(
            Format::parse(Some("{{.ID}}"), "table {{.X}}"),
            Format::Template {
                text: "{{.ID}}\n".into(),
                table: false
            }
        );
    }

    #[test]
    fn funcs() {
        #[derive(Serialize)]
        struct R {
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "L")]
            l: Vec<String>,
        }
        let r = R {
            name: "abcdef".into(),
            l: vec!["x".into(), "y".into()],
        };
        assert_eq!(render("{{upper .Name}}", &r).unwrap(), "ABCDEF");
        assert_eq!(render("{{truncate .Name 3}}", &r).unwrap(), "abc");
        assert_eq!(render("{{join .L \",\"}}", &r).unwrap(), "x,y");
        assert_eq!(render("{{json .L}}", &r).unwrap(), "[\"x\",\"y\"]");
    }
}
