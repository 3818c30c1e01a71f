//! The one palette definition: chart colours and the CSS custom properties come from here.

use plotters::style::RGBColor;

/// A semantic colour role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Idle,
    Severe,
    High,
    Moderate,
    Low,
    Unknown,
    Info,
    Accent,
    Text,
    Muted,
    Grid,
    Surface,
}

impl Tone {
    pub const ALL: [Tone; 15] = [
        Tone::Good,
        Tone::Warn,
        Tone::Bad,
        Tone::Idle,
        Tone::Severe,
        Tone::High,
        Tone::Moderate,
        Tone::Low,
        Tone::Unknown,
        Tone::Info,
        Tone::Accent,
        Tone::Text,
        Tone::Muted,
        Tone::Grid,
        Tone::Surface,
    ];

    /// CSS custom property name without the leading dashes, e.g. "tone-good", "tone-severe".
    pub fn css_name(self) -> &'static str {
        match self {
            Tone::Good => "tone-good",
            Tone::Warn => "tone-warn",
            Tone::Bad => "tone-bad",
            Tone::Idle => "tone-idle",
            Tone::Severe => "tone-severe",
            Tone::High => "tone-high",
            Tone::Moderate => "tone-moderate",
            Tone::Low => "tone-low",
            Tone::Unknown => "tone-unknown",
            Tone::Info => "tone-info",
            Tone::Accent => "tone-accent",
            Tone::Text => "tone-text",
            Tone::Muted => "tone-muted",
            Tone::Grid => "tone-grid",
            Tone::Surface => "tone-surface",
        }
    }
}

/// One (r, g, b) per [`Tone`], indexed by `tone as usize`.
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    rgb: [(u8, u8, u8); 15],
}

impl Palette {
    /// Light theme. Verdict: Good green, Warn amber, Bad red, Idle grey.
    /// Severity (Defender's order): Severe dark red, High red, Moderate orange, Low blue, Unknown grey.
    pub fn light() -> Palette {
        Palette {
            rgb: [
                (0x10, 0x7c, 0x41), // Good
                (0xc4, 0x7f, 0x00), // Warn
                (0xc4, 0x31, 0x4b), // Bad
                (0x8a, 0x94, 0xa6), // Idle
                (0x8b, 0x0f, 0x24), // Severe
                (0xd1, 0x34, 0x38), // High
                (0xe0, 0x6c, 0x1f), // Moderate
                (0x3a, 0x7b, 0xd5), // Low
                (0x8a, 0x94, 0xa6), // Unknown
                (0x3a, 0x7b, 0xd5), // Info
                (0x0f, 0x6c, 0xbd), // Accent
                (0x1c, 0x24, 0x30), // Text
                (0x5b, 0x67, 0x78), // Muted
                (0xdd, 0xe2, 0xea), // Grid
                (0xff, 0xff, 0xff), // Surface
            ],
        }
    }

    /// Dark theme: the same roles on a dark surface (text and tones lightened to keep contrast).
    pub fn dark() -> Palette {
        Palette {
            rgb: [
                (0x3f, 0xb9, 0x50), // Good
                (0xd2, 0x99, 0x22), // Warn
                (0xf8, 0x51, 0x49), // Bad
                (0x8b, 0x94, 0x9e), // Idle
                (0xff, 0x8e, 0xa6), // Severe
                (0xf8, 0x51, 0x49), // High
                (0xf0, 0x88, 0x3e), // Moderate
                (0x58, 0xa6, 0xff), // Low
                (0x8b, 0x94, 0x9e), // Unknown
                (0x58, 0xa6, 0xff), // Info
                (0x4c, 0x9a, 0xff), // Accent
                (0xe6, 0xed, 0xf3), // Text
                (0xa3, 0xad, 0xb8), // Muted
                (0x30, 0x36, 0x3d), // Grid
                (0x16, 0x1b, 0x22), // Surface
            ],
        }
    }

    /// High contrast: pure black and white, tones bright and far apart (AAA for text).
    pub fn high_contrast() -> Palette {
        Palette {
            rgb: [
                (0x4d, 0xff, 0x4d), // Good
                (0xff, 0xd7, 0x00), // Warn
                (0xff, 0x6e, 0x6e), // Bad
                (0xc8, 0xc8, 0xc8), // Idle
                (0xff, 0x70, 0xe0), // Severe
                (0xff, 0x6e, 0x6e), // High
                (0xff, 0xa5, 0x00), // Moderate
                (0x70, 0xc0, 0xff), // Low
                (0xc8, 0xc8, 0xc8), // Unknown
                (0x70, 0xc0, 0xff), // Info
                (0xff, 0xff, 0x00), // Accent
                (0xff, 0xff, 0xff), // Text
                (0xe0, 0xe0, 0xe0), // Muted
                (0xb0, 0xb0, 0xb0), // Grid
                (0x00, 0x00, 0x00), // Surface
            ],
        }
    }

    /// The themes by their key (`theme=` in the kiosk's address, the header's switch): key, label.
    pub const THEMES: [(&'static str, &'static str); 3] = [("light", "Light"), ("dark", "Dark"), ("contrast", "High contrast")];

    /// The palette of a theme key (light for anything else).
    pub fn named(key: &str) -> Palette {
        match key {
            "dark" => Palette::dark(),
            "contrast" => Palette::high_contrast(),
            _ => Palette::light(),
        }
    }

    pub fn rgb(&self, tone: Tone) -> (u8, u8, u8) {
        self.rgb[tone as usize]
    }

    /// "#rrggbb" (lower case).
    pub fn hex(&self, tone: Tone) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let (r, g, b) = self.rgb(tone);
        let mut s = String::with_capacity(7);
        s.push('#');
        for c in [r, g, b] {
            s.push(DIGITS[(c >> 4) as usize] as char);
            s.push(DIGITS[(c & 15) as usize] as char);
        }
        s
    }

    /// ":root{--tone-good:#107c41;--tone-warn:...;}" — one declaration per Tone, for a <style> element.
    pub fn css_vars(&self) -> String {
        let mut s = String::from(":root{");
        for t in Tone::ALL {
            s.push_str("--");
            s.push_str(t.css_name());
            s.push(':');
            s.push_str(&self.hex(t));
            s.push(';');
        }
        s.push('}');
        s
    }

    /// The plotters colour of a tone.
    pub(super) fn color(&self, tone: Tone) -> RGBColor {
        let (r, g, b) = self.rgb(tone);
        RGBColor(r, g, b)
    }
}
