//! The timestamps credential sources write: ISO 8601 / RFC 3339 in UTC
//! (`2026-12-01T13:00:00Z`, with optional fractional seconds, a `+00:00`
//! offset or the `UTC` suffix older AWS CLI token caches use).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sigv4::{AmzDate, format_amz_date};

/// Parses an ISO 8601 timestamp; `None` when it is not one of the accepted forms.
pub fn parse(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    let (main, offset_secs) = split_offset(t)?;
    // Drop fractional seconds: the second is precise enough for an expiry.
    let main = match main.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => {
            whole
        }
        Some(_) => return None,
        None => main,
    };
    let b = main.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let compact = format!(
        "{}{}{}T{}{}{}Z",
        &main[0..4],
        &main[5..7],
        &main[8..10],
        &main[11..13],
        &main[14..16],
        &main[17..19]
    );
    let utc = AmzDate::parse(&compact).ok()?.unix_seconds();
    let unix = utc.checked_add_signed(-offset_secs)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(unix))
}

/// The text before the zone designator and the zone's offset east of UTC in seconds.
fn split_offset(t: &str) -> Option<(&str, i64)> {
    if let Some(main) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return Some((main, 0));
    }
    if let Some(main) = t.strip_suffix("UTC") {
        return Some((main, 0));
    }
    let at = t.len().checked_sub(6)?;
    let (main, zone) = t.split_at_checked(at)?;
    let z = zone.as_bytes();
    let sign = match z[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if z[3] != b':' {
        return None;
    }
    let hours: i64 = zone.get(1..3)?.parse().ok()?;
    let minutes: i64 = zone.get(4..6)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((main, sign * (hours * 3600 + minutes * 60)))
}

/// `t` as `2026-12-01T13:00:00Z` (for messages and the fakes).
pub fn format(t: SystemTime) -> String {
    match format_amz_date(t) {
        Ok(s) => format!(
            "{}-{}-{}T{}:{}:{}Z",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15]
        ),
        Err(_) => "(a time out of range)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn accepted_forms() {
        // 2026-12-01T13:00:00Z
        let t = at(1_796_130_000);
        assert_eq!(format(t), "2026-12-01T13:00:00Z");
        for text in [
            "2026-12-01T13:00:00Z",
            "2026-12-01T13:00:00.123Z",
            "2026-12-01T13:00:00UTC",
            "2026-12-01T13:00:00+00:00",
            "2026-12-01T14:30:00+01:30",
            "2026-12-01T11:00:00-02:00",
            " 2026-12-01t13:00:00z ",
        ] {
            assert_eq!(parse(text), Some(t), "{text}");
        }
    }

    #[test]
    fn rejected_forms() {
        for text in [
            "",
            "2026-12-01",
            "2026-12-01T13:00:00",
            "2026-13-01T13:00:00Z",
            "2026-12-01T13:00:00.Z",
            "2026-12-01T13:00:00+0000",
            "2026-12-01T25:00:00Z",
            "1796130000",
            "2026-12-01T13:00:00+24:00",
            "٢٠٢٦-12-01T13:00:00Z",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
