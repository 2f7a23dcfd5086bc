//! Multi-line records: which lines belong to the line before them.
//!
//! A stack trace is one event written as many lines; the view keeps those
//! lines with the line that started the record, so a filter that matches
//! the first line shows the trace, and a level colours all of it.

/// Prefixes of a line that continues the previous record. Indented lines
/// are caught before these, so this lists what is written flush left.
const CONTINUATION_PREFIXES: &[&str] = &[
    "at ",                                      // Java/JS frame written unindented
    "Caused by:",                               // Java cause chain
    "Suppressed:",                              // Java suppressed exception
    "Traceback (most recent call last)",        // Python, after logging.exception's line
    "File \"",                                  // Python frame written unindented
    "During handling of the above exception",   // Python chained exception
    "The above exception was the direct cause", // Python `raise … from`
    "goroutine ",                               // Go panic: goroutine dump
    "stack backtrace:",                         // Rust panic backtrace
    "--- End of ",                              // .NET inner exception / stack trace markers
];

/// Exception class names ending a trace (`ValueError: bad`,
/// `java.lang.IllegalStateException: closed`) continue the record too.
const EXCEPTION_SUFFIXES: &[&str] = &["Error", "Exception", "Throwable"];

/// Whether this line continues the previous line's record rather than
/// starting one: it is empty, starts with whitespace, starts with one of the
/// stack-trace markers above or `... N more`, or is an exception class line (a dotted
/// identifier ending in `Error`/`Exception`/`Throwable`, longer than the
/// suffix alone, followed by `:` or the end of the line).
///
/// The feeder stores a continuation under its record's first line and
/// passes on that line's level; a line that starts with a timestamp is
/// never a continuation (it matches none of these).
pub fn continues_record(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return true;
    };
    if first.is_whitespace() {
        return true;
    }
    CONTINUATION_PREFIXES.iter().any(|prefix| text.starts_with(prefix))
        || is_frames_omitted(text)
        || is_exception_line(text)
}

/// Java's `... 12 more` (frames shared with the enclosing trace).
fn is_frames_omitted(text: &str) -> bool {
    text.strip_prefix("... ")
        .and_then(|rest| rest.strip_suffix(" more"))
        .is_some_and(|count| !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()))
}

fn is_exception_line(text: &str) -> bool {
    let head = text.split_once(':').map_or(text, |(head, _)| head);
    let identifier = head.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
        && !head.is_empty();
    identifier
        && EXCEPTION_SUFFIXES.iter().any(|suffix| head.len() > suffix.len() && head.ends_with(suffix))
        && head.as_bytes()[0].is_ascii_alphabetic()
}
