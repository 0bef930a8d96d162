//! Just enough HTTP/1.1 for the proxy: read one request, rewrite `Connection` headers.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body accepted.
const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Headers that only concern one connection and are never forwarded.
const HOP_BY_HOP: [&[u8]; 4] = [b"connection", b"keep-alive", b"proxy-connection", b"expect"];

/// One complete request, as received from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The request line and headers, without the blank line that ends them.
    pub(crate) head: Vec<u8>,
    /// Exactly `Content-Length` bytes.
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The bytes to send upstream: same request, but `Connection: close`.
    pub(crate) fn to_upstream_bytes(&self) -> Vec<u8> {
        let mut bytes = with_connection_close(&self.head);
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum RequestError {
    /// The connection failed or closed in the middle of a request.
    Io,
    /// The request is malformed or unsupported; answer with this status and close.
    Reject { status: u16, reason: &'static str, message: &'static str },
}

impl From<std::io::Error> for RequestError {
    fn from(_: std::io::Error) -> Self {
        Self::Io
    }
}

fn reject(status: u16, reason: &'static str, message: &'static str) -> RequestError {
    RequestError::Reject { status, reason, message }
}

/// Reads one full request: the head up to the blank line, then `Content-Length` body bytes.
///
/// Returns `Ok(None)` when the client closes the connection before sending anything.
/// Chunked bodies are rejected with `501`; answers `100 Continue` when the client asks.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Result<Option<Request>, RequestError> {
    let mut buf = Vec::with_capacity(8 * 1024);
    let head_end = loop {
        if let Some(end) = find_head_end(&buf) {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return Err(reject(431, "Request Header Fields Too Large", "request head too large"));
        }
        if stream.read_buf(&mut buf).await? == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    };
    let head = buf[..head_end].to_vec();
    let mut body = buf.split_off(head_end + 4);

    check_request_line(&head)?;
    if header_values(&head, b"transfer-encoding").next().is_some() {
        return Err(reject(501, "Not Implemented", "chunked request bodies are not supported by the test proxy"));
    }
    let length = content_length(&head)?;
    if length > MAX_BODY {
        return Err(reject(413, "Content Too Large", "request body too large"));
    }
    let length = usize::try_from(length).map_err(|_| reject(413, "Content Too Large", "request body too large"))?;

    if body.len() < length && expects_continue(&head) {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while body.len() < length {
        if stream.read_buf(&mut body).await? == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    }
    // Anything after the body would be a pipelined request; the proxy serves one per connection.
    body.truncate(length);
    Ok(Some(Request { head, body }))
}

/// Rewrites a response so the client knows the connection closes after it.
///
/// A response without a complete head is passed on unchanged.
pub(crate) fn close_delimited_response(response: &[u8]) -> Vec<u8> {
    match find_head_end(response) {
        Some(end) => {
            let mut bytes = with_connection_close(&response[..end]);
            bytes.extend_from_slice(&response[end + 4..]);
            bytes
        }
        None => response.to_vec(),
    }
}

/// A complete response with a small JSON body, closing the connection.
///
/// `code` and `message` are put in verbatim: they must not need JSON escaping.
pub(crate) fn json_response(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = format!(r#"{{"code":"{code}","message":"{message}"}}"#);
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/json\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\
         \r\n\
         {body}",
        body.len()
    )
    .into_bytes()
}

/// Position of the `\r\n\r\n` that ends a message head.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|window| window == b"\r\n\r\n")
}

/// The head with hop-by-hop headers removed and `Connection: close` added, ending in a blank line.
fn with_connection_close(head: &[u8]) -> Vec<u8> {
    // Headers named in `Connection` are hop-by-hop too (RFC 9110, section 7.6.1).
    let named: Vec<Vec<u8>> = header_values(head, b"connection")
        .flat_map(|value| value.split(|&b| b == b','))
        .map(|token| token.trim_ascii().to_ascii_lowercase())
        .collect();
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let mut out = Vec::with_capacity(head.len() + 24);
    if let Some(start) = lines.next() {
        out.extend_from_slice(start);
        out.extend_from_slice(b"\r\n");
    }
    for line in lines {
        let name = header_name(line).map(<[u8]>::to_ascii_lowercase);
        let hop = name.is_some_and(|name| HOP_BY_HOP.contains(&name.as_slice()) || named.contains(&name));
        if !hop {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Checks the request line looks like `METHOD TARGET HTTP/1.x`.
fn check_request_line(head: &[u8]) -> Result<(), RequestError> {
    let line = trim_cr(head.split(|&b| b == b'\n').next().unwrap_or_default());
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    match parts.as_slice() {
        [method, target, version] if !method.is_empty() && !target.is_empty() && version.starts_with(b"HTTP/1.") => {
            Ok(())
        }
        _ => Err(reject(400, "Bad Request", "malformed request line")),
    }
}

/// The body length: `0` without a `Content-Length`, an error when it is invalid or ambiguous.
fn content_length(head: &[u8]) -> Result<u64, RequestError> {
    let mut length = None;
    for value in header_values(head, b"content-length") {
        let parsed = std::str::from_utf8(value)
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| reject(400, "Bad Request", "invalid Content-Length"))?;
        if length.is_some_and(|seen| seen != parsed) {
            return Err(reject(400, "Bad Request", "conflicting Content-Length"));
        }
        length = Some(parsed);
    }
    Ok(length.unwrap_or(0))
}

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(head: &[u8]) -> bool {
    header_values(head, b"expect").any(|value| value.eq_ignore_ascii_case(b"100-continue"))
}

/// The trimmed values of every header called `name` (lowercase).
fn header_values<'a>(head: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    head.split(|&b| b == b'\n').skip(1).filter_map(move |line| {
        let line = trim_cr(line);
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon].eq_ignore_ascii_case(name).then(|| line[colon + 1..].trim_ascii())
    })
}

/// The name of a header line, if it has one.
fn header_name(line: &[u8]) -> Option<&[u8]> {
    line.iter().position(|&b| b == b':').map(|colon| &line[..colon])
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn upstream_request_closes_and_drops_hop_by_hop_headers() {
        let request = Request {
            head: b"POST /sync HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Trace\r\n\
                    X-Trace: 1\r\nKeep-Alive: timeout=5\r\nExpect: 100-continue\r\n\
                    Content-Length: 2"
                .to_vec(),
            body: b"{}".to_vec(),
        };
        assert_eq!(
            text(&request.to_upstream_bytes()),
            "POST /sync HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
    }

    #[test]
    fn response_gets_connection_close() {
        let response = b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(
            text(&close_delimited_response(response)),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
        assert_eq!(close_delimited_response(b"garbage"), b"garbage");
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(content_length(b"GET / HTTP/1.1\r\nHost: a").unwrap(), 0);
        assert_eq!(content_length(b"POST / HTTP/1.1\r\ncontent-length: 12").unwrap(), 12);
        assert_eq!(content_length(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3").unwrap(), 3);
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4"[..],
            b"POST / HTTP/1.1\r\nContent-Length: -1",
            b"POST / HTTP/1.1\r\nContent-Length: 1e3",
            b"POST / HTTP/1.1\r\nContent-Length:",
        ] {
            assert!(content_length(bad).is_err(), "{}", text(bad));
        }
    }

    #[test]
    fn request_line_must_be_http_1() {
        assert!(check_request_line(b"GET / HTTP/1.1\r\nHost: a").is_ok());
        assert!(check_request_line(b"GET / HTTP/2").is_err());
        assert!(check_request_line(b"GET /").is_err());
        assert!(check_request_line(b"").is_err());
    }

    #[test]
    fn json_response_is_complete() {
        let response = json_response(503, "Service Unavailable", "unavailable", "injected");
        let expected_body = r#"{"code":"unavailable","message":"injected"}"#;
        assert_eq!(
            text(&response),
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{expected_body}",
                expected_body.len()
            )
        );
    }
}
