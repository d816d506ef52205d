//! Field access on an event (a `serde_json::Value`) without copying it.
//!
//! A dotted name reaches into nested objects (`userIdentity.type`); a key that itself
//! holds dots wins over nesting (`{"a.b": 1}` answers `a.b`). Arrays met on the way, and
//! an array at the end, are searched element by element.

use std::io::Write as _;

use serde_json::Value;

/// Calls `f` on every value found at `path` in `value` until it returns `true`.
/// An empty `path` is `value` itself (an array: each element).
pub fn any_value(value: &Value, path: &str, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_value(item, path, f)),
        Value::Object(map) => {
            if path.is_empty() {
                return f(value);
            }
            if let Some(v) = map.get(path)
                && any_value(v, "", f)
            {
                return true;
            }
            for (i, _) in path.match_indices('.') {
                if let Some(v) = map.get(&path[..i])
                    && any_value(v, &path[i + 1..], f)
                {
                    return true;
                }
            }
            false
        }
        _ => path.is_empty() && f(value),
    }
}

/// Whether `path` holds anything (`null` included; an empty array holds nothing).
pub fn exists(event: &Value, path: &str) -> bool {
    any_value(event, path, &mut |_| true)
}

/// Calls `f` on every scalar anywhere in `value` (keyword searches).
pub fn any_scalar(value: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| any_scalar(v, f)),
        Value::Object(map) => map.values().any(|v| any_scalar(v, f)),
        _ => f(value),
    }
}

/// A scalar as text, written into `buf` for numbers and booleans: no allocation.
/// `None` for `null`, objects and arrays.
pub fn text<'v>(value: &'v Value, buf: &'v mut [u8; 64]) -> Option<&'v str> {
    match value {
        Value::String(s) => Some(s),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        Value::Number(n) => {
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            write!(cursor, "{n}").ok()?;
            let len = usize::try_from(cursor.position()).ok()?;
            std::str::from_utf8(&buf[..len]).ok()
        }
        _ => None,
    }
}

/// A scalar as a number: numbers, and strings that parse as one.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(v: &Value, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        any_value(v, path, &mut |x| {
            out.push(x.clone());
            false
        });
        out
    }

    #[test]
    fn dotted_names_reach_into_objects_and_through_arrays() {
        let ev = json!({"a": {"items": [{"c": "x"}, {"c": ["y", "z"]}]}, "d.e": 1, "d": {"e": 2}});
        assert_eq!(all(&ev, "a.items.c"), [json!("x"), json!("y"), json!("z")]);
        assert_eq!(all(&ev, "d.e"), [json!(1), json!(2)]);
        assert!(all(&ev, "a.missing").is_empty());
        assert!(exists(&ev, "a.items"));
        let mut buf = [0u8; 64];
        assert_eq!(text(&json!(4.5), &mut buf), Some("4.5"));
        assert_eq!(text(&json!(true), &mut buf), Some("true"));
        assert_eq!(text(&Value::Null, &mut buf), None);
    }
}
