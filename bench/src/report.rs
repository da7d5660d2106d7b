//! Formatting of the Markdown the benchmarks print.

use std::time::Duration;

/// `12 345/s`.
pub fn rate(per_second: f64) -> String {
    format!("{}/s", thousands(per_second.round() as u64))
}

/// `1 234 567` (thin groups, readable in a table).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `0.42 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A phase length: `4 s`, `1.5 s` or `500 ms`.
pub fn span(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// `17 µs`.
pub fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// `57%`.
pub fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "–".into();
    }
    format!("{:.0}%", 100.0 * part / whole)
}

/// `3.2×`.
pub fn times(ratio: f64) -> String {
    format!("{ratio:.1}×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1 000");
        assert_eq!(thousands(1_234_567), "1 234 567");
        assert_eq!(rate(12_345.4), "12 345/s");
    }

    #[test]
    fn phase_lengths_read_naturally() {
        assert_eq!(span(Duration::from_secs(4)), "4 s");
        assert_eq!(span(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(span(Duration::from_millis(5)), "5 ms");
    }

    #[test]
    fn shares_of_nothing_are_a_dash() {
        assert_eq!(percent(1.0, 0.0), "–");
        assert_eq!(percent(1.0, 4.0), "25%");
    }
}
