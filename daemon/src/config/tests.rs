use super::*;

fn check(text: &str) -> Result<Config, Vec<String>> {
    Config::check(&Source {
        path: Some(PathBuf::from("ww.toml")),
        text: text.to_owned(),
    })
    .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

#[test]
fn the_generated_example_parses_and_validates() {
    let config = check(EXAMPLE).expect("the example config must be valid");
    assert!(config.broker.enabled);
    assert_eq!(config.http.listen.port(), 8080);
}

/// The example's commented block with its settings uncommented.
fn uncommented_example() -> String {
    let mut inside = false;
    let mut out = Vec::new();
    for line in EXAMPLE.lines() {
        if line.starts_with("# ---- households") {
            inside = true;
        } else if line.starts_with("# ---- end") {
            inside = false;
        } else if inside && !line.starts_with("##") {
            out.push(
                line.strip_prefix('#')
                    .map_or(line, |l| l.strip_prefix(' ').unwrap_or(l)),
            );
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}

#[test]
fn the_examples_contacts_routes_and_channels_are_valid_once_uncommented() {
    let text = uncommented_example();
    assert!(text.contains("\n[[contact]]\n"), "{text}");
    let config = check(&text).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(config.households.len(), 1);
    assert_eq!(config.routes.len(), 3);
    assert_eq!(config.contacts.len(), 4);
    assert_eq!(config.sms[0].max_per_minute, Some(60));
    assert_eq!(config.webhooks[0].max_per_minute, Some(120));
    assert_eq!(config.ops.reach.len(), 1);
    let family = &config.contacts[2];
    assert_eq!(
        family.reassurance_from(),
        chrono::NaiveTime::from_hms_opt(6, 30, 0)
    );
    assert!(config.links.is_some());
}

#[test]
fn the_readmes_full_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let block = readme
        .split("```toml")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("[ops]"))
        .expect("the README shows a full example with [ops]");
    let config = check(block).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(config.contacts.len(), 4);
    assert_eq!(config.sms[0].max_per_minute, Some(60));
}

#[test]
fn a_zero_rate_limit_and_an_unknown_ops_channel_are_refused() {
    let problems = check(
        "[[webhook]]\nname = \"hook\"\nurl = \"http://127.0.0.1:9/x\"\nsecret_env = \"S\"\nmax_per_minute = 0\n\n[ops]\nreach = [{ channel = \"pager\" }]\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("ww.toml:5: webhook[0].max_per_minute: must be at least 1"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("ops.reach[0].channel: no channel is named `pager`"),
        "{problems:#?}"
    );
}

#[test]
fn an_empty_file_means_the_embedded_defaults() {
    let config = check("").unwrap();
    assert!(config.broker.enabled);
    assert_eq!(config.store.url, "sqlite://waterwatch.db");
    assert!(config.http.listen.ip().is_loopback());
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let problems = check(
        "[http]\nsession_idle = \"10s\"\n\n[store]\nurl = \"mysql://x\"\n\n[mqtt]\ncolour = \"blue\"\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("ww.toml:8: mqtt"), "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("ww.toml:5: store.url: must start with")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("ww.toml:2: http.session_idle: must be at least 1m")),
        "{problems:#?}"
    );
}

#[test]
fn beyond_loopback_the_dashboard_needs_a_login_and_secure_cookies() {
    let local = check("").unwrap();
    assert!(!local.http.login_required());
    assert!(!local.http.cookies_secure());
    let open = check("[http]\nlisten = \"0.0.0.0:8080\"\n").unwrap();
    assert!(open.http.login_required());
    assert!(open.http.cookies_secure());
    let always = check("[http]\nlogin = \"always\"\n").unwrap();
    assert!(always.http.login_required());
}

#[test]
fn a_webhook_without_a_secret_is_refused() {
    let problems =
        check("[[webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/x\"\n").unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("ww.toml:1: webhook[0].secret_env: set exactly one"),
        "{problems:#?}"
    );
}

#[test]
fn a_meter_in_two_households_is_refused() {
    let problems = check(
        "[[household]]\nid = \"h1\"\nmeters = [\"m1\"]\n\n[[household]]\nid = \"h2\"\nmeters = [\"m1\"]\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "ww.toml:7: household[1].meters: meter `m1` already belongs to household `h1`"
        ),
        "{problems:#?}"
    );
}

#[test]
fn a_replaced_meter_names_a_successor_of_the_household_and_is_listed_no_more() {
    let good = "[[household]]\nid = \"h1\"\nmeters = [\"m2\"]\nreplaced = { m1 = \"m2\" }\n";
    let config = check(good).expect("valid");
    assert_eq!(
        config.households[0].replaced.get("m1").map(String::as_str),
        Some("m2")
    );

    let problems = check(
        "[[household]]\nid = \"h1\"\nmeters = [\"m1\", \"m2\"]\nreplaced = { m1 = \"m3\" }\n\n\
         [[household]]\nid = \"h2\"\nmeters = [\"m4\"]\nreplaced = { m1 = \"m4\" }\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "ww.toml:4: household[0].replaced: meter `m1` is still listed in the meters of household `h1`"
        ),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with(
            "ww.toml:4: household[0].replaced: `m1` was replaced by `m3`, which is not one of this household's meters"
        ),
        "{problems:#?}"
    );
    assert!(
        problems[2].starts_with("ww.toml:9: household[1].replaced: meter `m1` is still listed"),
        "{problems:#?}"
    );

    let twice = "[[household]]\nid = \"h1\"\nmeters = [\"m2\"]\nreplaced = { m1 = \"m2\" }\n\n\
                 [[household]]\nid = \"h2\"\nmeters = [\"m3\"]\nreplaced = { m1 = \"m3\" }\n";
    let problems = check(twice).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "ww.toml:9: household[1].replaced: meter `m1` is listed as replaced in household `h1` too"
        ),
        "{problems:#?}"
    );
}

#[test]
fn a_bad_duration_names_the_key() {
    let problems = check("[ingest]\nmax_age = \"a fortnight\"\n").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("ingest.max_age"), "{problems:#?}");
    assert!(problems[0].contains("not a duration"), "{problems:#?}");
}

#[test]
fn every_section_of_the_config_is_known_to_the_checker() {
    // A full example with one of everything, as the README shows it.
    let text = r#"
        [[household]]
        id = "h1"
        grid = "g1"
        meters = ["m1"]

        [[route]]
        name = "urgent"
        steps = [{ after = "0m", notify = ["grid_worker"] }]

        [[contact]]
        name = "Li"
        role = "grid_worker"
        grids = ["g1"]
        reach = [{ channel = "mail", to = "li@example.org" }]

        [[email]]
        name = "mail"
        host = "127.0.0.1"
        port = 2525
        security = "none"
        from = "ww@example.org"

        [templates."en".case_opened]
        text = "{household}: {summary} {link}"
    "#;
    let config = check(text).unwrap_or_else(|p| panic!("{p:#?}"));
    assert_eq!(config.routes.len(), 1);
    assert_eq!(config.contacts.len(), 1);
    assert_eq!(config.emails.len(), 1);
}

#[test]
fn a_contact_reached_over_an_unknown_channel_is_refused() {
    let problems = check(
        "[[contact]]\nname = \"Li\"\nrole = \"family\"\nhouseholds = [\"h1\"]\nreach = [{ channel = \"pager\" }]\n",
    )
    .unwrap_err();
    assert!(
        problems[0].contains("contact[0].reach[0].channel: no channel is named `pager`"),
        "{problems:#?}"
    );
}

#[test]
fn unknown_sections_are_named() {
    let problems = check("[mqqt]\nurl = \"mqtt://x\"\n").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("ww.toml:1: mqqt"), "{problems:#?}");
}

#[test]
fn broker_urls_parse_into_host_and_port() {
    assert_eq!(
        parse_mqtt_url("mqtt://127.0.0.1:1884").unwrap(),
        ("127.0.0.1".to_string(), 1884)
    );
    assert_eq!(
        parse_mqtt_url("tcp://broker").unwrap(),
        ("broker".to_string(), 1883)
    );
    assert!(parse_mqtt_url("mqtts://broker:8883").is_err());
    assert!(parse_mqtt_url("mqtt://:1883").is_err());
}

#[test]
fn an_unknown_time_zone_is_refused_with_its_line() {
    let problems = check(
        "[[adapter]]\nformat = \"wmbusmeters\"\ntopic = \"wmbusmeters/+\"\ntimezone = \"Europe/Atlantis\"\n",
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "ww.toml:4: adapter[0].timezone: `Europe/Atlantis` is not a time zone name"
        ),
        "{problems:#?}"
    );
    let config = check(
        "[[adapter]]\nformat = \"bare\"\ntopic = \"ha/+/total\"\nunit = \"L\"\ntimezone = \"Europe/Madrid\"\n",
    );
    assert!(config.is_ok(), "{config:?}");
}

/// The full example (every section uncommented) mutated at random — lines
/// dropped or doubled, values made absurd or the wrong type, keys
/// misspelt, cut short — is refused with problems that each name the file
/// and a line, or loads into a config that validates; never a panic.
#[test]
fn a_mutated_config_is_refused_with_its_line_or_loads() {
    const ODD: [&str; 12] = [
        "-1",
        "0",
        "1e308",
        "nan",
        "\"\"",
        "\"-5m\"",
        "\"soon\"",
        "[]",
        "{}",
        "true",
        "\"999.999.999.999:99999\"",
        "\"not a url\"",
    ];
    let base = uncommented_example();
    let lines: Vec<&str> = base.lines().collect();
    let (mut refused, mut loaded) = (0, 0);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..600 {
        let mut mutated: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let at = next(mutated.len());
        match next(5) {
            0 => {
                mutated.remove(at);
            }
            1 => mutated.insert(at, mutated[at].clone()),
            2 => {
                if let Some((key, _)) = mutated[at].split_once(" = ") {
                    mutated[at] = format!("{key} = {}", ODD[next(ODD.len())]);
                }
            }
            3 => {
                if let Some((key, value)) = mutated[at].split_once(" = ") {
                    mutated[at] = format!("{key}x = {value}");
                }
            }
            _ => mutated.truncate(at),
        }
        let text = mutated.join("\n");
        // `load`'s fast path accepts exactly what `check` accepts.
        assert_eq!(
            Config::parse_whole(&text).is_some(),
            check(&text).is_ok(),
            "{text}"
        );
        match check(&text) {
            Ok(_) => loaded += 1,
            Err(problems) => {
                assert!(!problems.is_empty());
                for p in &problems {
                    assert!(p.starts_with("ww.toml:"), "without its file and line: {p}");
                }
                refused += 1;
            }
        }
    }
    assert!(
        refused > 50 && loaded > 50,
        "refused {refused}, loaded {loaded}"
    );
}

#[test]
fn the_environment_overrides_settings_and_leaves_the_household_registry_as_written() {
    let text = "[http]\nlisten = \"127.0.0.1:8080\"\n\n\
                [[household]]\nid = \"h1\"\nname = \"Zhang Mei\"\ngrid = \"grid-7\"\nmeters = [\"m1\"]\n\n\
                [[household]]\nid = \"h2\"\nmeters = [\"m2\", \"m3\"]\nreplaced = { \"m0\" = \"m3\" }\n";
    let source = Source {
        path: Some(PathBuf::from("ww.toml")),
        text: text.to_owned(),
    };
    let plain = Config::load(&source).expect("loads");
    assert_eq!(plain.http.listen.port(), 8080);
    // SAFETY: nextest runs each test in its own process, so no other
    // thread reads the environment meanwhile.
    unsafe { std::env::set_var("WATERWATCH_HTTP__LISTEN", "127.0.0.1:9999") };
    let layered = Config::load(&source).expect("loads");
    unsafe { std::env::remove_var("WATERWATCH_HTTP__LISTEN") };
    assert_eq!(layered.http.listen.port(), 9999);
    assert_eq!(layered.households.len(), 2);
    assert_eq!(layered.households[0].name.as_deref(), Some("Zhang Mei"));
    assert_eq!(layered.households[1].meters, ["m2", "m3"]);
    assert_eq!(layered.households[1].replaced.len(), 1);
}
