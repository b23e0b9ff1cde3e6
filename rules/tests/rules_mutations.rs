//! A broken rules file gets a clear error: the shipped rules file mutated at
//! random (lines dropped or doubled, values made absurd or the wrong type,
//! keys misspelt, sections cut short) must be refused with problems that
//! name a line, or parse into rules the engine runs on without a panic.

mod support;

use support::{Rng, at, minutes, reading};
use waterwatch_rules::config::DEFAULT_RULES_TOML;
use waterwatch_rules::{Engine, RuleSet};

/// What a mutation puts in place of a value.
const ODD: [&str; 18] = [
    "-1",
    "0",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "\"\"",
    "\"-5m\"",
    "\"0s\"",
    "\"1000000h\"",
    "\"soon\"",
    "[]",
    "{}",
    "true",
    "2.5",
    "99999999999",
    "\"critical\"",
    "\"inactivity\"",
];

/// The shipped rules file changed in one random way.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = rng.below(lines.len() as u64) as usize;
    match rng.below(5) {
        0 => {
            lines.remove(at);
        }
        1 => {
            let line = lines[at].clone();
            lines.insert(at, line);
        }
        2 => {
            // A value made odd.
            if let Some((key, _)) = lines[at].split_once(" = ") {
                let odd = ODD[rng.below(ODD.len() as u64) as usize];
                lines[at] = format!("{key} = {odd}");
            }
        }
        3 => {
            // A key misspelt.
            if let Some((key, value)) = lines[at].split_once(" = ") {
                lines[at] = format!("{key}x = {value}");
            }
        }
        _ => lines.truncate(at),
    }
    lines.join("\n")
}

#[test]
fn a_mutated_rules_file_is_refused_with_its_line_or_runs() {
    let (mut refused, mut ran) = (0, 0);
    let readings: Vec<_> = (0..200)
        .map(|i| {
            let t = at("2026-11-24 00:00") + minutes(15 * i);
            reading(t, 1000.0 + if i % 9 == 0 { 5.0 * i as f64 } else { 0.0 })
        })
        .collect();
    for seed in 0..400 {
        let mut rng = Rng(seed);
        let text = mutate(&mut rng, DEFAULT_RULES_TOML);
        match RuleSet::parse("mutated.toml", &text) {
            Err(problems) => {
                assert!(!problems.is_empty(), "seed {seed}: refused without a word");
                for p in &problems {
                    let shown = p.to_string();
                    assert!(
                        shown.starts_with("mutated.toml:"),
                        "seed {seed}: a problem without its file and line: {shown}"
                    );
                }
                refused += 1;
            }
            Ok(rules) => {
                let mut engine = Engine::new(rules);
                for r in &readings {
                    engine.observe(r, r.ts);
                    engine.tick(r.ts);
                }
                ran += 1;
            }
        }
    }
    assert!(refused > 50 && ran > 50, "refused {refused}, ran {ran}");
}
