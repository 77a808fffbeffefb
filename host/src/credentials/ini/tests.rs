use super::*;

fn entries(ini: &Ini) -> Vec<(String, String, String)> {
    ini.sections()
        .iter()
        .flat_map(|s| {
            s.entries()
                .iter()
                .map(|e| (s.name().to_string(), e.key.clone(), e.value.clone()))
        })
        .collect()
}

fn t(s: &str, k: &str, v: &str) -> (String, String, String) {
    (s.into(), k.into(), v.into())
}

#[test]
fn ini_basics() {
    let text = "\u{feff}# top comment\r\n; another\r\n\r\n[default]\r\nregion=us-east-1\r\n[ spaced name ]  # c\n\
                \tindented_first = yes\nkey : colon value\nempty =\nurl = http://h:1/x=y\n";
    let ini = parse_ini(text).unwrap();
    assert_eq!(
        entries(&ini),
        vec![
            t("default", "region", "us-east-1"),
            t("spaced name", "indented_first", "yes"),
            t("spaced name", "key", "colon value"),
            t("spaced name", "empty", ""),
            t("spaced name", "url", "http://h:1/x=y"),
        ]
    );
    assert_eq!(ini.sections()[1].line(), 6);
    assert_eq!(ini.sections()[1].entries()[0].line, 7);
    assert_eq!(ini.get("default", "REGION"), Some("us-east-1"));
    assert_eq!(ini.get("default", "nope"), None);
    assert_eq!(ini.get("nope", "region"), None);
    assert_eq!(parse_ini("").unwrap(), Ini::default());
    assert_eq!(parse_ini("\n\n# only comments\n").unwrap(), Ini::default());
}

#[test]
fn ini_comments_and_values() {
    let ini = parse_ini(
        "[s]\na = v # comment\nb = v ; comment\nc = v#not-comment\nd = #starts-with-hash\n\
         e = base64+/==\nf = a = b\ng = \"quoted\"\n# x = commented\n",
    )
    .unwrap();
    assert_eq!(
        entries(&ini),
        vec![
            t("s", "a", "v"),
            t("s", "b", "v"),
            t("s", "c", "v#not-comment"),
            t("s", "d", "#starts-with-hash"),
            t("s", "e", "base64+/=="),
            t("s", "f", "a = b"),
            t("s", "g", "\"quoted\""),
        ]
    );
}

#[test]
fn ini_continuation_lines() {
    let ini = parse_ini(
        "[profile dev]\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path # c\nregion = us-west-2\n\n  lone = indented after blank\n",
    )
    .unwrap();
    assert_eq!(
        entries(&ini),
        vec![
            t(
                "profile dev",
                "s3",
                "\nmax_concurrent_requests = 20\naddressing_style = path"
            ),
            t("profile dev", "region", "us-west-2"),
            t("profile dev", "lone", "indented after blank"),
        ]
    );
    // An indented line right after a header is an ordinary entry.
    let ini = parse_ini("[a]\n  k = v\n").unwrap();
    assert_eq!(ini.get("a", "k"), Some("v"));
}

#[test]
fn ini_errors() {
    let cases = [
        ("key = value\n", 1, IniErrorKind::EntryOutsideSection),
        ("  indented = x\n", 1, IniErrorKind::EntryOutsideSection),
        ("[a]\njust words\n", 2, IniErrorKind::MissingDelimiter),
        ("[a]\n= v\n", 2, IniErrorKind::EmptyKey),
        ("[a]\n : v\n", 2, IniErrorKind::EmptyKey),
        ("\n\n[unclosed\n", 3, IniErrorKind::UnclosedSectionHeader),
        ("[]\n", 1, IniErrorKind::EmptySectionName),
        ("[  ]\n", 1, IniErrorKind::EmptySectionName),
        ("[a] b\n", 1, IniErrorKind::TrailingCharacters),
        ("[a]]\n", 1, IniErrorKind::TrailingCharacters),
        ("[a]\r\nk\r\n", 2, IniErrorKind::MissingDelimiter),
    ];
    for (text, line, kind) in cases {
        assert_eq!(parse_ini(text), Err(IniError { line, kind }), "{text:?}");
    }
}

/// Arbitrary input never panics: every prefix of a tricky text, plus all short strings
/// over a small alphabet of the characters the parser cares about.
#[test]
fn ini_never_panics() {
    let tricky =
        "\u{feff}[a]\r\n k=v # c\n\t;x\n[ b ]  ; c\n=\n:\n[\n]\n[]]\nk\u{0}=\u{1F600}\n\r\r\n";
    for end in (0..=tricky.len()).filter(|&i| tricky.is_char_boundary(i)) {
        let _ = parse_ini(&tricky[..end]);
    }
    let alphabet = [
        '[', ']', '=', ':', '#', ';', ' ', '\t', '\n', '\r', 'k', 'é',
    ];
    let mut buf = String::new();
    fn rec(buf: &mut String, alphabet: &[char], depth: usize) {
        let _ = parse_ini(buf);
        if depth == 0 {
            return;
        }
        for &c in alphabet {
            buf.push(c);
            rec(buf, alphabet, depth - 1);
            buf.pop();
        }
    }
    rec(&mut buf, &alphabet, 5);
}

#[test]
fn strip_inline_comment_rules() {
    assert_eq!(strip_inline_comment("a # b"), "a");
    assert_eq!(strip_inline_comment("a\t;b"), "a");
    assert_eq!(strip_inline_comment("a#b"), "a#b");
    assert_eq!(strip_inline_comment("#a"), "#a");
    assert_eq!(strip_inline_comment(""), "");
    assert_eq!(strip_inline_comment("é #"), "é");
}
