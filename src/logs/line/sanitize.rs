//! Making log content safe to draw on the operator's terminal.
//!
//! A log line is written by whoever can reach the logged service (a user
//! agent, a URL, a username), so it is hostile input. Drawn as is, it could
//! move the cursor, clear the screen, set the window title, write the
//! clipboard (OSC 52), plant hyperlinks (OSC 8) or reorder what the operator
//! reads (Trojan Source bidi overrides). What comes out of here contains no
//! C0 control, no DEL, no C1 control and no bidi control, whatever came in:
//!
//! - escape sequences are removed entirely, as a terminal would have
//!   consumed them (their colours are not kept: levels are coloured by the
//!   view): CSI `ESC [ … final`, the strings OSC `ESC ] …`, DCS `ESC P …`,
//!   SOS `ESC X …`, PM `ESC ^ …`, APC `ESC _ …` (ended by BEL, `ESC \`,
//!   ST, CAN or SUB — or by the end of the line, which a line cannot
//!   escape), and two-byte (and nF) escapes such as `ESC c` or `ESC ( B`;
//!   the 8-bit C1 forms (U+009B CSI, U+009D OSC, U+0090 DCS …) likewise;
//! - other C0 controls and DEL are shown as their Control Pictures symbol
//!   (`␛`, `␇`, `␍`, `␊`, `␡`), so the operator sees that they were there;
//! - other C1 controls and bidi controls (U+061C, U+200E/F, U+202A–U+202E,
//!   U+2066–U+2069) are shown as U+FFFD `�`: there is no picture for them,
//!   and hiding them would hide the attempt;
//! - a tab becomes [`TAB_WIDTH`] spaces (a fixed width rather than tab
//!   stops: stops depend on the display width of what precedes the tab,
//!   which for wide CJK text is not the character count, and a fixed width
//!   is the same wherever the view scrolls or wraps the line);
//! - invalid UTF-8 becomes U+FFFD (lossy decoding).
//!
//! Output length is at most four times the input's (a tab), so memory stays
//! bounded by the reader's line cap.

use std::borrow::Cow;
use std::str::Chars;

/// Spaces a tab expands to.
pub const TAB_WIDTH: usize = 4;

const TAB: &str = "    ";
const UNPRINTABLE: char = '\u{FFFD}';
const ESC: char = '\x1b';

/// Lossy-decode and make inert (see the module docs).
pub fn sanitize(bytes: &[u8]) -> String {
    sanitize_str(&decode(bytes))
}

/// [`sanitize`] for text already decoded, such as a JSON string value,
/// whose `\u001b` escapes decode to real control characters.
pub fn sanitize_str(text: &str) -> String {
    if is_already_inert(text.as_bytes()) {
        return text.to_owned();
    }
    make_inert(text)
}

/// [`sanitize_str`] for a string already owned: returned as is (no copy)
/// when it is clean, as nearly every JSON value is.
pub fn sanitize_string(text: String) -> String {
    if is_already_inert(text.as_bytes()) {
        return text;
    }
    make_inert(&text)
}

/// UTF-8 decoding, lossy. Valid input (nearly all of it) is borrowed after
/// the standard library's fast validation; only invalid input pays for the
/// chunk-by-chunk lossy pass.
pub(super) fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn make_inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ESC => skip_escape(&mut chars, &mut out),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => out.push_str(TAB),
            c => push_inert(&mut out, c),
        }
    }
    out
}

/// The quick check that lets clean lines (nearly all of them) skip the
/// character-by-character pass: no C0/DEL byte, no C1 (`C2 80`–`C2 9F`),
/// nothing from the two UTF-8 blocks that hold bidi controls (`D8 9C` and
/// `E2 80`/`E2 81`, which the slow pass sorts out).
fn is_already_inert(bytes: &[u8]) -> bool {
    // One branch-free pass (it vectorizes) classifies the whole line.
    let (mut control, mut non_ascii) = (false, false);
    for &b in bytes {
        control |= b < 0x20 || b == 0x7f;
        non_ascii |= b >= 0x80;
    }
    if control {
        return false;
    }
    !non_ascii
        || !bytes
            .windows(2)
            .any(|pair| matches!(pair, [0xC2, 0x80..=0x9F] | [0xD8, 0x9C] | [0xE2, 0x80 | 0x81]))
}

fn peek(chars: &Chars<'_>) -> Option<char> {
    chars.clone().next()
}

/// After an ESC: drop the whole sequence it starts. An ESC that starts no
/// sequence (at the end of the line, or before a control or non-ASCII
/// character) is shown as `␛`.
fn skip_escape(chars: &mut Chars<'_>, out: &mut String) {
    match peek(chars) {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(' '..='/') => {
            // nF escape: intermediates, then one final byte (`ESC ( B`).
            while matches!(peek(chars), Some(' '..='/')) {
                chars.next();
            }
            if matches!(peek(chars), Some('0'..='~')) {
                chars.next();
            }
        }
        Some('0'..='~') => {
            chars.next();
        }
        _ => push_inert(out, ESC),
    }
}

/// A control sequence's parameters and intermediates, then its final byte.
/// Anything else ends it early and is left for the caller to render (a
/// terminal would have executed a control found here; we show it inert).
fn skip_csi(chars: &mut Chars<'_>) {
    while matches!(peek(chars), Some(' '..='?')) {
        chars.next();
    }
    if matches!(peek(chars), Some('@'..='~')) {
        chars.next();
    }
}

/// An OSC/DCS/SOS/PM/APC string, up to and including its terminator. An
/// ESC that does not make `ESC \` ends the string and is left to start the
/// next sequence, as xterm does; no terminator means the rest of the line.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = peek(chars) {
        match c {
            '\x07' | '\u{9c}' | '\x18' | '\x1a' => {
                chars.next();
                return;
            }
            ESC => {
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.next() == Some('\\') {
                    *chars = ahead;
                }
                return;
            }
            _ => {
                chars.next();
            }
        }
    }
}

/// Push a character that is not part of a sequence, as something that
/// cannot act on a terminal. Every character of the output goes through
/// here, which is what makes the guarantee hold whatever the sequence
/// parsing above got wrong.
fn push_inert(out: &mut String, c: char) {
    match c {
        '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or(UNPRINTABLE)),
        '\x7f' => out.push('\u{2421}'),
        '\u{80}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' => {
            out.push(UNPRINTABLE)
        }
        '\u{2066}'..='\u{2069}' => out.push(UNPRINTABLE),
        c => out.push(c),
    }
}
