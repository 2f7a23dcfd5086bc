//! The Logs tab's line reader, on hostile content: every escape class
//! removed, controls and bidi made inert and visible, random bytes and JSON
//! escapes that cannot smuggle a control, and a sanitized line that draws
//! only on its own row of a real terminal emulator.

use opsdeck::logs::line::{JsonFields, Level, parse, sanitize, sanitize_str};

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
