//! `kind = "meter_fault"`: the meter itself reports a problem (leak, burst,
//! tamper, low battery, …). Fires while the newest reading carries any of the
//! rule's flags (one alert per rule, listing them); resolves on a reading
//! without any.

use serde::{Deserialize, Serialize};

use super::Verdict;

/// The typed `[[rule]]` parameters of a `meter_fault` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterFaultConfig {
    /// The status flags that raise this alert, upper-case.
    pub flags: Vec<String>,
}

/// Per-meter state: the status flags of the newest reading, upper-case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeterFault {
    flags: Vec<String>,
}

impl MeterFault {
    /// The newest reading's status flags (any case).
    #[inline]
    pub fn reading(&mut self, status: &[String]) {
        // Most readings carry no flags, like the one before.
        if status.is_empty() && self.flags.is_empty() {
            return;
        }
        self.compare(status);
    }

    fn compare(&mut self, status: &[String]) {
        let same = status.len() == self.flags.len()
            && status
                .iter()
                .zip(&self.flags)
                .all(|(a, b)| a.eq_ignore_ascii_case(b));
        if !same {
            self.flags = status
                .iter()
                .map(|f| f.trim().to_ascii_uppercase())
                .collect();
        }
    }

    /// The rule's flags the newest reading carries, in the rule's order.
    pub fn matching<'a>(&self, config: &'a MeterFaultConfig) -> Vec<&'a str> {
        config
            .flags
            .iter()
            .filter(|f| self.flags.iter().any(|g| g == *f))
            .map(String::as_str)
            .collect()
    }

    /// Whether the newest reading carried no status flags at all.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    pub fn verdict(&self, config: &MeterFaultConfig) -> Verdict {
        if self.flags.is_empty() || self.matching(config).is_empty() {
            Verdict::Clear
        } else {
            Verdict::Firing
        }
    }

    /// The alert text for `verdict` in `lang`.
    pub fn summary(
        &self,
        config: &MeterFaultConfig,
        verdict: Verdict,
        lang: crate::text::Language,
    ) -> String {
        let flags = match verdict {
            Verdict::Firing => self.matching(config).join(", "),
            _ => config.flags.join(", "),
        };
        match (verdict, lang) {
            (Verdict::Firing, crate::text::Language::En) => format!("The meter reports {flags}."),
            (_, crate::text::Language::En) => format!("The meter no longer reports {flags}."),
            (Verdict::Firing, crate::text::Language::ZhCn) => format!("水表报告：{flags}。"),
            (_, crate::text::Language::ZhCn) => format!("水表已不再报告：{flags}。"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_match_case_insensitively_and_are_listed() {
        let config = MeterFaultConfig {
            flags: vec!["LEAK".into(), "BURST".into(), "LOW_BATTERY".into()],
        };
        // name, status, verdict, firing summary
        let cases: &[(&str, &[&str], Verdict, &str)] = &[
            ("no flags", &[], Verdict::Clear, ""),
            ("an unwatched flag", &["DRY"], Verdict::Clear, ""),
            (
                "lower-case leak",
                &["leak"],
                Verdict::Firing,
                "The meter reports LEAK.",
            ),
            (
                "two flags in the rule's order",
                &["low_battery", "DRY", "Leak"],
                Verdict::Firing,
                "The meter reports LEAK, LOW_BATTERY.",
            ),
        ];
        for (name, status, want, text) in cases {
            let mut state = MeterFault::default();
            state.reading(&status.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(state.verdict(&config), *want, "{name}");
            if *want == Verdict::Firing {
                assert_eq!(
                    state.summary(&config, *want, crate::text::Language::En),
                    *text,
                    "{name}"
                );
            }
        }
    }
}
