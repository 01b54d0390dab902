//! Values parsed when the configuration is read: Discord ids, lists (arrays or
//! comma-separated text from the environment), time zones and times of the week.

use serde::{Deserialize, Deserializer};

use super::redact::show;

/// A time of the week, "mon 09:00", in the announcements' time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyTime {
    pub weekday: chrono::Weekday,
    pub time: chrono::NaiveTime,
}

impl std::str::FromStr for WeeklyTime {
    type Err = String;

    fn from_str(text: &str) -> Result<WeeklyTime, String> {
        let problem = || {
            format!(
                "{} is not a weekday and a time such as \"mon 09:00\"",
                show(text)
            )
        };
        let mut parts = text.split_whitespace();
        let (Some(day), Some(time), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(problem());
        };
        let weekday = day.parse::<chrono::Weekday>().map_err(|_| problem())?;
        let time = chrono::NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| problem())?;
        Ok(WeeklyTime { weekday, time })
    }
}

/// "mon 09:00", or empty for none.
pub(super) fn weekly_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WeeklyTime>, D::Error> {
    let text = String::deserialize(d)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// A Discord id (or a number of a list) given as an integer or a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawId {
    Int(u64),
    Text(String),
}

pub(super) fn parse_id(raw: RawId) -> Result<Option<u64>, String> {
    match raw {
        RawId::Int(0) => Err("0 is not a Discord id".into()),
        RawId::Int(n) => Ok(Some(n)),
        RawId::Text(s) if s.trim().is_empty() => Ok(None),
        RawId::Text(s) => match s.trim().parse::<u64>() {
            Ok(0) | Err(_) => Err(format!(
                "{} is not a Discord id (a number such as 123456789012345678)",
                show(&s)
            )),
            Ok(n) => Ok(Some(n)),
        },
    }
}

/// A list setting: a TOML array, or a comma-separated string (as environment variables
/// give it: every key can be set from the environment, lists too).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawList {
    List(Vec<RawId>),
    Text(String),
}

pub(super) fn list_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawId>, D::Error> {
    Ok(match RawList::deserialize(d)? {
        RawList::List(list) => list,
        RawList::Text(s) => s
            .split(',')
            .map(|p| RawId::Text(p.trim().to_string()))
            .collect(),
    })
}

pub(super) fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let mut out = Vec::new();
    for item in list_items(d)? {
        if let Some(id) = parse_id(item).map_err(serde::de::Error::custom)? {
            out.push(id);
        }
    }
    Ok(out)
}

/// A list of whole numbers, such as `[7, 1]` or `7,1`.
pub(super) fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let not_a_number = |shown: String| {
        serde::de::Error::custom(format!(
            "{shown} is not a whole number from 0 to {} (give a list such as 7,1)",
            u32::MAX
        ))
    };
    let mut out = Vec::new();
    for item in list_items(d)? {
        match item {
            RawId::Int(n) => out.push(u32::try_from(n).map_err(|_| not_a_number(n.to_string()))?),
            RawId::Text(s) if s.trim().is_empty() => {}
            RawId::Text(s) => out.push(s.trim().parse().map_err(|_| not_a_number(show(&s)))?),
        }
    }
    Ok(out)
}

/// Shard numbers, a list or "2, 3" from the environment. Shards count from 0, so unlike
/// a Discord id, 0 is a shard number.
pub(super) fn shard_numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    numbers(d)
}

pub(super) fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    parse_id(RawId::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// An IANA time zone name ("Europe/Oslo"); the value is named in the error only if it
/// cannot be a secret.
pub(super) fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.trim().parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "{} is not a time zone name (for example \"Europe/Oslo\")",
            show(&name)
        ))
    })
}
