//! RFC 3339 UTC timestamps (`2026-11-24T15:56:13Z`) without a date library: the wire and the store
//! carry them as text, which sorts chronologically.

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Parses an RFC 3339 timestamp (any offset, optional fraction) to unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) as i64 || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    // Byte checks only: no slicing that could land inside a multi-byte character.
    let r = rest.as_bytes();
    let digit = |i: usize| r.get(i).filter(|c| c.is_ascii_digit()).map(|c| (c - b'0') as i64);
    let offset = match r {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (digit(1)? * 10 + digit(2)?, digit(4)? * 10 + digit(5)?);
            if oh > 23 || om > 59 {
                return None;
            }
            (if *sign == b'-' { -1 } else { 1 }) * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// "just now", "5 minutes ago", "3 days ago", "in 2 hours" for `then` seen from `now` (unix seconds).
pub fn relative(then: i64, now: i64) -> String {
    let delta = now - then;
    let (future, secs) = (delta < 0, delta.unsigned_abs());
    if secs < 45 {
        return "just now".into();
    }
    let (n, unit) = match secs {
        s if s < 3_600 => ((s + 30) / 60, "minute"),
        s if s < 86_400 => ((s + 1_800) / 3_600, "hour"),
        s if s < 30 * 86_400 => ((s + 43_200) / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let n = n.max(1);
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        for secs in [0, 951_782_400, 1_795_536_973, -86_400, 4_102_444_799] {
            let s = format_rfc3339(secs);
            assert_eq!(parse_rfc3339(&s), Some(secs), "{s}");
        }
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let base = parse_rfc3339("2026-11-24T15:56:13Z").unwrap();
        assert_eq!(parse_rfc3339("2026-11-24T15:56:13.123Z"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-24T16:56:13+01:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-24T10:26:13-05:30"), Some(base));
    }

    #[test]
    fn total_on_awkward_input() {
        // Never panics, whatever the bytes (a multi-byte character where the offset is expected
        // used to slice inside it), and whatever parses formats back to the same instant.
        for s in awkward_strings(0x5eed, 50_000).iter().map(String::as_str).chain(["2026-11-24T16:03:00+é:00", "2026-11-24T16:03:00+01:é0", "2026-11-24T16:03:00€0:00"]) {
            if let Some(t) = parse_rfc3339(s) {
                assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t), "{s:?}");
            }
        }
        assert_eq!(parse_rfc3339("2026-11-24T16:03:00+é:00"), None);
        assert_eq!(parse_rfc3339("2026-11-24T16:03:00+24:00"), None);
        assert_eq!(parse_rfc3339("2026-11-24T16:03:00+05:30"), parse_rfc3339("2026-11-24T10:33:00Z"));
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "2026-11-24", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-24T25:00:00Z", "2026-11-24T15:56:13", "yesterday at noon!!"] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn relative_times() {
        let now = 1_000_000_000;
        assert_eq!(relative(now - 10, now), "just now");
        assert_eq!(relative(now - 60, now), "1 minute ago");
        assert_eq!(relative(now - 5 * 60, now), "5 minutes ago");
        assert_eq!(relative(now - 3 * 3600, now), "3 hours ago");
        assert_eq!(relative(now - 3 * 86_400, now), "3 days ago");
        assert_eq!(relative(now - 90 * 86_400, now), "3 months ago");
        assert_eq!(relative(now + 2 * 3600, now), "in 2 hours");
    }
}

/// A deterministic stream of awkward strings: RFC 3339 look-alikes with ASCII and multi-byte
/// characters in every position (for property tests, natively and in the browser).
pub fn awkward_strings(seed: u64, count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "2026", "-", "11", "24", "T", "t", " ", "16", ":", "03", "00", "Z", "z", "+", "01", "05:30", ".", "123", "é", "€", "𝄞",
        "ß", "\u{0}", "9", "60", "99", "+é:0", "-0é:0", "+01:€", "", "::", "T16:03:00", "2026-02-29", "2024-02-29",
    ];
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count)
        .map(|_| {
            let n = (next() % 12) as usize;
            let mut s = String::new();
            if next() % 2 == 0 {
                s.push_str("2026-11-24T16:03:00");
            }
            for _ in 0..n {
                s.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            s
        })
        .collect()
}
