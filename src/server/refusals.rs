//! The answers hyper writes by itself, before any handler runs, to requests it cannot parse (a
//! raw `<` or a byte over 0x7F in the path, too many or too large headers, a bad version): hyper
//! sends them with an empty body. This wrapper of the connection recognises such an answer as it
//! is written and sends the vendor's shape instead, `{"detail": "..."}`, so that no refusal of
//! ours is ever an empty body. Everything else passes through untouched.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose parse-error answers get a JSON `detail`.
pub(super) struct Refusals<S> {
    inner: S,
    /// Our answer in place of hyper's, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> Refusals<S> {
    pub(super) fn new(inner: S) -> Self {
        Self { inner, pending: None }
    }
}

/// hyper's own error answer: `HTTP/1.x NNN Reason`, an error status, `connection: close` and
/// `content-length: 0` (our handlers' errors always have a body). Its status, if `head` is one.
fn hypers_refusal(head: &[u8]) -> Option<u16> {
    let rest = head.strip_prefix(b"HTTP/1.1 ").or_else(|| head.strip_prefix(b"HTTP/1.0 "))?;
    let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    // Every bodiless answer of ours passes here: a success is let go before the head is searched.
    if !(400..600).contains(&status) {
        return None;
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let lines = head[..end].to_ascii_lowercase();
    let has = |line: &[u8]| lines.windows(line.len()).any(|w| w == line);
    (has(b"\r\nconnection: close") && has(b"\r\ncontent-length: 0\r"))
        .then_some(status)
        .filter(|_| head.len() == end + 4)
}

/// Our answer for a status hyper refused a request with.
fn answer(status: u16) -> Vec<u8> {
    let (reason, detail) = match status {
        400 => (
            "Bad Request",
            "Bad request: the request line or a header is not valid HTTP (a raw space, '<', '>', '\"' or a byte over 0x7F in the path must be percent-encoded, e.g. %3C for '<').",
        ),
        414 => ("URI Too Long", "The request's URI is too long."),
        431 => ("Request Header Fields Too Large", "The request's headers are too many (at most 100) or too large."),
        505 => ("HTTP Version Not Supported", "The request's HTTP version is not supported: use HTTP/1.1 or HTTP/2."),
        _ => ("Error", "The request could not be read as HTTP."),
    };
    let body = crate::http::error::Detail::json(detail);
    format!(
        "HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<S: AsyncWrite + Unpin> Refusals<S> {
    /// Writes what is left of our answer; ready once it is all out.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Refusals<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Refusals<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(status) = hypers_refusal(buf) {
            self.pending = Some((answer(status), 0));
            std::task::ready!(self.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        // hyper writes a bodiless answer as one buffer.
        if let [only] = bufs
            && let Some(status) = hypers_refusal(only)
        {
            self.pending = Some((answer(status), 0));
            std::task::ready!(self.poll_pending(cx))?;
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bodiless_error_answers_are_recognised() {
        let date = "date: Sun, 29 Nov 2026 07:02:01 GMT\r\n";
        let hyper = |status: &str| format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n{date}\r\n");
        assert_eq!(hypers_refusal(hyper("400 Bad Request").as_bytes()), Some(400));
        assert_eq!(hypers_refusal(hyper("431 Request Header Fields Too Large").as_bytes()), Some(431));
        for ours in [
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".to_owned(),
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 22\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_owned(),
            format!("{}{{}}", hyper("400 Bad Request")),
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0".to_owned(),
        ] {
            assert_eq!(hypers_refusal(ours.as_bytes()), None, "{ours:?}");
        }
    }

    #[test]
    fn our_answer_is_a_json_detail() {
        let answer = String::from_utf8(answer(431)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 ") && head.contains("content-type: application/json"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["detail"].as_str().unwrap().contains("at most 100"), "{json}");
    }
}
