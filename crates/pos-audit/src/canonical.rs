//! RFC 8785 (JSON Canonicalization Scheme) for the values audit entries hold.
//!
//! Entries carry no floating-point numbers, so numbers are integers of at most 2^53 − 1 in
//! magnitude (the range every JSON implementation reads exactly), written in plain decimal, which
//! is what RFC 8785's ECMAScript number rule gives for them. Anything else is refused rather than
//! encoded in a way an auditor's tool would not reproduce.

use serde_json::Value;

/// The largest integer every JSON implementation represents exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("audit entries hold integers of at most 2^53 - 1 in magnitude, not {0}")]
    Number(String),
}

/// The canonical text of `value`.
pub fn to_canonical(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let ok = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                (None, Some(u)) => u <= MAX_SAFE_INTEGER,
                _ => false,
            };
            if !ok {
                return Err(CanonicalError::Number(n.to_string()));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Members sorted by the UTF-16 code units of their names (RFC 8785 §3.2.3).
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Strings as ECMAScript's JSON.stringify writes them: only `"`, `\` and control characters
/// below U+0020 are escaped, with the short forms where they exist.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_sorted_by_utf16_and_strings_escaped_minimally() {
        let v = json!({"b": 1, "a": [true, null, "x\u{1}\n\"/é€"], "\u{e000}": 1, "\u{1f600}": 2, "": -9007199254740991i64});
        // U+1F600 is a surrogate pair (D83D …), which sorts before U+E000 in UTF-16.
        assert_eq!(
            to_canonical(&v).unwrap(),
            "{\"\":-9007199254740991,\"a\":[true,null,\"x\\u0001\\n\\\"/é€\"],\"b\":1,\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn unsafe_numbers_are_refused() {
        assert!(to_canonical(&json!(9007199254740992u64)).is_err());
        assert!(to_canonical(&json!(1.5)).is_err());
    }
}
