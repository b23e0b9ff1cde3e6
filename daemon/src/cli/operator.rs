//! The operator's commands (`cases`, `ack`, `resolve`, `away`, `silence`,
//! `household`): each a call to the running daemon's HTTP API, its answer
//! printed a line per item.

use std::path::Path;
use std::process::ExitCode;

use super::{Command, HouseholdCommand, load_config};
use crate::client::{self, Client, ClientError};

/// `cases`, `ack`, `resolve`, `away`, `silence`: through the running daemon's API.
pub(super) fn run_operator(
    config_path: Option<&Path>,
    url: Option<&str>,
    command: Command,
) -> ExitCode {
    let base = match url {
        Some(url) => url.to_owned(),
        None => match load_config(config_path) {
            Ok((_, config)) => {
                let mut addr = config.http.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}")
            }
            Err(code) => return code,
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waterwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let client = Client::new(&base, std::env::var(client::TOKEN_ENV).ok())?;
        operate(&client, command).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("waterwatch: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn operate(client: &Client, command: Command) -> Result<(), ClientError> {
    let actor = |by: Option<String>| by.unwrap_or_else(client::default_actor);
    let now = chrono::Utc::now();
    match command {
        Command::Cases { open, limit, json } => {
            let cases = client.cases(open, limit).await?;
            if json {
                println!("{}", serde_json::json!({ "cases": cases }));
            } else if cases.is_empty() {
                println!("{}", if open { "no open cases" } else { "no cases" });
            } else {
                for case in &cases {
                    println!("{}", client::case_line(case));
                }
            }
        }
        Command::Ack { case, by, note } => {
            let after = client
                .acknowledge(case, &actor(by), note.as_deref())
                .await?;
            match after["acknowledged"]["by"].as_str() {
                Some(who) => println!("case {case}: acknowledged by {who}"),
                None => println!("case {case}: acknowledged"),
            }
        }
        Command::Resolve {
            case,
            reason,
            by,
            note,
        } => {
            client
                .resolve(case, &actor(by), &reason, note.as_deref())
                .await?;
            println!("case {case}: closed ({reason})");
        }
        Command::Away {
            household,
            end: true,
            ..
        } => {
            client.end_away(&household).await?;
            println!("{household}: back home; away mode ended");
        }
        Command::Away {
            household,
            until,
            reason,
            by,
            ..
        } => {
            let until = client::parse_until(until.as_deref().unwrap_or_default(), now)?;
            let reason = reason.unwrap_or_default();
            client.away(&household, until, &reason, &actor(by)).await?;
            println!("{household}: away until {}", until.to_rfc3339());
        }
        Command::Silence { list: true, .. } => {
            let list = client.silences().await?;
            if list.is_empty() {
                println!("no silences or away periods in force");
            }
            for s in list {
                let what = if s["away"].as_bool() == Some(true) {
                    format!("away {}", s["household"].as_str().unwrap_or_default())
                } else {
                    let mut parts = Vec::new();
                    for field in ["household", "grid", "kind"] {
                        if let Some(v) = s[field].as_str() {
                            parts.push(format!("{field}={v}"));
                        }
                    }
                    format!("silence {}", parts.join(" "))
                };
                println!(
                    "#{} {what} until {} ({}, by {})",
                    s["id"].as_i64().unwrap_or_default(),
                    s["ends"].as_str().unwrap_or_default(),
                    s["reason"].as_str().unwrap_or_default(),
                    s["created_by"].as_str().unwrap_or_default()
                );
            }
        }
        Command::Silence {
            household,
            grid,
            kind,
            until,
            reason,
            by,
            ..
        } => {
            let until = client::parse_until(until.as_deref().unwrap_or_default(), now)?;
            let by = actor(by);
            let answer = client
                .silence(&client::Silence {
                    household: household.as_deref(),
                    grid: grid.as_deref(),
                    kind: kind.as_deref(),
                    until,
                    reason: reason.as_deref().unwrap_or_default(),
                    by: &by,
                })
                .await?;
            println!(
                "silence #{} until {}",
                answer["id"].as_i64().unwrap_or_default(),
                until.to_rfc3339()
            );
        }
        Command::Household {
            action: HouseholdCommand::List,
        } => {
            for h in client.households().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    h["household"]["id"].as_str().unwrap_or_default(),
                    h["household"]["grid"].as_str().unwrap_or("-"),
                    h["state"].as_str().unwrap_or_default(),
                    h["household"]["name"].as_str().unwrap_or("-"),
                    h["detail"].as_str().unwrap_or_default()
                );
            }
        }
        Command::Household {
            action: HouseholdCommand::Withdraw { household, confirm },
        } => {
            let answer = client
                .set_monitoring(&household, false, confirm.as_deref())
                .await?;
            let purged = &answer["purged"];
            println!(
                "consent withdrawn for {household}: deleted {} readings, {} cases, {} messages; \
                 its meters' readings are refused from now on",
                purged["readings"], purged["cases"], purged["messages"]
            );
        }
        Command::Household {
            action: HouseholdCommand::Resume { household },
        } => {
            client.set_monitoring(&household, true, None).await?;
            println!(
                "consent recorded for {household}: its meters are heard again (learning starts afresh)"
            );
        }
        other => {
            return Err(ClientError::Usage(format!(
                "{other:?} is not an operator command"
            )));
        }
    }
    Ok(())
}
