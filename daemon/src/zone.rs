//! Local time for meters and people: a fixed UTC offset (`utc_offset =
//! "+08:00"`) or a named time zone that follows its daylight-saving rules
//! (`timezone = "Europe/Berlin"`, an IANA name). A wM-Bus meter in Berlin
//! stamps its readings in UTC; with a fixed `+01:00` its household's
//! mornings would move by an hour every spring and autumn, and what was
//! learned in winter would judge the summer an hour off.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Where local time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(Utc.fix())
    }
}

impl Zone {
    /// The zone a config section sets with `utc_offset` or `timezone` (not
    /// both); `None` when it sets neither. Errors name the field at fault.
    pub fn from_fields(
        utc_offset: Option<&str>,
        timezone: Option<&str>,
    ) -> Result<Option<Zone>, (&'static str, String)> {
        match (utc_offset, timezone) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err((
                "timezone",
                "set utc_offset or timezone, not both".to_owned(),
            )),
            (Some(offset), None) => parse_offset(offset).map(|o| Some(Zone::Fixed(o))).ok_or((
                "utc_offset",
                format!("`{offset}` is not an offset like +08:00"),
            )),
            (None, Some(name)) => name
                .trim()
                .parse::<Tz>()
                .map(|tz| Some(Zone::Named(tz)))
                .map_err(|_| {
                    (
                        "timezone",
                        format!(
                            "`{name}` is not a time zone name like Europe/Berlin or Asia/Shanghai"
                        ),
                    )
                }),
        }
    }

    /// The zone's offset from UTC at `at`.
    pub fn offset_at(&self, at: DateTime<Utc>) -> FixedOffset {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Named(tz) => tz.offset_from_utc_datetime(&at.naive_utc()).fix(),
        }
    }

    /// `at` in local time, with the offset in force then.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.offset_at(at))
    }

    /// The instant a local clock shows `local`: the earlier one when the
    /// clock shows it twice (autumn), and the moment the clock jumps past
    /// it when it never shows it (spring).
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Fixed(offset) => (local - *offset).and_utc(),
            Zone::Named(tz) => {
                // A gap is at most a few hours: the first local time after it.
                (0..=4 * 60)
                    .find_map(|m| {
                        let t = local + chrono::Duration::minutes(m);
                        tz.from_local_datetime(&t).earliest()
                    })
                    .map_or_else(
                        || (local - self.offset_at(local.and_utc())).and_utc(),
                        |t| t.with_timezone(&Utc),
                    )
            }
        }
    }
}

/// `+08:00`, `-05:30`, `Z`.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{}", text.trim()))
        .ok()
        .map(|t| *t.offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn berlin() -> Zone {
        Zone::from_fields(None, Some("Europe/Berlin"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_named_zone_follows_daylight_saving_and_a_fixed_offset_does_not() {
        let summer = utc("2026-07-01T05:00:00Z");
        let winter = utc("2026-12-01T06:00:00Z");
        assert_eq!(
            berlin().local(summer).to_rfc3339(),
            "2026-07-01T07:00:00+02:00"
        );
        assert_eq!(
            berlin().local(winter).to_rfc3339(),
            "2026-12-01T07:00:00+01:00"
        );
        let fixed = Zone::from_fields(Some("+01:00"), None).unwrap().unwrap();
        assert_eq!(
            fixed.local(summer).to_rfc3339(),
            "2026-07-01T06:00:00+01:00"
        );
        let shanghai = Zone::from_fields(None, Some("Asia/Shanghai"))
            .unwrap()
            .unwrap();
        assert_eq!(
            shanghai.local(summer).to_rfc3339(),
            "2026-07-01T13:00:00+08:00"
        );
    }

    #[test]
    fn local_times_the_clock_skips_or_shows_twice_have_one_instant() {
        let at = |t: &str| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").unwrap();
        // 2026-03-29 02:30 never happens in Berlin: 03:00 CEST comes instead.
        assert_eq!(
            berlin().instant(at("2026-03-29 02:30")),
            utc("2026-03-29T01:00:00Z")
        );
        // 2026-10-25 02:30 happens twice: the first (CEST) one.
        assert_eq!(
            berlin().instant(at("2026-10-25 02:30")),
            utc("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            berlin().instant(at("2026-10-25 07:00")),
            utc("2026-10-25T06:00:00Z")
        );
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(Zone::from_fields(None, None), Ok(None));
        assert_eq!(
            Zone::from_fields(Some("+8"), None).unwrap_err().0,
            "utc_offset"
        );
        let (field, message) = Zone::from_fields(None, Some("Europe/Atlantis")).unwrap_err();
        assert_eq!(field, "timezone");
        assert!(message.contains("Europe/Atlantis"), "{message}");
        assert_eq!(
            Zone::from_fields(Some("+01:00"), Some("Europe/Berlin"))
                .unwrap_err()
                .0,
            "timezone"
        );
    }
}
