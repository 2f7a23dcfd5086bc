//! The Logs tab's line reader: sanitizing hostile content, level and time
//! detection, JSON lines, and multi-line records.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use opsdeck::logs::line::{
    JsonFields, Level, continues_record, detect_level, from_syslog_priority, parse, parse_time_in, sanitize,
    sanitize_str,
};

/// Whether a character could act on a terminal or reorder text: C0, DEL,
/// C1, bidi controls.
fn is_active(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_inert(output: &str, input: &[u8]) {
    if let Some(c) = output.chars().find(|&c| is_active(c)) {
        panic!("{c:?} survived sanitizing {input:?}: {output:?}");
    }
}

// ---- sanitizing -------------------------------------------------------------

#[test]
fn every_escape_class_is_removed_entirely() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("SGR colour", b"\x1b[1;31mERROR\x1b[0m disk", "ERROR disk"),
        ("cursor move", b"a\x1b[10;20Hb\x1b[2Jc\x1b[?1049hd", "abcd"),
        ("CSI with intermediates", b"x\x1b[0 qy", "xy"),
        ("OSC title, BEL", b"a\x1b]0;pwned\x07b", "ab"),
        ("OSC 52 clipboard, ST", b"a\x1b]52;c;cm0gLXJmIC8=\x1b\\b", "ab"),
        ("OSC 8 hyperlink", b"\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", "click"),
        ("DCS", b"a\x1bPq#0;2;0;0;0#0!10~-\x1b\\b", "ab"),
        ("APC", b"a\x1b_Gf=100;AAAA\x1b\\b", "ab"),
        ("PM", b"a\x1b^private\x1b\\b", "ab"),
        ("SOS", b"a\x1bXstring\x1b\\b", "ab"),
        ("OSC ended by CAN", b"a\x1b]2;t\x18b", "ab"),
        ("two-byte: reset", b"a\x1bcb", "ab"),
        ("two-byte: save cursor", b"a\x1b7b\x1b8", "ab"),
        ("nF: charset", b"a\x1b(Bb\x1b)0", "ab"),
        ("8-bit CSI (UTF-8 U+009B)", "a\u{9b}31mb".as_bytes(), "ab"),
        ("8-bit OSC (UTF-8 U+009D) with ST", "a\u{9d}0;t\u{9c}b".as_bytes(), "ab"),
        ("8-bit DCS (UTF-8 U+0090)", "a\u{90}q\u{9c}b".as_bytes(), "ab"),
        ("raw 0x9b byte is invalid UTF-8", b"a\x9b31mb", "a\u{fffd}31mb"),
        ("unterminated OSC swallows the rest", b"ok\x1b]0;title without end", "ok"),
        ("ESC inside OSC starts a new sequence", b"a\x1b]0;t\x1b[31mb", "ab"),
        ("ESC at the end", b"end\x1b", "end\u{241b}"),
        ("ESC before a control", b"a\x1b\x07b", "a\u{241b}\u{2407}b"),
        ("CSI broken by a control", b"a\x1b[3\x07b", "a\u{2407}b"),
    ];
    for (name, input, expected) in cases {
        let output = sanitize(input);
        assert_eq!(&output, expected, "{name}");
        assert_inert(&output, input);
    }
}

#[test]
fn controls_are_rendered_inert_and_visible() {
    assert_eq!(sanitize(b"a\rb"), "a\u{240d}b");
    assert_eq!(sanitize(b"bell\x07"), "bell\u{2407}");
    assert_eq!(sanitize(b"nul\0bs\x08"), "nul\u{2400}bs\u{2408}");
    assert_eq!(sanitize(b"a\nb"), "a\u{240a}b");
    assert_eq!(sanitize(b"del\x7f"), "del\u{2421}");
    assert_eq!(sanitize("c1\u{85}nel".as_bytes()), "c1\u{fffd}nel");
}

#[test]
fn tabs_expand_to_four_spaces() {
    assert_eq!(sanitize(b"a\tb\t\tc"), "a    b        c");
    assert_eq!(opsdeck::logs::line::TAB_WIDTH, 4);
}

#[test]
fn bidi_controls_are_made_inert() {
    // Trojan Source: RLO ... PDI would show "admin" reversed.
    let hostile = "user=\u{202e}nimda\u{2066}x\u{2069}\u{202a}\u{202b}\u{202c}\u{202d}\u{2067}\u{2068}\u{200e}\u{200f}\u{61c}";
    let output = sanitize(hostile.as_bytes());
    assert_inert(&output, hostile.as_bytes());
    assert_eq!(output.matches('\u{fffd}').count(), 12, "{output:?}");
    assert!(output.starts_with("user=\u{fffd}nimda"));
}

#[test]
fn clean_text_passes_through_unchanged() {
    for text in ["plain ascii line", "中文日志 — “quotes” ‘and’ … ✓ emoji 🚀", "€100 café"]
    {
        assert_eq!(sanitize(text.as_bytes()), text);
    }
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let output = sanitize(b"bad \xff\xfe bytes \xc3\x28 and \xe2\x82");
    assert_eq!(output, "bad \u{fffd}\u{fffd} bytes \u{fffd}( and \u{fffd}");
    let parsed = parse(b"ERROR \xff broken", false, &JsonFields::default());
    assert_eq!(&*parsed.text, "ERROR \u{fffd} broken");
    assert_eq!(parsed.level, Some(Level::Error));
}

/// xorshift64*: reproducible random bytes without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Bytes biased towards what escape parsing must get right.
    fn hostile_bytes(&mut self, len: usize) -> Vec<u8> {
        const INTERESTING: &[u8] =
            b"\x1b\x1b\x1b[]P_^X\\\x07\x9b\x9c\x9d\xc2\xe2\x80\x81\xaa\xae\xa6\xa9\r\n\t\x18\x1a\x7f\x00;0123m {}\"";
        (0..len)
            .map(|_| {
                let roll = self.next();
                if roll.is_multiple_of(3) {
                    (roll >> 8) as u8
                } else {
                    INTERESTING[(roll >> 8) as usize % INTERESTING.len()]
                }
            })
            .collect()
    }
}

#[test]
fn random_bytes_never_leave_an_active_character() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let names = JsonFields::default();
    for round in 0..20_000 {
        let len = (random.next() % 200) as usize;
        let bytes = random.hostile_bytes(len);
        assert_inert(&sanitize(&bytes), &bytes);
        let parsed = parse(&bytes, round % 7 == 0, &names);
        assert_inert(&parsed.text, &bytes);
    }
}

#[test]
fn json_string_escapes_cannot_smuggle_controls() {
    let mut random = Random(42);
    let names = JsonFields::default();
    let escapes = ["\\u001b", "\\u0007", "\\u009b", "\\u202e", "\\r", "\\n", "\\t", "[2J", "]0;", "\\\\"];
    for _ in 0..5_000 {
        let mut value = String::new();
        for _ in 0..(random.next() % 12) {
            value.push_str(escapes[(random.next() % escapes.len() as u64) as usize]);
        }
        let line = format!(r#"{{"msg":"{value}","level":"info","{value}":{{"k":"{value}"}}}}"#);
        let parsed = parse(line.as_bytes(), false, &names);
        assert!(parsed.is_json(), "{line}");
        assert_inert(&parsed.text, line.as_bytes());
        for (key, value) in parsed.fields() {
            assert_inert(key, line.as_bytes());
            assert_inert(value, line.as_bytes());
        }
    }
    let parsed = parse(br#"{"msg":"a\u001b]52;c;eA==\u0007b\u001b[2Jc"}"#, false, &names);
    assert_eq!(&*parsed.text, "abc");
}

/// Records what a terminal emulator was asked to do besides drawing.
#[derive(Default)]
struct Requests(Vec<String>);

impl vt100::Callbacks for Requests {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.0.push("bell".into());
    }
    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.0.push("visual bell".into());
    }
    fn resize(&mut self, _: &mut vt100::Screen, _: (u16, u16)) {
        self.0.push("resize".into());
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.0.push("icon name".into());
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.0.push("title".into());
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8], _: &[u8]) {
        self.0.push("clipboard".into());
    }
    fn paste_from_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.0.push("paste".into());
    }
    fn unhandled_control(&mut self, _: &mut vt100::Screen, b: u8) {
        self.0.push(format!("control {b:#x}"));
    }
    fn unhandled_escape(&mut self, _: &mut vt100::Screen, _: Option<u8>, _: Option<u8>, b: u8) {
        self.0.push(format!("escape {b:#x}"));
    }
    fn unhandled_csi(&mut self, _: &mut vt100::Screen, _: Option<u8>, _: Option<u8>, _: &[&[u16]], c: char) {
        self.0.push(format!("csi {c}"));
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, _: &[&[u8]]) {
        self.0.push("osc".into());
    }
}

/// A 10×80 terminal with text on every row and the cursor at row 5, then
/// `line` printed there: returns the other rows, the cursor, and requests.
fn print_on_row_five(line: &[u8]) -> (Vec<String>, (u16, u16), Vec<String>) {
    let mut terminal = vt100::Parser::new_with_callbacks(10, 80, 0, Requests::default());
    for row in 0..10 {
        terminal.process(format!("\x1b[{};1Hrow {row} before", row + 1).as_bytes());
    }
    terminal.process(b"\x1b[6;1H\x1b[2K");
    terminal.process(line);
    let screen = terminal.screen();
    let others = screen.rows(0, 80).enumerate().filter(|&(row, _)| row != 5).map(|(_, text)| text).collect();
    (others, screen.cursor_position(), terminal.callbacks().0.clone())
}

#[test]
fn a_sanitized_line_only_draws_on_its_own_row() {
    let hostile: &[u8] = b"\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]52;c;cm0gLXJm\x07\x07\x1b[8;5;5t\r\n\x08\x1bc\
        \x1b[31mERROR\x1b[0m \x1bPq\x1b\\\x1b[?1049h\x9b2J \xc2\x9b3A done";
    let untouched: Vec<String> =
        (0..10).filter(|&row| row != 5).map(|row| format!("row {row} before")).collect();

    // The same line raw must do damage, or this test proves nothing.
    let (rows, _, requests) = print_on_row_five(hostile);
    assert_ne!(rows, untouched);
    assert!(requests.contains(&"clipboard".to_owned()), "{requests:?}");

    let safe = sanitize(hostile);
    let (rows, cursor, requests) = print_on_row_five(safe.as_bytes());
    assert_eq!(rows, untouched);
    assert_eq!(cursor.0, 5, "the cursor left the row");
    assert!(requests.is_empty(), "the terminal was asked to {requests:?}");
    assert!(safe.contains("ERROR") && safe.ends_with(" done"), "{safe:?}");
}

#[test]
fn sanitize_str_handles_decoded_text() {
    assert_eq!(sanitize_str("a\u{1b}[31mb\u{7}"), "ab\u{2407}");
}

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
