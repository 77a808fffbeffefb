use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use super::*;

fn keys(n: u32) -> Credentials {
    Credentials::new(
        format!("ASIA{n}"),
        format!("secret{n}"),
        Some(format!("t{n}")),
    )
}

/// A provider whose fetches hand out `ASIA1`, `ASIA2`, … expiring `lifetime` after `t0`,
/// or fail while `fail` is set; counts fetches.
struct Rig {
    fetches: Arc<AtomicU32>,
    fail: Arc<std::sync::atomic::AtomicBool>,
    provider: CredentialsProvider,
}

fn rig(t0: SystemTime, first_lifetime: Duration, lifetime: Duration) -> Rig {
    let fetches = Arc::new(AtomicU32::new(0));
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let provider = {
        let (fetches, fail) = (Arc::clone(&fetches), Arc::clone(&fail));
        CredentialsProvider::refreshing(
            "test source",
            Expiring {
                credentials: keys(0),
                expires: Some(t0 + first_lifetime),
            },
            Box::new(move || {
                if fail.load(Ordering::SeqCst) {
                    return Err(ConfigError::CredentialSource {
                        source_name: "test source".into(),
                        message: "down".into(),
                    });
                }
                let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Expiring {
                    credentials: keys(n),
                    expires: Some(t0 + lifetime),
                })
            }),
        )
    };
    Rig {
        fetches,
        fail,
        provider,
    }
}

const MIN: Duration = Duration::from_secs(60);

#[test]
fn static_keys_are_handed_out_as_they_are() {
    let p = CredentialsProvider::fixed(keys(7));
    assert!(!p.refreshes());
    assert_eq!(p.get().unwrap().access_key_id, "ASIA7");
    assert!(p.refresh_after_expired(&keys(7)).is_none());
    // Credentials without an expiry from a source that could refresh: static too.
    let p = CredentialsProvider::refreshing(
        "x",
        Expiring {
            credentials: keys(1),
            expires: None,
        },
        Box::new(|| panic!("never fetched")),
    );
    assert!(!p.refreshes());
    assert_eq!(p.get().unwrap().access_key_id, "ASIA1");
}

#[test]
fn refreshed_inside_the_advisory_window_only() {
    let t0 = SystemTime::now();
    let r = rig(t0, 60 * MIN, 120 * MIN);
    // 16 minutes left: used as they are.
    assert_eq!(
        r.provider.get_at(t0 + 44 * MIN).unwrap().access_key_id,
        "ASIA0"
    );
    assert_eq!(r.fetches.load(Ordering::SeqCst), 0);
    // 14 minutes left: refreshed.
    assert_eq!(
        r.provider.get_at(t0 + 46 * MIN).unwrap().access_key_id,
        "ASIA1"
    );
    assert_eq!(r.fetches.load(Ordering::SeqCst), 1);
    // The new ones have long to go.
    assert_eq!(
        r.provider.get_at(t0 + 47 * MIN).unwrap().access_key_id,
        "ASIA1"
    );
    assert_eq!(r.fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_refresh_is_tolerated_until_the_mandatory_window() {
    let t0 = SystemTime::now();
    let r = rig(t0, 60 * MIN, 120 * MIN);
    r.fail.store(true, Ordering::SeqCst);
    // 12 minutes left: the refresh fails, the current ones still serve.
    assert_eq!(
        r.provider.get_at(t0 + 48 * MIN).unwrap().access_key_id,
        "ASIA0"
    );
    // 9 minutes left: no request is signed with them.
    let e = r.provider.get_at(t0 + 51 * MIN).unwrap_err();
    assert!(matches!(e, ConfigError::RefreshFailed { .. }), "{e}");
    assert!(e.to_string().contains("test source"), "{e}");
    r.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        r.provider.get_at(t0 + 51 * MIN).unwrap().access_key_id,
        "ASIA1"
    );
}

#[test]
fn expired_token_refreshes_once_per_set_of_credentials() {
    let t0 = SystemTime::now();
    let r = rig(t0, 60 * MIN, 120 * MIN);
    let used = r.provider.get().unwrap();
    let fresh = r.provider.refresh_after_expired(&used).unwrap().unwrap();
    assert_eq!(fresh.access_key_id, "ASIA1");
    // Another thread that signed with the old ones gets the new ones, no second fetch.
    let again = r.provider.refresh_after_expired(&used).unwrap().unwrap();
    assert_eq!(again.access_key_id, "ASIA1");
    assert_eq!(r.fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn threads_share_one_refresh() {
    let t0 = SystemTime::now();
    let r = rig(t0, 5 * MIN, 120 * MIN);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                assert_eq!(r.provider.get().unwrap().access_key_id, "ASIA1");
            });
        }
    });
    assert_eq!(r.fetches.load(Ordering::SeqCst), 1);
}

#[test]
fn debug_hides_secrets() {
    let t0 = SystemTime::now();
    let r = rig(t0, 60 * MIN, 120 * MIN);
    let text = format!("{:?} {:?}", r.provider, CredentialsProvider::fixed(keys(3)));
    assert!(
        !text.contains("secret0") && !text.contains("secret3"),
        "{text}"
    );
    assert!(!text.contains("t0\"") && text.contains("ASIA0"), "{text}");
}
