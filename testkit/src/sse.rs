//! One reader of server-sent events for every test and benchmark: feed it
//! the bytes of a `text/event-stream` body as they arrive, take whole
//! events out.

/// One dispatched event (comments and keep-alives are not events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The last `id:` field, if the event had one.
    pub id: Option<String>,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

/// Splits a byte stream into events (the `text/event-stream` rules: lines
/// end with LF, CRLF or CR; an empty line dispatches; `:` starts a comment;
/// one space after the colon is dropped).
#[derive(Debug, Default)]
pub struct EventParser {
    pending: Vec<u8>,
}

impl EventParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `chunk`; returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = block_end(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end.1).collect();
            if let Some(event) = parse_block(&String::from_utf8_lossy(&block[..end.0])) {
                events.push(event);
            }
        }
        events
    }
}

/// (end of the block's text, end of its blank line) of the first complete
/// block in `bytes`.
fn block_end(bytes: &[u8]) -> Option<(usize, usize)> {
    for (i, window) in bytes.windows(2).enumerate() {
        match window {
            [b'\n', b'\n'] | [b'\r', b'\r'] => return Some((i, i + 2)),
            [b'\n', b'\r'] if bytes.get(i + 2) == Some(&b'\n') => return Some((i, i + 3)),
            _ => {}
        }
    }
    None
}

fn parse_block(block: &str) -> Option<Event> {
    let mut id = None;
    let mut data: Option<String> = None;
    for line in block.split(['\n', '\r']).filter(|l| !l.is_empty()) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "" => {} // a comment (keep-alive)
            "id" => id = Some(value.to_string()),
            "data" => match &mut data {
                Some(joined) => {
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {}
        }
    }
    data.map(|data| Event { id, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut parser = EventParser::new();
        assert!(parser.push(b"id: 1\ndata: {\"a\"").is_empty());
        let events = parser.push(b":1}\n\nid:2\ndata: x\n");
        assert_eq!(
            events,
            [Event {
                id: Some("1".into()),
                data: "{\"a\":1}".into()
            }]
        );
        assert_eq!(
            parser.push(b"\n"),
            [Event {
                id: Some("2".into()),
                data: "x".into()
            }]
        );
    }

    #[test]
    fn keep_alive_comments_are_not_events() {
        let mut parser = EventParser::new();
        assert!(parser.push(b":\n\n: keep-alive\n\n").is_empty());
    }

    #[test]
    fn crlf_lines_and_several_data_lines_are_read() {
        let mut parser = EventParser::new();
        let events = parser.push(b"data: a\r\ndata: b\r\n\r\n");
        assert_eq!(
            events,
            [Event {
                id: None,
                data: "a\nb".into()
            }]
        );
    }
}
