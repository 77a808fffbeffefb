//! Unit tests of the percent-encoding and byte classes.

use super::*;

#[test]
fn uri_encode_every_byte() {
    for b in 0u8..=127 {
        let s = char::from(b).to_string();
        let e = uri_encode(&s);
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            assert_eq!(e, s);
        } else {
            assert_eq!(e, format!("%{b:02X}"));
        }
    }
    assert_eq!(uri_encode("é"), "%C3%A9");
}

#[test]
fn percent_decode_is_strict_about_escapes() {
    assert_eq!(percent_decode(""), Some(Vec::new()));
    assert_eq!(percent_decode("a%2Fb%20c").as_deref(), Some(&b"a/b c"[..]));
    assert_eq!(percent_decode("%ff%00").as_deref(), Some(&[0xff, 0][..]));
    assert_eq!(percent_decode("+%2B").as_deref(), Some(&b"++"[..]));
    for bad in ["%", "%4", "a%zz", "%G0", "%%41", "%-1"] {
        assert_eq!(percent_decode(bad), None, "{bad:?}");
    }
    for b in 0u8..=255 {
        assert_eq!(percent_decode(&format!("%{b:02x}")), Some(vec![b]));
        assert_eq!(percent_decode(&format!("%{b:02X}")), Some(vec![b]));
    }
}

#[test]
fn tchar_is_the_rfc_9110_set() {
    let tchars: Vec<u8> = (0u8..=255).filter(|&b| is_tchar(b)).collect();
    let mut want: Vec<u8> = b"!#$%&'*+-.^_`|~".to_vec();
    want.extend(b'0'..=b'9');
    want.extend(b'A'..=b'Z');
    want.extend(b'a'..=b'z');
    want.sort_unstable();
    assert_eq!(tchars, want);
}

#[test]
fn wire_checks() {
    assert_eq!(check_wire("a%20b:@", is_pchar), Ok(()));
    assert!(check_wire("/a%2", |_| true).is_err());
    assert!(check_wire("a b", is_pchar).is_err());
}
