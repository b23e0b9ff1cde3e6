//! MQTT topic filters: matching a topic and taking the meter id from the
//! level a `+` stands for.

/// Does `topic` match `filter` (`+` one level, `#` the rest)?
pub fn matches(filter: &str, topic: &str) -> bool {
    capture(filter, topic).is_some()
}

/// Match and return what the first `+` matched (`Some(None)` when the filter
/// has no `+`; `None` when it does not match).
pub fn capture<'t>(filter: &str, topic: &'t str) -> Option<Option<&'t str>> {
    let mut levels = topic.split('/');
    let mut captured = None;
    for part in filter.split('/') {
        match part {
            "#" => return Some(captured),
            "+" => {
                let level = levels.next()?;
                if level.is_empty() {
                    return None;
                }
                captured.get_or_insert(level);
            }
            literal => {
                if levels.next()? != literal {
                    return None;
                }
            }
        }
    }
    levels.next().is_none().then_some(captured)
}

/// Is this a usable subscription filter?
pub fn valid_filter(filter: &str) -> bool {
    !filter.is_empty()
        && filter.split('/').enumerate().all(|(i, level)| {
            let last = i == filter.split('/').count() - 1;
            match level {
                "#" => last,
                "+" => true,
                other => !other.contains(['+', '#']),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plus_captures_the_meter_level() {
        assert_eq!(
            capture("wmbusmeters/+", "wmbusmeters/12345678"),
            Some(Some("12345678"))
        );
        assert_eq!(
            capture("watermeter/+/json", "watermeter/kitchen/json"),
            Some(Some("kitchen"))
        );
        assert_eq!(capture("watermeter/json", "watermeter/json"), Some(None));
        assert_eq!(
            capture("watermeter/+/json", "watermeter/kitchen/value"),
            None
        );
        assert_eq!(capture("a/+", "a/b/c"), None);
        assert_eq!(capture("a/+", "a/"), None);
        assert_eq!(capture("a/#", "a/b/c"), Some(None));
    }

    #[test]
    fn filters_with_misplaced_wildcards_are_refused() {
        assert!(valid_filter("a/+/b"));
        assert!(valid_filter("a/#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b+"));
        assert!(!valid_filter(""));
    }
}
