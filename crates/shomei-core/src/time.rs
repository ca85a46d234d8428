//! Clock injection: signing time comes from a [`Clock`] so tests can freeze it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    /// Stopped at `secs` seconds after the Unix epoch.
    pub fn at_unix(secs: u64) -> Self {
        Self(UNIX_EPOCH + Duration::from_secs(secs))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A UTC calendar time, second precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime {
    /// Year (e.g. 2026).
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
}

impl UtcTime {
    /// Converts a system time (years 1970..=9999).
    pub fn from_system_time(t: SystemTime) -> Option<Self> {
        let dt = der::DateTime::from_system_time(t).ok()?;
        Some(Self {
            year: dt.year(),
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minutes(),
            second: dt.seconds(),
        })
    }

    /// PDF date string body, `D:YYYYMMDDHHmmSSZ` (ISO 32000-2 7.9.4).
    pub fn to_pdf_date(self) -> String {
        format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// XML Schema dateTime, `YYYY-MM-DDTHH:mm:SSZ`.
    pub fn to_xml_datetime(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Reads the `YYYYMMDDHHMMSS` digits that start an ASN.1 `GeneralizedTime` value and
/// returns the time they name (seconds since the Unix epoch) and the bytes after them
/// (an optional fraction and the `Z`), for the callers' own rules on fractions —
/// der's `GeneralizedTime` refuses fractions that RFC 3161 and real OCSP responders use.
/// `YYYYMMDDHHMMSS` of `dt` (add `Z`, or fractional seconds then `Z`, for a
/// GeneralizedTime).
pub fn generalized_digits(dt: &der::DateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minutes(),
        dt.seconds()
    )
}

/// Reads the digits of a GeneralizedTime (seconds since the epoch and what follows).
pub fn generalized_time_seconds(value: &[u8]) -> Option<(Duration, &[u8])> {
    let num = |r: std::ops::Range<usize>| -> Option<u16> {
        value.get(r)?.iter().try_fold(0u16, |acc, d| {
            d.is_ascii_digit()
                .then(|| acc.checked_mul(10)?.checked_add(u16::from(d - b'0')))
                .flatten()
        })
    };
    let small = |r| num(r).and_then(|v| u8::try_from(v).ok());
    let dt = der::DateTime::new(
        num(0..4)?,
        small(4..6)?,
        small(6..8)?,
        small(8..10)?,
        small(10..12)?,
        small(12..14)?,
    )
    .ok()?;
    Some((dt.unix_duration(), value.get(14..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_date_of_a_fixed_instant() {
        let t = UtcTime::from_system_time(FixedClock::at_unix(1_700_000_000).now()).unwrap();
        assert_eq!(t.to_pdf_date(), "D:20231114221320Z");
        assert_eq!(t.to_xml_datetime(), "2023-11-14T22:13:20Z");
    }
}
