//! Time as SigV4 writes it: [`AmzDate`] (`YYYYMMDD'T'HHMMSS'Z'`, UTC) and the proleptic
//! Gregorian date arithmetic behind it ([`civil_from_days`]).

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::SigV4Error;

/// A UTC instant with one-second resolution, between 1970-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z: the range the `YYYYMMDD'T'HHMMSS'Z'` form (`x-amz-date`) can express.
///
/// `Display` writes that form; `FromStr` / [`AmzDate::parse`] read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AmzDate {
    unix: u64,
}

/// 9999-12-31T23:59:59Z.
const MAX_UNIX: u64 = 253_402_300_799;

impl AmzDate {
    /// The instant `secs` seconds after the Unix epoch.
    pub fn from_unix_seconds(secs: u64) -> Result<Self, SigV4Error> {
        if secs > MAX_UNIX {
            return Err(SigV4Error::TimeOutOfRange);
        }
        Ok(AmzDate { unix: secs })
    }

    /// `time` truncated to whole seconds. Before 1970 or after year 9999 is an error.
    pub fn from_system_time(time: SystemTime) -> Result<Self, SigV4Error> {
        let secs = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| SigV4Error::TimeOutOfRange)?
            .as_secs();
        Self::from_unix_seconds(secs)
    }

    /// The current time (`SystemTime::now()`).
    pub fn now() -> Result<Self, SigV4Error> {
        Self::from_system_time(SystemTime::now())
    }

    /// Parses `YYYYMMDD'T'HHMMSS'Z'` (e.g. `20120525T002453Z`), checking every field's
    /// range (month length and leap years included; no leap seconds).
    pub fn parse(s: &str) -> Result<Self, SigV4Error> {
        let b = s.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return Err(SigV4Error::InvalidAmzDate);
        }
        let num = |range: std::ops::Range<usize>| -> Result<u64, SigV4Error> {
            let mut v = 0u64;
            for &c in &b[range] {
                if !c.is_ascii_digit() {
                    return Err(SigV4Error::InvalidAmzDate);
                }
                v = v * 10 + u64::from(c - b'0');
            }
            Ok(v)
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
        if year < 1970
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(SigV4Error::InvalidAmzDate);
        }
        let days = days_from_civil(year, month, day);
        Self::from_unix_seconds(days * 86_400 + hour * 3_600 + minute * 60 + second)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> u64 {
        self.unix
    }

    /// The `YYYYMMDD` date stamp used in the credential scope.
    pub fn date_stamp(self) -> String {
        let (y, m, d) = civil_from_days(self.unix / 86_400);
        format!("{y:04}{m:02}{d:02}")
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.unix / 86_400);
        let s = self.unix % 86_400;
        write!(
            f,
            "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
            s / 3_600,
            s / 60 % 60,
            s % 60
        )
    }
}

impl FromStr for AmzDate {
    type Err = SigV4Error;
    fn from_str(s: &str) -> Result<Self, SigV4Error> {
        Self::parse(s)
    }
}

/// Formats `time` as an `x-amz-date` value, `YYYYMMDD'T'HHMMSS'Z'` in UTC.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_337_905_493);
/// assert_eq!(glacier_verify_sigv4::format_amz_date(t).unwrap(), "20120525T002453Z");
/// ```
pub fn format_amz_date(time: SystemTime) -> Result<String, SigV4Error> {
    Ok(AmzDate::from_system_time(time)?.to_string())
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month 1–12, day 1–31) of day `days` after 1970-01-01, proleptic Gregorian
/// calendar: Howard Hinnant's `civil_from_days`, restricted to non-negative day numbers.
///
/// ```
/// use glacier_verify_sigv4::civil_from_days;
/// assert_eq!(civil_from_days(0), (1970, 1, 1));
/// assert_eq!(civil_from_days(11_016), (2000, 2, 29));
/// ```
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a (March-based) year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of 400-year era, [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of March-based year, [0, 365]
    let mp = (5 * doy + 2) / 153; // March-based month, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Inverse of [`civil_from_days`] for valid dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
