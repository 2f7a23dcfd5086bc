//! The Logs tab's line reader: level and time detection, JSON lines, and
//! multi-line records. Sanitizing is in logs_sanitize.rs.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use opsdeck::logs::line::{
    JsonFields, Level, continues_record, detect_level, from_syslog_priority, parse, parse_time_in,
};

// ---- levels -----------------------------------------------------------------

#[test]
fn levels_are_ordered_and_named() {
    assert!(Level::Trace < Level::Debug && Level::Debug < Level::Info && Level::Info < Level::Notice);
    assert!(Level::Notice < Level::Warn && Level::Warn < Level::Error && Level::Error < Level::Critical);
    for level in Level::ALL {
        assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        assert_eq!(level.label().len(), 3);
    }
    assert_eq!("WARNING".parse::<Level>(), Ok(Level::Warn));
    assert_eq!(" fatal ".parse::<Level>(), Ok(Level::Critical));
    assert!("loud".parse::<Level>().is_err());
}

#[test]
fn syslog_priorities_map_to_levels() {
    let expected = [
        Level::Critical,
        Level::Critical,
        Level::Critical,
        Level::Error,
        Level::Warn,
        Level::Notice,
        Level::Info,
        Level::Debug,
    ];
    for (priority, level) in expected.into_iter().enumerate() {
        assert_eq!(from_syslog_priority(priority as u8), level, "priority {priority}");
    }
    assert_eq!(from_syslog_priority(3 * 8 + 3), Level::Error, "a whole PRI: daemon.err");
}

#[test]
fn text_level_detection_table() {
    let cases: &[(&str, Option<Level>)] = &[
        // Bracketed, keyed, prefixed.
        ("[ERROR] disk full", Some(Level::Error)),
        ("[warn] slow query", Some(Level::Warn)),
        ("ERROR: connection refused", Some(Level::Error)),
        ("ERROR:root:boom", Some(Level::Error)),
        ("error: could not open file", Some(Level::Error)),
        // Any case at the start of a line: .NET's `info:`, Node's `Error:`.
        ("info: Microsoft.Hosting.Lifetime[0]", Some(Level::Info)),
        ("Information about I/O was printed", Some(Level::Info)),
        ("time=2026-11-22T03:04:05Z level=error msg=\"x\"", Some(Level::Error)),
        ("ts=1 lvl=dbg msg=ok", Some(Level::Debug)),
        ("level=WARNING user=bob", Some(Level::Warn)),
        ("severity=3 msg=x", Some(Level::Error)),
        (r#"{"level":"critical","msg":"cut"#, Some(Level::Critical)),
        // Timestamped formats.
        ("2026-11-22T03:04:05.123Z INFO  opsdeck::app: started", Some(Level::Info)),
        ("2026-11-22 03:04:05,123 - WARNING - low disk", Some(Level::Warn)),
        ("2026-11-22T03:04:05.123Z    error    main.go:12    failed", Some(Level::Error)),
        ("[2026-11-22T03:04:05Z DEBUG hyper::proto] parsed", Some(Level::Debug)),
        ("2026-11-22 03:04:05,123 [http-nio-8080-exec-10] ERROR c.e.Controller - boom", Some(Level::Error)),
        ("2026/11/22 03:04:05 [crit] 123#0: *1 SSL_do_handshake() failed", Some(Level::Critical)),
        ("2026/11/22 03:04:05 [notice] 1#1: signal process started", Some(Level::Notice)),
        ("[Sun Nov 22 03:04:05.123 2026] [core:error] [pid 12] AH00037", Some(Level::Error)),
        ("Nov 22 03:04:05 host sshd[812]: error: PAM: auth failure", Some(Level::Error)),
        ("2026-11-22 03:04:05 EMERG kernel panic", Some(Level::Critical)),
        ("2026-11-22 03:04:05 ALERT raid degraded", Some(Level::Critical)),
        ("2026-11-22 03:04:05 FATAL out of memory", Some(Level::Critical)),
        ("2026-11-22 03:04:05 SEVERE: servlet failed", Some(Level::Error)),
        ("2026-11-22 03:04:05 WRN retry", Some(Level::Warn)),
        ("2026-11-22 03:04:05 INF ready", Some(Level::Info)),
        ("2026-11-22 03:04:05 TRACE enter", Some(Level::Trace)),
        // Abbreviations.
        ("11-22 03:04:05.123  1234  5678 E ActivityManager: ANR", Some(Level::Error)),
        ("03:04:05 W low battery", Some(Level::Warn)),
        ("[E] failed", Some(Level::Error)),
        ("E1122 03:04:05.123456    12 server.go:42] listen failed", Some(Level::Error)),
        ("W1122 03:04:05.123456    12 server.go:42] slow", Some(Level::Warn)),
        ("I1122 03:04:05.123456    12 server.go:42] ok", Some(Level::Info)),
        ("F1122 03:04:05.123456    12 server.go:42] dead", Some(Level::Critical)),
        // Syslog priority prefix.
        ("<3>kernel: oops", Some(Level::Error)),
        ("<30>1 2026-11-22T03:04:05Z host app - - - started", Some(Level::Info)),
        ("<12>warning from the daemon facility", Some(Level::Warn)),
        // The first level-looking token wins; an explicit key beats it.
        ("INFO retrying after error: timeout", Some(Level::Info)),
        ("WARN disk at 91% ERROR threshold next", Some(Level::Warn)),
        ("ERROR in handler level=info", Some(Level::Info)),
        // Not levels.
        ("GET /index.html 200 errors=0", None),
        ("error_count=3 ok", None),
        ("error=timeout retrying", None),
        ("2026-11-22 03:04:05 request done, the error was handled", None),
        ("I think this is fine", None),
        ("Debugging session opened", None),
        ("a note on Warning signs", None),
        ("informational message", None),
        ("plain text without anything", None),
        ("all FINE here", Some(Level::Debug)),
        ("", None),
    ];
    for (line, expected) in cases {
        assert_eq!(detect_level(line), *expected, "{line:?}");
    }
}

#[test]
fn level_words_beyond_the_window_are_message_text() {
    let line = format!("{} ERROR late", "x".repeat(opsdeck::logs::line::LEVEL_WINDOW));
    assert_eq!(detect_level(&line), None);
    let line = format!("{} ERROR early", "x".repeat(40));
    assert_eq!(detect_level(&line), Some(Level::Error));
}

#[test]
fn ansi_coloured_levels_are_detected_after_sanitizing() {
    let parsed = parse(b"2026-11-22 03:04:05 \x1b[1;31mERROR\x1b[0m boom", false, &JsonFields::default());
    assert_eq!(&*parsed.text, "2026-11-22 03:04:05 ERROR boom");
    assert_eq!(parsed.level, Some(Level::Error));
}

// ---- JSON lines -------------------------------------------------------------

fn json(line: &str) -> opsdeck::logs::line::Parsed {
    let parsed = parse(line.as_bytes(), false, &JsonFields::default());
    assert!(parsed.is_json(), "{line} was not read as JSON");
    parsed
}

#[test]
fn json_levels_in_every_form() {
    let cases: &[(&str, Option<Level>)] = &[
        (r#"{"level":"error","msg":"x"}"#, Some(Level::Error)),
        (r#"{"level":"WARNING","msg":"x"}"#, Some(Level::Warn)),
        (r#"{"severity":"ERROR","message":"x"}"#, Some(Level::Error)),
        (r#"{"severity":"Information","message":"x"}"#, Some(Level::Info)),
        (r#"{"lvl":"dbg","msg":"x"}"#, Some(Level::Debug)),
        (r#"{"level":50,"msg":"pino"}"#, Some(Level::Error)),
        (r#"{"level":30,"msg":"pino"}"#, Some(Level::Info)),
        (r#"{"level":60,"msg":"pino"}"#, Some(Level::Critical)),
        (r#"{"level":4,"msg":"gelf"}"#, Some(Level::Warn)),
        (r#"{"level":"3","msg":"string number"}"#, Some(Level::Error)),
        (r#"{"level":40.0,"msg":"float"}"#, Some(Level::Warn)),
        (r#"{"log.level":"warn","message":"ecs"}"#, Some(Level::Warn)),
        (r#"{"log":{"level":"error","logger":"x"},"message":"nested ecs"}"#, Some(Level::Error)),
        (r#"{"level":true,"msg":"ERROR from the message"}"#, Some(Level::Error)),
        (r#"{"level":{"name":"error"},"msg":"object level"}"#, None),
        (r#"{"level":null,"msg":"x"}"#, None),
        (r#"{"log":"ERROR boom\n","stream":"stderr","time":"2026-11-22T03:04:05.1Z"}"#, Some(Level::Error)),
        (r#"{"level":"loud","msg":"x"}"#, None),
    ];
    for (line, expected) in cases {
        assert_eq!(json(line).level, *expected, "{line}");
    }
}

#[test]
fn json_fields_keep_order_and_compact_nested_values() {
    let parsed = json(
        r#"{"timestamp":"2026-11-22T03:04:05.123+08:00","level":"info","service_name":"api","trace_id":"4bf92f3577b34da6","msg":"GET /users","http":{"status":200,"path":"/users","tags":["a","b"]},"ok":true,"n":null,"dur":0.25}"#,
    );
    assert_eq!(&*parsed.text, "GET /users");
    assert_eq!(parsed.level, Some(Level::Info));
    assert_eq!(parsed.service(), Some("api"));
    assert_eq!(parsed.trace_id(), Some("4bf92f3577b34da6"));
    assert_eq!(parsed.time, Some("2026-11-21T19:04:05.123Z".parse().expect("time")));
    let keys: Vec<&str> = parsed.fields().iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["timestamp", "level", "service_name", "trace_id", "msg", "http", "ok", "n", "dur"]);
    let field =
        |name: &str| parsed.fields().iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let http = field("http").expect("http field");
    assert!(http.starts_with('{') && !http.contains('\n') && http.contains(r#""tags":["a","b"]"#), "{http}");
    assert_eq!(field("ok"), Some("true"));
    assert_eq!(field("n"), Some("null"));
    assert_eq!(field("dur"), Some("0.25"));
    assert_eq!(field("service_name"), Some("api"));
}

#[test]
fn json_without_a_message_shows_the_line() {
    let parsed = json(r#"  {"level":"warn","event":"disk"}  "#);
    assert_eq!(&*parsed.text, r#"{"level":"warn","event":"disk"}"#);
    assert_eq!(parsed.level, Some(Level::Warn));
    let parsed = json(r#"{"message":{"code":7},"level":"info"}"#);
    assert_eq!(&*parsed.text, r#"{"code":7}"#);
}

#[test]
fn json_field_names_are_configurable() {
    let names = JsonFields {
        level: vec!["sev".into()],
        message: vec!["text".into()],
        time: vec!["at".into()],
        service: vec!["app".into()],
        trace_id: vec!["tid".into()],
    };
    let line = br#"{"sev":"crit","text":"hello","at":1732244645,"app":"billing","tid":"t-1","level":"info"}"#;
    let parsed = parse(line, false, &names);
    assert_eq!(parsed.level, Some(Level::Critical));
    assert_eq!(&*parsed.text, "hello");
    assert_eq!(parsed.time, Some(Timestamp::from_second(1_732_244_645).expect("time")));
    assert_eq!(parsed.service(), Some("billing"));
    assert_eq!(parsed.trace_id(), Some("t-1"));
}

#[test]
fn json_epoch_times_in_every_unit() {
    let second = Timestamp::from_second(1_732_244_645).expect("time");
    let cases: &[(&str, Timestamp)] = &[
        (r#"{"ts":1732244645,"msg":"s"}"#, second),
        (r#"{"ts":1732244645.5,"msg":"zap"}"#, Timestamp::from_millisecond(1_732_244_645_500).expect("ms")),
        (
            r#"{"time":1732244645123,"msg":"pino"}"#,
            Timestamp::from_millisecond(1_732_244_645_123).expect("ms"),
        ),
        (
            r#"{"ts":1732244645123456,"msg":"us"}"#,
            Timestamp::from_microsecond(1_732_244_645_123_456).expect("us"),
        ),
        (
            r#"{"ts":1732244645123456789,"msg":"ns"}"#,
            Timestamp::from_nanosecond(1_732_244_645_123_456_789).expect("ns"),
        ),
        (r#"{"ts":"1732244645","msg":"string"}"#, second),
        (r#"{"@timestamp":"2024-11-22T03:04:05Z","msg":"iso"}"#, second),
    ];
    for (line, expected) in cases {
        assert_eq!(json(line).time, Some(*expected), "{line}");
    }
    assert_eq!(json(r#"{"ts":"yesterday","msg":"x"}"#).time, None);
}

#[test]
fn non_objects_and_broken_json_are_text() {
    let names = JsonFields::default();
    for line in [r#"["level","error"]"#, r#"{"level":"error",}"#, r#"{not json}"#, "42"] {
        let parsed = parse(line.as_bytes(), false, &names);
        assert!(!parsed.is_json(), "{line}");
        assert_eq!(&*parsed.text, line);
        assert!(parsed.fields().is_empty());
    }
}

#[test]
fn a_truncated_json_line_falls_back_to_text() {
    let full = br#"{"level":"error","msg":"payload too large","body":"AAAA}"#;
    let parsed = parse(full, true, &JsonFields::default());
    assert!(!parsed.is_json());
    assert!(parsed.truncated);
    assert_eq!(parsed.text.as_bytes(), full);
    assert_eq!(parsed.level, Some(Level::Error), "the level is still found in the text");
    assert!(parsed.fields().is_empty());
}

#[test]
fn json_with_invalid_utf8_is_still_json() {
    let parsed = parse(b"{\"level\":\"warn\",\"msg\":\"bad \xff byte\"}", false, &JsonFields::default());
    assert!(parsed.is_json());
    assert_eq!(&*parsed.text, "bad \u{fffd} byte");
    assert_eq!(parsed.level, Some(Level::Warn));
}

#[test]
fn crlf_and_trailing_newline_are_dropped() {
    let parsed = parse(b"INFO windows line\r\n", false, &JsonFields::default());
    assert_eq!(&*parsed.text, "INFO windows line");
    assert_eq!(parsed.level, Some(Level::Info));
}

// ---- time -------------------------------------------------------------------

#[test]
fn time_parsing_table() {
    let plus8 = TimeZone::fixed(Offset::from_hours(8).expect("offset"));
    let now: Timestamp = "2026-11-23T00:00:00Z".parse().expect("now");
    let at = |text: &str| -> Timestamp { text.parse().expect("expected time") };
    let cases: &[(&str, Option<Timestamp>)] = &[
        ("2026-11-22T03:04:05Z started", Some(at("2026-11-22T03:04:05Z"))),
        ("2026-11-22T03:04:05.123456789Z x", Some(at("2026-11-22T03:04:05.123456789Z"))),
        ("2026-11-22T03:04:05.123+08:00 x", Some(at("2026-11-21T19:04:05.123Z"))),
        ("2026-11-22T03:04:05-0500 x", Some(at("2026-11-22T08:04:05Z"))),
        ("2026-11-22 03:04:05 +0530 x", Some(at("2026-11-21T21:34:05Z"))),
        ("2026-11-22 03:04:05 local", Some(at("2026-11-21T19:04:05Z"))),
        ("2026-11-22 03:04:05.5 local fraction", Some(at("2026-11-21T19:04:05.5Z"))),
        ("2026-11-22 03:04:05,123 - INFO - python", Some(at("2026-11-21T19:04:05.123Z"))),
        ("2026-11-22 03:04:05 - minus is not a zone", Some(at("2026-11-21T19:04:05Z"))),
        ("2026-11-22 03:04:05 Zookeeper up", Some(at("2026-11-21T19:04:05Z"))),
        ("2026/11/22 03:04:05 [error] nginx", Some(at("2026-11-21T19:04:05Z"))),
        ("[2026-11-22T03:04:05Z INFO x]", Some(at("2026-11-22T03:04:05Z"))),
        ("<30>1 2026-11-22T03:04:05.003Z host app", Some(at("2026-11-22T03:04:05.003Z"))),
        ("2016-12-31T23:59:60Z leap", Some(at("2016-12-31T23:59:59Z"))),
        ("Nov 22 03:04:05 host sshd[1]: x", Some(at("2026-11-21T19:04:05Z"))),
        ("Nov  2 03:04:05 host padded day", Some(at("2026-11-01T19:04:05Z"))),
        ("Dec 31 23:59:59 host last year's", Some(at("2025-12-31T15:59:59Z"))),
        ("[Sun Nov 22 03:04:05.123456 2026] [core:error]", Some(at("2026-11-21T19:04:05.123456Z"))),
        ("Thu Nov 20 03:04:05 2025 ctime", Some(at("2025-11-19T19:04:05Z"))),
        // Not times.
        ("2026-13-22 03:04:05 bad month", None),
        ("2026-11-22 message without a clock", None),
        ("20261122 compact", None),
        ("Novel 22 03:04:05", None),
        ("Nov 22 host without clock", None),
        ("INFO no time at all", None),
        ("", None),
    ];
    for (line, expected) in cases {
        assert_eq!(parse_time_in(line, &plus8, now), *expected, "{line:?}");
    }
}

#[test]
fn text_lines_get_their_time() {
    let parsed = parse(b"2026-11-22T03:04:05Z INFO up", false, &JsonFields::default());
    assert_eq!(parsed.time, Some("2026-11-22T03:04:05Z".parse().expect("time")));
    assert_eq!(parse(b"no time", false, &JsonFields::default()).time, None);
}

// ---- multi-line records -----------------------------------------------------

#[test]
fn continuation_lines_table() {
    let continuing = [
        "\tat com.example.Foo.bar(Foo.java:12)",
        "    at Object.<anonymous> (/app/index.js:1:1)",
        "at com.example.Foo.bar(Foo.java:12)",
        "Caused by: java.io.IOException: closed",
        "\t... 12 more",
        "... 12 more",
        "Suppressed: java.lang.Exception: x",
        "Traceback (most recent call last):",
        "  File \"/app/main.py\", line 3, in <module>",
        "File \"/app/main.py\", line 3, in <module>",
        "ValueError: invalid literal for int()",
        "java.lang.IllegalStateException: closed",
        "requests.exceptions.ConnectionError: refused",
        "java.lang.OutOfMemoryError",
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
        "goroutine 1 [running]:",
        "stack backtrace:",
        "--- End of inner exception stack trace ---",
        "",
    ];
    for line in continuing {
        assert!(continues_record(line), "{line:?} should continue the record");
    }
    let starting = [
        "2026-11-22 03:04:05 ERROR boom",
        "ERROR: connection refused",
        "Error: ENOENT: no such file",
        "Exception in thread \"main\" java.lang.NullPointerException",
        "... retrying now",
        "INFO started",
        "Nov 22 03:04:05 host app: hi",
        "{\"level\":\"error\"}",
        "attempt 3 failed",
    ];
    for line in starting {
        assert!(!continues_record(line), "{line:?} should start a record");
    }
}
