//! Request bodies: JSON, or multipart with `payload_json` and files.

use super::*;

/// The JSON body and files of a request: plain JSON, or multipart with `payload_json` and
/// `files[n]` parts (what serenity sends when there are attachments).
pub(super) fn parse_body(headers: &HeaderMap, body: &[u8]) -> (Value, Vec<PostedFile>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        let boundary = boundary.split(';').next().unwrap_or("").trim_matches('"');
        return parse_multipart(body, boundary);
    }
    if body.is_empty() {
        return (Value::Null, Vec::new());
    }
    (
        serde_json::from_slice(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body))),
        Vec::new(),
    )
}

pub(super) fn parse_multipart(body: &[u8], boundary: &str) -> (Value, Vec<PostedFile>) {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut json_body = Value::Null;
    let mut text_fields = Map::new();
    let mut files = Vec::new();
    for part in split_bytes(body, &delimiter).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break; // the closing delimiter
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let data = &part[split + 4..];
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = header_param(line, "name").unwrap_or_default();
                filename = header_param(line, "filename");
            } else if let Some(value) = lower.strip_prefix("content-type:") {
                content_type = Some(value.trim().to_owned());
            }
        }
        match filename {
            Some(filename) => files.push(PostedFile {
                field: name,
                filename,
                content_type,
                data: data.to_vec(),
            }),
            None if name == "payload_json" => {
                json_body = serde_json::from_slice(data).unwrap_or(Value::Null)
            }
            None => {
                text_fields.insert(name, json!(String::from_utf8_lossy(data)));
            }
        }
    }
    if let Value::Object(map) = &mut json_body {
        for (k, v) in text_fields {
            map.entry(k).or_insert(v);
        }
    } else if !text_fields.is_empty() {
        json_body = Value::Object(text_fields);
    }
    (json_body, files)
}

/// `name="value"` from a header line (quoted or not), not matching `filename=` for `name=`.
pub(super) fn header_param(line: &str, key: &str) -> Option<String> {
    line.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

pub(super) fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn split_bytes<'a>(mut haystack: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find_bytes(haystack, delimiter) {
        parts.push(&haystack[..at]);
        haystack = &haystack[at + delimiter.len()..];
    }
    parts.push(haystack);
    parts
}
