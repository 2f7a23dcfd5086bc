use super::*;
use crate::logs::line::{JsonFields, parse};

fn line(text: &str) -> Parsed {
    parse(text.as_bytes(), false, &JsonFields::default())
}

fn shown_texts(b: &LogBuffer) -> Vec<String> {
    (0..b.shown_len()).filter_map(|i| b.shown(i)).map(|e| e.line.text.to_string()).collect()
}

#[test]
fn the_ring_keeps_the_newest_and_counts_drops_per_source() {
    let mut b = LogBuffer::new(2, 3);
    for (src, t) in [(0, "a"), (1, "b"), (0, "c"), (0, "d"), (1, "e")] {
        b.push(src, line(t), false);
    }
    assert_eq!(shown_texts(&b), ["c", "d", "e"]);
    assert_eq!((b.dropped(0), b.dropped(1), b.dropped_total()), (1, 1, 2));
    assert_eq!(b.get(0), None, "evicted");
    assert_eq!(b.get(4).map(|e| &*e.line.text), Some("e"));
}

#[test]
fn filters_by_substring_regex_inversion_level_source_and_field() {
    let mut b = LogBuffer::new(2, 100);
    b.push(0, line("2026-11-22T03:00:00Z INFO started api"), false);
    b.push(0, line("2026-11-22T03:00:01Z ERROR db timeout after 5s"), false);
    b.push(0, line("    at db.connect(db.rs:42)"), true);
    b.push(1, line(r#"{"level":"warn","msg":"slow request","service_name":"api"}"#), false);
    b.push(1, line(r#"{"level":"info","msg":"ok","service_name":"web"}"#), false);
    let f = |typed: &str| {
        let mut b2 = LogBuffer::new(2, 100);
        for i in 0..b.len() {
            let e = b.shown(i).expect("all shown").clone();
            b2.push(e.source, e.line, e.continuation);
        }
        b2.set_filter(Filter::parse(typed).expect("filter"));
        shown_texts(&b2)
    };
    assert_eq!(f("TIMEOUT").len(), 1, "substring is case-insensitive");
    assert_eq!(f("/db\\.(connect|rs)/"), ["    at db.connect(db.rs:42)"]);
    assert_eq!(f("!db").len(), 3);
    assert_eq!(f("service_name=api"), ["slow request"]);
    assert!(Filter::parse("/[/").is_err());

    b.set_filter(Filter { min_level: Some(Level::Warn), ..Filter::default() });
    // The stack trace line keeps its record's level (ERROR), so it stays.
    assert_eq!(shown_texts(&b).len(), 3, "{:?}", shown_texts(&b));
    b.set_filter(Filter { source: Some(1), ..Filter::default() });
    assert_eq!(shown_texts(&b), ["slow request", "ok"]);
}

#[test]
fn new_lines_are_matched_as_they_arrive_and_search_walks_the_shown_lines() {
    let mut b = LogBuffer::new(1, 100);
    b.set_filter(Filter::parse("err").expect("filter"));
    for t in ["ok 1", "error 1", "ok 2", "error 2", "error 3"] {
        b.push(0, line(t), false);
    }
    assert_eq!(shown_texts(&b), ["error 1", "error 2", "error 3"]);
    let re = search_pattern("2").expect("search");
    assert_eq!(b.find(&re, 0, true), Some(1));
    assert_eq!(b.find(&re, 1, true), None);
    assert_eq!(b.find(&re, 2, false), Some(1));
    assert_eq!(b.shown_position(3), Some(1));
}
