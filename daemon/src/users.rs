//! `waterwatch user …`: dashboard users, managed on the daemon's machine
//! against its store. The first admin is created here; there is never a
//! default password. Passwords are read from a file or standard input, never
//! from the command line (where `ps` and shell history would show them).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::store::Store;
use crate::store::access::{self, NewUser};
use crate::web::auth::{self, Role};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from --password-file or the first
    /// line of standard input.
    Add {
        name: String,
        /// admin, ops, grid_worker or family.
        #[arg(long)]
        role: String,
        /// Grids (grid_worker) or households (family) the user may see, comma-separated.
        #[arg(long, default_value = "")]
        scope: String,
        /// Page language: en or zh-CN.
        #[arg(long, default_value = "en")]
        language: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Set a new password (read like `add`'s).
    Passwd {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List users (never their passwords).
    List,
    /// Disable a user and end their sessions and API tokens.
    Disable { name: String },
    /// Create an API token for a user (for scripts and the CLI); printed once.
    Token {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

/// Run a `user` command against the configured store.
pub fn run(config: &Config, command: UserCommand) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waterwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let store = match Store::connect(&config.store.url).await {
            Ok(store) => store,
            Err(e) => {
                eprintln!("waterwatch: cannot open the store: {e}");
                return ExitCode::FAILURE;
            }
        };
        let result = execute(&store, command).await;
        store.close().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("waterwatch: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn read_password(file: Option<&Path>) -> Result<String, String> {
    let line = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if let Some(problem) = auth::password_problem(&line) {
        return Err(problem.to_owned());
    }
    Ok(line)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn execute(store: &Store, command: UserCommand) -> Result<(), String> {
    let pool = store.pool();
    let db = |e: crate::store::StoreError| e.to_string();
    match command {
        UserCommand::Add {
            name,
            role,
            scope,
            language,
            password_file,
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| format!("--role `{role}`: use admin, ops, grid_worker or family"))?;
            let scope: Vec<String> = scope
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            match role {
                Role::GridWorker if scope.is_empty() => {
                    return Err("a grid_worker needs --scope with their grid(s)".into());
                }
                Role::Family if scope.is_empty() => {
                    return Err("a family user needs --scope with their household(s)".into());
                }
                _ => {}
            }
            let language = waterwatch_rules::Language::parse(&language)
                .ok_or_else(|| format!("--language `{language}`: use en or zh-CN"))?;
            let name = name.trim();
            if name.is_empty() || name.len() > 64 {
                return Err("a user name needs 1 to 64 characters".into());
            }
            if access::user_by_name(pool, name)
                .await
                .map_err(db)?
                .is_some()
            {
                return Err(format!("a user called `{name}` exists already"));
            }
            let password = read_password(password_file.as_deref())?;
            let hash = auth::hash_password(&password)?;
            access::add_user(
                pool,
                &NewUser {
                    name,
                    role: role.as_str(),
                    scope: &scope,
                    language: language.as_str(),
                    password_hash: &hash,
                },
                now_ms(),
            )
            .await
            .map_err(db)?;
            println!("user `{name}` added ({})", role.as_str());
        }
        UserCommand::Passwd {
            name,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let hash = auth::hash_password(&password)?;
            if !access::set_password(pool, &name, &hash).await.map_err(db)? {
                return Err(format!("no user called `{name}`"));
            }
            println!("password of `{name}` changed");
        }
        UserCommand::List => {
            for u in access::users(pool).await.map_err(db)? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.name,
                    u.role,
                    u.scope.join(","),
                    u.language,
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::Disable { name } => {
            if !access::disable_user(pool, &name).await.map_err(db)? {
                return Err(format!("no user called `{name}`"));
            }
            println!("user `{name}` disabled; their sessions and tokens are gone");
        }
        UserCommand::Token { name, label } => {
            let (user, _) = access::user_by_name(pool, &name)
                .await
                .map_err(db)?
                .filter(|(u, _)| !u.disabled)
                .ok_or_else(|| format!("no active user called `{name}`"))?;
            let token = auth::random_token();
            access::add_token(pool, &auth::token_hash(&token), user.id, &label, now_ms())
                .await
                .map_err(db)?;
            println!("{token}");
            eprintln!("API token for `{name}` ({label}); it is shown only now");
        }
    }
    Ok(())
}
