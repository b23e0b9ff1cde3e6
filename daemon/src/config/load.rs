//! Reading a config: the file checked on its own with every problem's line
//! (`check-config`), then environment overrides layered on top (`run`);
//! the broker URL and secrets the config names.

use super::*;

/// Every top-level section of the config file.
const SECTIONS: &[&str] = &[
    "mqtt",
    "broker",
    "store",
    "http",
    "ingest",
    "rules",
    "household",
    "adapter",
    "route",
    "contact",
    "webhook",
    "email",
    "sms",
    "robot",
    "templates",
    "links",
    "outbox",
    "ops",
];

/// Where a config came from: the file (if any) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: Option<PathBuf>,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Self, Vec<Problem>> {
        std::fs::read_to_string(path)
            .map(|text| Source {
                path: Some(path.to_owned()),
                text,
            })
            .map_err(|e| {
                vec![Problem {
                    file: path.display().to_string(),
                    line: None,
                    key: String::new(),
                    message: format!("cannot read the file: {e}"),
                }]
            })
    }

    fn label(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<defaults>".into())
    }
}

impl Config {
    /// Check a config file on its own (no environment), reporting every
    /// problem with its line.
    pub fn check(source: &Source) -> Result<Config, Vec<Problem>> {
        let doc = Doc::parse(&source.label(), &source.text).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let config = Config {
            mqtt: section(&doc, "mqtt", &mut problems),
            broker: section(&doc, "broker", &mut problems),
            store: section(&doc, "store", &mut problems),
            http: section(&doc, "http", &mut problems),
            ingest: section(&doc, "ingest", &mut problems),
            rules: section(&doc, "rules", &mut problems),
            households: each(&doc, "household", &mut problems),
            adapters: each(&doc, "adapter", &mut problems),
            routes: each(&doc, "route", &mut problems),
            contacts: each(&doc, "contact", &mut problems),
            emails: each(&doc, "email", &mut problems),
            sms: each(&doc, "sms", &mut problems),
            robots: each(&doc, "robot", &mut problems),
            templates: section(&doc, "templates", &mut problems),
            links: match doc.get::<LinksConfig>("links") {
                Ok(links) => links,
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            },
            webhooks: each(&doc, "webhook", &mut problems),
            outbox: section(&doc, "outbox", &mut problems),
            ops: section(&doc, "ops", &mut problems),
        };
        problems.extend(doc.unknown_sections(SECTIONS));
        for (key, message) in config.validate() {
            problems.push(doc.problem(&key, message));
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Load for running: the file checked as above, then environment
    /// overrides layered on top with the `config` crate, then validated again.
    pub fn load(source: &Source) -> Result<Config, Vec<Problem>> {
        // Design: `check` keeps every key's position for the problems' line
        // numbers, which for a registry of 100,000 households took 0.8 s and
        // about 500 MB at its peak. A file that deserializes and validates
        // as a whole has no problem to place: only one that does not is
        // parsed again by `check`, for its lines (the two agree on what
        // they accept: `config::tests`).
        let checked = match Self::parse_whole(&source.text) {
            Some(config) => config,
            None => Self::check(source)?,
        };
        let prefix = format!("{ENV_PREFIX}_");
        if !std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with(&prefix)) {
            return Ok(checked);
        }
        // Design: the `config` crate layers the environment on a tree of its
        // own, which for a registry of 100,000 households took over a second
        // and hundreds of MB. An environment variable cannot name an element
        // of `[[household]]`, so the registry is left out of the layering
        // and taken from the checked file as it is.
        let without_households = match source.text.parse::<toml_edit::DocumentMut>() {
            Ok(mut doc) => {
                doc.remove("household");
                doc.to_string()
            }
            Err(_) => source.text.clone(),
        };
        let mut layered = config::Config::builder()
            .add_source(config::File::from_str(
                &without_households,
                config::FileFormat::Toml,
            ))
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .and_then(|c| c.try_deserialize::<Config>())
            .map_err(|e| {
                vec![Problem {
                    file: format!("{} + {ENV_PREFIX}_* environment", source.label()),
                    line: None,
                    key: String::new(),
                    message: e.to_string(),
                }]
            })?;
        layered.households = checked.households;
        let problems: Vec<Problem> = layered
            .validate()
            .into_iter()
            .map(|(key, message)| Problem {
                file: format!("{} + {ENV_PREFIX}_* environment", source.label()),
                line: None,
                key,
                message,
            })
            .collect();
        if problems.is_empty() {
            Ok(layered)
        } else {
            Err(problems)
        }
    }

    /// The config in `text` when it deserializes and validates as a whole.
    pub(super) fn parse_whole(text: &str) -> Option<Config> {
        toml::from_str::<Config>(text)
            .ok()
            .filter(|config| config.validate().is_empty())
    }

    /// The names of the `[[route]]`s, which a rule's `route` may take.
    pub fn route_names(&self) -> Vec<&str> {
        self.routes.iter().map(|r| r.name.as_str()).collect()
    }

    /// The rules file path, resolved relative to the config file.
    pub fn rules_path(&self, config_path: Option<&Path>) -> Option<PathBuf> {
        let file = self.rules.file.as_ref()?;
        if file.is_absolute() {
            return Some(file.clone());
        }
        let base = config_path
            .and_then(Path::parent)
            .unwrap_or_else(|| Path::new("."));
        Some(base.join(file))
    }
}

fn each<T: serde::de::DeserializeOwned>(
    doc: &Doc,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<T> {
    match doc.each::<T>(key) {
        Ok(items) => items
            .into_iter()
            .filter_map(|item| item.map_err(|p| problems.push(p)).ok())
            .collect(),
        Err(problem) => {
            problems.push(problem);
            Vec::new()
        }
    }
}

fn section<T: serde::de::DeserializeOwned + Default>(
    doc: &Doc,
    key: &str,
    problems: &mut Vec<Problem>,
) -> T {
    match doc.get::<T>(key) {
        Ok(Some(value)) => value,
        Ok(None) => T::default(),
        Err(problem) => {
            problems.push(problem);
            T::default()
        }
    }
}

/// `mqtt://host:port` (or `tcp://`) → (host, port).
pub fn parse_mqtt_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| format!("`{url}` must start with mqtt:// (TLS is not supported yet)"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port number"))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    Ok((host.trim_matches(['[', ']']).to_owned(), port))
}

/// Read a secret named by an environment variable or a file. Never logged.
pub fn read_secret(env: Option<&str>, file: Option<&Path>) -> Result<Option<Vec<u8>>, String> {
    if let Some(var) = env {
        return std::env::var(var)
            .map(|v| Some(v.into_bytes()))
            .map_err(|_| format!("environment variable `{var}` is not set"));
    }
    if let Some(path) = file {
        return std::fs::read(path)
            .map(|mut bytes| {
                while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
                    bytes.pop();
                }
                Some(bytes)
            })
            .map_err(|e| format!("cannot read secret file {}: {e}", path.display()));
    }
    Ok(None)
}
