//! Unit tests of the date and time arithmetic.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

#[test]
fn amz_date_known_values() {
    // Cross-checked with GNU `date -u -d @SECS +%Y%m%dT%H%M%SZ`.
    let known = [
        (0, "19700101T000000Z"),
        (951_782_400, "20000229T000000Z"),
        (1_336_348_800, "20120507T000000Z"),
        (1_337_905_493, "20120525T002453Z"),
        (1_440_938_160, "20150830T123600Z"),
        (1_709_164_800, "20240229T000000Z"),
        (4_102_444_800, "21000101T000000Z"),
        (253_402_300_799, "99991231T235959Z"),
    ];
    for (secs, text) in known {
        let d = AmzDate::from_unix_seconds(secs).unwrap();
        assert_eq!(d.to_string(), text);
        assert_eq!(AmzDate::parse(text).unwrap(), d);
        assert_eq!(d.date_stamp(), &text[..8]);
        let st = UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(format_amz_date(st).unwrap(), text);
    }
    assert_eq!(
        format_amz_date(UNIX_EPOCH + Duration::from_millis(1_337_905_493_999)).unwrap(),
        "20120525T002453Z"
    );
    assert_eq!(
        AmzDate::from_unix_seconds(MAX_UNIX + 1),
        Err(SigV4Error::TimeOutOfRange)
    );
    assert_eq!(
        AmzDate::from_system_time(UNIX_EPOCH - Duration::from_secs(1)),
        Err(SigV4Error::TimeOutOfRange)
    );
    assert!(AmzDate::now().is_ok());
}

#[test]
fn amz_date_rejects_malformed() {
    for bad in [
        "",
        "20120525T002453",
        "20120525T002453z",
        "20120525 002453Z",
        "2012-05-25T00:24:53Z",
        "20120525T002453Z ",
        "19691231T235959Z",
        "20120025T002453Z",
        "20121325T002453Z",
        "20120500T002453Z",
        "20120532T002453Z",
        "20120431T000000Z",
        "20130229T000000Z",
        "21000229T000000Z",
        "20120525T242453Z",
        "20120525T006053Z",
        "20120525T002460Z",
        "2012052ET002453Z",
        "+0120525T002453Z",
        "２0120525T00245Z",
    ] {
        assert_eq!(
            AmzDate::parse(bad),
            Err(SigV4Error::InvalidAmzDate),
            "{bad:?}"
        );
    }
    assert!(AmzDate::parse("20000229T000000Z").is_ok());
    assert!(AmzDate::parse("20240229T235959Z").is_ok());
}

/// The calendar arithmetic against a naive day-by-day count, for every day from
/// 1970-01-01 to 9999-12-31 (the BLAKE3-style "obviously correct oracle").
#[test]
fn civil_days_match_naive_calendar() {
    let (mut y, mut m, mut d) = (1970u64, 1u64, 1u64);
    let last = MAX_UNIX / 86_400;
    for day in 0..=last {
        assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
        assert_eq!(days_from_civil(y, m, d), day);
        d += 1;
        if d > days_in_month(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    assert_eq!((y, m, d), (10_000, 1, 1));
}
