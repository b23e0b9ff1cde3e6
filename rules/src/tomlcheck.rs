//! Checking TOML config files: parse with spans, deserialize one section or one
//! array element at a time, and report every problem as `FILE:LINE: key.path: message`.
//!
//! Generic on purpose: the rules file and the daemon's own config both use it.
//! A caller deserializes each top-level section and each `[[array]]` element
//! separately (so one bad element does not hide errors in another), then runs
//! its semantic checks on what parsed, naming keys with [`Doc::problem`].
//!
//! Key paths are written `section.key`, `array[2].key` or `key.list[0]`; segments
//! are bare keys (no quoted keys containing dots).

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml_edit::{Item, Value};

/// One thing wrong with a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's label as given to [`Doc::parse`] (usually its path).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Full key path (`rule[1].after`); empty for problems with the file as a whole.
    pub key: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `FILE:LINE: key.path: message`; `FILE: key.path: message` without a line;
    /// the `key.path: ` part is left out when the key is empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Problem {}

/// A parsed TOML file that remembers where everything was written.
pub struct Doc {
    file: String,
    doc: toml_edit::Document<String>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A place in the tree.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    /// An element of an array of tables.
    Table(&'a toml_edit::Table),
    /// An element of an inline array.
    Value(&'a Value),
}

impl Doc {
    /// Parses `text`; a syntax error becomes a [`Problem`] with its line.
    pub fn parse(file_label: &str, text: &str) -> Result<Doc, Problem> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect::<Vec<_>>();
        match toml_edit::Document::parse(text.to_owned()) {
            Ok(doc) => Ok(Doc {
                file: file_label.to_owned(),
                doc,
                line_starts,
            }),
            Err(err) => {
                let line = err.span().map(|s| line_at(&line_starts, s.start));
                Err(Problem {
                    file: file_label.to_owned(),
                    line,
                    key: String::new(),
                    message: format!(
                        "TOML syntax error: {}; fix the syntax on this line",
                        err.message().trim_end()
                    ),
                })
            }
        }
    }

    /// The label given to [`Doc::parse`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Top-level keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.doc.as_table().iter().map(|(k, _)| k)
    }

    /// Whether a value or table exists at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.node_at(path).is_some()
    }

    /// The line where `path` is written: the key's line for a key, the header's
    /// line for a table. A path that does not exist falls back to the line of its
    /// nearest enclosing table (or element); `None` when nothing of it exists.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut line = None;
        let mut node = Node::Item(self.doc.as_item());
        for segment in parse_path(path) {
            let Some((next, span)) = child(node, &segment) else {
                break;
            };
            if let Some(span) = span {
                line = Some(line_at(&self.line_starts, span.start));
            }
            node = next;
        }
        line
    }

    /// A problem at `path`, with the line looked up.
    pub fn problem(&self, path: &str, message: impl Into<String>) -> Problem {
        Problem {
            file: self.file.clone(),
            line: self.line_of(path),
            key: path.to_owned(),
            message: message.into(),
        }
    }

    /// Problems for every top-level key not in `allowed`.
    pub fn unknown_sections(&self, allowed: &[&str]) -> Vec<Problem> {
        let listed = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.keys()
            .filter(|k| !allowed.contains(k))
            .map(|k| self.problem(k, format!("unknown section; expected one of {listed}")))
            .collect()
    }

    /// Deserializes whatever is at `path` (a section, an array element, a value);
    /// `Ok(None)` when nothing is there. Errors name the full key path and line.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, Problem> {
        let Some(node) = self.node_at(path) else {
            return Ok(None);
        };
        let value = match node {
            Node::Item(item) => item_to_value(item),
            Node::Table(table) => Some(table_to_value(table)),
            Node::Value(value) => Some(value_to_value(value)),
        };
        let Some(value) = value else {
            return Ok(None);
        };
        serde_path_to_error::deserialize::<_, T>(value)
            .map(Some)
            .map_err(|err| {
                let inner = err.path().to_string();
                let full = match (path.is_empty(), inner.as_str()) {
                    (_, ".") => path.to_owned(),
                    (true, _) => inner,
                    (false, _) => format!("{path}.{inner}"),
                };
                let full = full.replace(".[", "[");
                self.problem(&full, err.into_inner().message().trim_end().to_owned())
            })
    }

    /// Deserializes each element of the array of tables `key` (`[[key]]`) on its
    /// own, so every element's problem is reported. Empty when `key` is absent;
    /// an `Err` when `key` is something other than an array of tables.
    pub fn each<T: DeserializeOwned>(&self, key: &str) -> Result<Vec<Result<T, Problem>>, Problem> {
        let count = match self.doc.as_table().get(key) {
            None => 0,
            Some(Item::ArrayOfTables(array)) => array.len(),
            Some(Item::Value(Value::Array(array)))
                if array.iter().all(|v| matches!(v, Value::InlineTable(_))) =>
            {
                array.len()
            }
            Some(_) => {
                return Err(self.problem(
                    key,
                    format!("must be an array of tables, each written as a [[{key}]] section"),
                ));
            }
        };
        Ok((0..count)
            .map(|i| {
                let path = format!("{key}[{i}]");
                self.get(&path)
                    .and_then(|found| found.ok_or_else(|| self.problem(&path, "missing")))
            })
            .collect())
    }

    fn node_at(&self, path: &str) -> Option<Node<'_>> {
        let mut node = Node::Item(self.doc.as_item());
        for segment in parse_path(path) {
            node = child(node, &segment)?.0;
        }
        match node {
            Node::Item(Item::None) => None,
            found => Some(found),
        }
    }
}

/// 1-based line of a byte offset.
fn line_at(line_starts: &[usize], offset: usize) -> usize {
    line_starts.partition_point(|&start| start <= offset)
}

fn parse_path(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        while let Some(open) = rest.strip_prefix('[') {
            let Some(close) = open.find(']') else { break };
            match open[..close].parse() {
                Ok(index) => segments.push(Segment::Index(index)),
                Err(_) => break,
            }
            rest = &open[close + 1..];
        }
    }
    segments
}

/// The child at `segment` and the span that locates it (the key for keys,
/// the header for array-of-tables elements).
fn child<'a>(node: Node<'a>, segment: &Segment<'_>) -> Option<(Node<'a>, Option<Range<usize>>)> {
    match (node, segment) {
        (_, Segment::Key(key)) => {
            let (k, v) = match node {
                Node::Item(item) => item.as_table_like()?.get_key_value(key)?,
                Node::Table(table) => table.get_key_value(key)?,
                Node::Value(Value::InlineTable(table)) => table.get_key_value(key)?,
                Node::Value(_) => return None,
            };
            Some((Node::Item(v), k.span().or_else(|| v.span())))
        }
        (Node::Item(Item::ArrayOfTables(array)), Segment::Index(i)) => {
            let table = array.get(*i)?;
            Some((Node::Table(table), table.span()))
        }
        (Node::Item(Item::Value(Value::Array(array))), Segment::Index(i))
        | (Node::Value(Value::Array(array)), Segment::Index(i)) => {
            let value = array.get(*i)?;
            Some((Node::Value(value), value.span()))
        }
        _ => None,
    }
}

fn table_to_value(table: &toml_edit::Table) -> toml::Value {
    toml::Value::Table(
        table
            .iter()
            .filter_map(|(k, v)| Some((k.to_owned(), item_to_value(v)?)))
            .collect(),
    )
}

fn item_to_value(item: &Item) -> Option<toml::Value> {
    match item {
        Item::None => None,
        Item::Value(value) => Some(value_to_value(value)),
        Item::Table(table) => Some(table_to_value(table)),
        Item::ArrayOfTables(array) => Some(toml::Value::Array(
            array.iter().map(table_to_value).collect(),
        )),
    }
}

fn value_to_value(value: &Value) -> toml::Value {
    match value {
        Value::String(s) => toml::Value::String(s.value().clone()),
        Value::Integer(i) => toml::Value::Integer(*i.value()),
        Value::Float(f) => toml::Value::Float(*f.value()),
        Value::Boolean(b) => toml::Value::Boolean(*b.value()),
        Value::Datetime(d) => toml::Value::Datetime(*d.value()),
        Value::Array(array) => toml::Value::Array(array.iter().map(value_to_value).collect()),
        Value::InlineTable(table) => toml::Value::Table(
            table
                .iter()
                .map(|(k, v)| (k.to_owned(), value_to_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    const TEXT: &str = r#"# a comment
[normalise]
max_rate_lpm = 200.0

[[rule]]
name = "a"
after = "2h"

[[rule]]
name = "b"
after = 12
flags = ["X", 3]
extra = true
"#;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Rule {
        name: String,
        after: String,
        #[serde(default)]
        flags: Vec<String>,
    }

    fn doc() -> Doc {
        match Doc::parse("rules.toml", TEXT) {
            Ok(doc) => doc,
            Err(p) => panic!("{p}"),
        }
    }

    #[test]
    fn lines_of_keys_tables_and_elements() {
        let doc = doc();
        let cases = [
            ("normalise", Some(2)),
            ("normalise.max_rate_lpm", Some(3)),
            ("normalise.missing", Some(2)),
            ("rule[0]", Some(5)),
            ("rule[1]", Some(9)),
            ("rule[1].after", Some(11)),
            ("rule[1].nope", Some(9)),
            ("rule[1].flags[1]", Some(12)),
            ("rule[7].after", Some(5)),
            ("nothing.here", None),
        ];
        for (path, line) in cases {
            assert_eq!(doc.line_of(path), line, "{path}");
        }
    }

    #[test]
    fn each_element_reports_its_own_problem_with_full_path() {
        let doc = doc();
        let rules = match doc.each::<Rule>("rule") {
            Ok(rules) => rules,
            Err(p) => panic!("{p}"),
        };
        assert!(rules[0].is_ok());
        let err = match &rules[1] {
            Err(p) => p.to_string(),
            Ok(r) => panic!("parsed {r:?}"),
        };
        assert_eq!(
            err,
            "rules.toml:11: rule[1].after: invalid type: integer `12`, expected a string"
        );
    }

    fn first_problem(text: &str) -> String {
        let doc = match Doc::parse("f.toml", text) {
            Ok(doc) => doc,
            Err(p) => return p.to_string(),
        };
        match doc.each::<Rule>("rule") {
            Err(p) => p.to_string(),
            Ok(rules) => match rules.into_iter().find_map(Result::err) {
                Some(p) => p.to_string(),
                None => "ok".to_owned(),
            },
        }
    }

    #[test]
    fn problems_name_file_line_and_key() {
        let cases = [
            (
                "[[rule]]\nname = \"a\"\nafter = \"1h\"\nflags = [\"X\", 3]\n",
                "f.toml:4: rule[0].flags[1]: invalid type: integer `3`, expected a string",
            ),
            (
                "[[rule]]\nname = \"a\"\nafter = \"1h\"\nextra = 3\n",
                "f.toml:4: rule[0].extra: unknown field `extra`, expected one of `name`, `after`, `flags`",
            ),
            (
                "[[rule]]\nname = \"a\"\n",
                "f.toml:1: rule[0]: missing field `after`",
            ),
            (
                "[[rule]]\nname = \"a\nafter = \"1h\"\n",
                "f.toml:2: TOML syntax error: invalid basic string, expected `\"`; fix the syntax on this line",
            ),
            (
                "[[rule]]\nname = \"a\"\nname = \"b\"\n",
                "f.toml:3: TOML syntax error: duplicate key; fix the syntax on this line",
            ),
            (
                "rule = 3\n",
                "f.toml:1: rule: must be an array of tables, each written as a [[rule]] section",
            ),
            ("rule = [{ name = \"a\", after = \"1h\" }]\n", "ok"),
        ];
        for (text, want) in cases {
            assert_eq!(first_problem(text), want, "{text}");
        }
    }

    #[test]
    fn a_problem_without_a_line_leaves_the_line_out() {
        let p = Problem {
            file: "x.toml".into(),
            line: None,
            key: "rule[0].after".into(),
            message: "missing".into(),
        };
        assert_eq!(p.to_string(), "x.toml: rule[0].after: missing");
    }

    #[test]
    fn unknown_sections_are_each_reported() {
        let doc = match Doc::parse("f.toml", "[rules]\na = 1\n[normalise]\n[extra]\n") {
            Ok(doc) => doc,
            Err(p) => panic!("{p}"),
        };
        let got = doc
            .unknown_sections(&["normalise", "rule"])
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                "f.toml:1: rules: unknown section; expected one of `normalise`, `rule`",
                "f.toml:4: extra: unknown section; expected one of `normalise`, `rule`",
            ]
        );
    }
}
