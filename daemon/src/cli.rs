//! The command line: `waterwatch [run] [--config FILE] [--demo]`,
//! `check-config`, `generate-config`, `replay`, and the operator's commands
//! on a running daemon (`cases`, `ack`, `resolve`, `away`, `silence`,
//! `household`), which go through its HTTP API (see `client` and
//! `cli/operator.rs`).

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use waterwatch_rules::RuleSet;

use crate::client::CLOSE_REASONS;
use crate::clock::SystemClock;
use crate::config::{self, Config, Source};
use crate::daemon::{self, Options};
use crate::{backtest, demo, reload, replay, ruletest};

mod operator;

use operator::run_operator;

#[derive(Debug, Parser)]
#[command(
    name = "waterwatch",
    version,
    about = "Watches over people who live alone, through their water meter."
)]
pub struct Cli {
    /// Run with simulated households on an accelerated clock (a self-contained demo).
    #[arg(long, global = true)]
    demo: bool,
    /// The daemon's config file (TOML). Without it: the embedded defaults.
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// The running daemon's address for `cases`, `ack`, `resolve`, `away`
    /// and `silence` (default: `http.listen` of the config). Set
    /// WATERWATCH_API_TOKEN to send it as a bearer token.
    #[arg(long, global = true)]
    url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Validate config or rules files; prints OK or every problem per file.
    CheckConfig {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a commented example config that runs as is.
    GenerateConfig,
    /// Replay the stored readings through the running rules and NEW, and show
    /// which alerts the change would add or remove.
    Backtest {
        /// The candidate rules file.
        #[arg(long)]
        rules: PathBuf,
        /// How far back to replay (e.g. 30d).
        #[arg(long, default_value = "30d")]
        since: String,
    },
    /// Run rule test files (timelines of readings and the alerts they must raise).
    TestRules {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run the rules over recorded readings; alert events to stdout as JSON lines.
    Replay {
        /// The rules file.
        #[arg(long)]
        rules: PathBuf,
        /// Native JSON lines, sorted by ts.
        #[arg(long)]
        input: PathBuf,
        /// Stop at this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
    },
    /// Households: list their state; record consent withdrawn (deletes every
    /// reading, case and message of the household for good) or given again.
    Household {
        #[command(subcommand)]
        action: HouseholdCommand,
    },
    /// Dashboard users: add, passwd, list, disable, token.
    User {
        #[command(subcommand)]
        action: crate::users::UserCommand,
    },
    /// List the running daemon's cases, newest first.
    Cases {
        /// Only cases not yet closed.
        #[arg(long)]
        open: bool,
        /// How many at most.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print the API's JSON instead of one line per case.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a case ("I'm going"): its escalation stops.
    Ack {
        /// The case number.
        case: i64,
        /// Who is going (default: your login name).
        #[arg(long)]
        by: Option<String>,
        /// A note for the audit trail.
        #[arg(long)]
        note: Option<String>,
    },
    /// Close a case with a reason; everyone told so far is told it is closed.
    Resolve {
        /// The case number.
        case: i64,
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(CLOSE_REASONS))]
        reason: String,
        /// Who closes it (default: your login name).
        #[arg(long)]
        by: Option<String>,
        /// What was found, for the audit trail.
        #[arg(long)]
        note: Option<String>,
    },
    /// Mark a household away (inactivity and usage-drop alerts are held
    /// until it returns), or back with --end.
    Away {
        household: String,
        /// Until when: a time (2026-12-01T18:00:00+08:00) or a duration (3d).
        #[arg(long, required_unless_present = "end", conflicts_with = "end")]
        until: Option<String>,
        /// Why (e.g. "visiting her son").
        #[arg(long, required_unless_present = "end", conflicts_with = "end")]
        reason: Option<String>,
        /// The household is back: end away mode now.
        #[arg(long)]
        end: bool,
        /// Who says so (default: your login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Silence alerts matching a household, grid and/or kind until a time;
    /// with --list, show the silences and away periods in force.
    Silence {
        #[arg(long)]
        household: Option<String>,
        #[arg(long)]
        grid: Option<String>,
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(KINDS))]
        kind: Option<String>,
        /// Until when: a time (2026-12-01T18:00:00+08:00) or a duration (4h).
        #[arg(long, required_unless_present = "list")]
        until: Option<String>,
        /// Why, for the audit trail.
        #[arg(long, required_unless_present = "list")]
        reason: Option<String>,
        /// Who sets it (default: your login name).
        #[arg(long)]
        by: Option<String>,
        /// List what is in force instead.
        #[arg(long, conflicts_with_all = ["household", "grid", "kind", "until", "reason"])]
        list: bool,
    },
}

/// Alert kinds a silence can match.
const KINDS: [&str; 6] = [
    "inactivity",
    "continuous_flow",
    "spike",
    "usage_drop",
    "meter_offline",
    "meter_fault",
];

pub fn main() -> ExitCode {
    crate::notify::install_tls_provider();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::CheckConfig { files }) => check_config(&files),
        Some(Command::GenerateConfig) => {
            print!("{}", config::EXAMPLE);
            ExitCode::SUCCESS
        }
        Some(Command::Backtest { rules, since }) => {
            run_backtest(cli.config.as_deref(), &rules, &since)
        }
        Some(Command::TestRules { files }) => {
            let stdout = std::io::stdout();
            if ruletest::run_files(&files, &mut stdout.lock()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some(Command::Replay {
            rules,
            input,
            until,
        }) => run_replay(&rules, &input, until.as_deref()),
        Some(Command::User { action }) => match load_config(cli.config.as_deref()) {
            Ok((_, config)) => crate::users::run(&config, action),
            Err(code) => code,
        },
        Some(Command::Run) | None => run_daemon(cli.config.as_deref(), cli.demo),
        Some(operator) => run_operator(cli.config.as_deref(), cli.url.as_deref(), operator),
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run_daemon(config_path: Option<&Path>, demo_mode: bool) -> ExitCode {
    init_logging(if demo_mode {
        "warn,rumqttd=off"
    } else {
        "info,rumqttd=warn,sqlx=warn"
    });
    let (source, config) = match load_config(config_path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waterwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone()));
        if demo_mode {
            return match demo::run(config, shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("waterwatch: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        let rules = match daemon::load_rules(&config, source.path.as_deref()) {
            Ok(rules) => rules,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let rules_path = config.rules_path(source.path.as_deref());
        let running = match daemon::start(Options {
            config,
            rules,
            clock: Arc::new(SystemClock),
            tick_every: Duration::from_secs(10),
            rules_path,
        })
        .await
        {
            Ok(running) => running,
            Err(e) => {
                eprintln!("waterwatch: {e}");
                return ExitCode::FAILURE;
            }
        };
        shutdown.cancelled().await;
        tracing::info!("shutting down");
        running.stop(Duration::from_secs(5)).await;
        ExitCode::SUCCESS
    })
}

async fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    shutdown.cancel();
}

/// The config file (or the embedded defaults) with the environment on top;
/// every problem printed when it is not usable.
fn load_config(config_path: Option<&Path>) -> Result<(Source, Config), ExitCode> {
    let source = match config_path {
        Some(path) => Source::read(path).map_err(|problems| report_problems(&problems))?,
        None => Source {
            path: None,
            text: String::new(),
        },
    };
    let config = Config::load(&source).map_err(|problems| report_problems(&problems))?;
    Ok((source, config))
}

fn report_problems(problems: &[waterwatch_rules::tomlcheck::Problem]) -> ExitCode {
    for problem in problems {
        eprintln!("{problem}");
    }
    ExitCode::FAILURE
}

/// A file is a rules file when it has `[[rule]]` tables or a `[normalise]` section.
fn looks_like_rules(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("[[rule]]") || l.starts_with("[normalise]")
    })
}

fn check_config(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in files {
        let problems = match std::fs::read_to_string(path) {
            Err(e) => vec![format!("{}: cannot read the file: {e}", path.display())],
            Ok(text) if looks_like_rules(&text) => {
                match RuleSet::parse(&path.display().to_string(), &text) {
                    Ok(_) => Vec::new(),
                    Err(problems) => problems.iter().map(ToString::to_string).collect(),
                }
            }
            Ok(text) => {
                let source = Source {
                    path: Some(path.clone()),
                    text,
                };
                match Config::check(&source) {
                    Ok(config) => match daemon::load_rules(&config, Some(path)) {
                        Ok(_) => Vec::new(),
                        Err(e) => vec![e],
                    },
                    Err(problems) => problems.iter().map(ToString::to_string).collect(),
                }
            }
        };
        if problems.is_empty() {
            println!("{}: OK", path.display());
        } else {
            failed = true;
            println!("{}: FAILED", path.display());
            for problem in problems {
                println!("  {problem}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run_replay(rules_path: &Path, input: &Path, until: Option<&str>) -> ExitCode {
    let rules = match std::fs::read_to_string(rules_path) {
        Ok(text) => match RuleSet::parse(&rules_path.display().to_string(), &text) {
            Ok(rules) => rules,
            Err(problems) => return report_problems(&problems),
        },
        Err(e) => {
            eprintln!("{}: cannot read the rules file: {e}", rules_path.display());
            return ExitCode::FAILURE;
        }
    };
    let until = match until.map(chrono::DateTime::parse_from_rfc3339).transpose() {
        Ok(until) => until,
        Err(e) => {
            eprintln!("--until: not an RFC 3339 time with an offset: {e}");
            return ExitCode::FAILURE;
        }
    };
    let file = match std::fs::File::open(input) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("{}: cannot open: {e}", input.display());
            return ExitCode::FAILURE;
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match replay::replay(
        rules,
        BufReader::with_capacity(1 << 20, file),
        until,
        &mut out,
    ) {
        Ok(summary) => {
            eprint!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("waterwatch replay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_backtest(config_path: Option<&Path>, candidate: &Path, since: &str) -> ExitCode {
    let since = match humantime::parse_duration(since) {
        Ok(d) => chrono::Utc::now() - chrono::Duration::from_std(d).unwrap_or_default(),
        Err(e) => {
            eprintln!("--since: `{since}` is not a duration like 30d: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (source, config) = match load_config(config_path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let running = match daemon::load_rules(&config, source.path.as_deref()) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let candidate = match reload::load(candidate, Some(&config.route_names())) {
        Ok(rules) => rules,
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waterwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let store = match crate::store::Store::connect(&config.store.url).await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("waterwatch backtest: {e}");
                return ExitCode::FAILURE;
            }
        };
        match backtest::run(&store, running, candidate, since).await {
            Ok(report) => {
                print!("{}", report.render());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("waterwatch backtest: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// Every household and its state.
    List,
    /// The resident withdrew consent: delete all of the household's data and
    /// refuse its meters' readings. Cannot be undone.
    Withdraw {
        household: String,
        /// The household id again, to confirm.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Consent given again: hear the household's meters from now on.
    Resume { household: String },
}
