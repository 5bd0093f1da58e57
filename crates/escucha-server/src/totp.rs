//! Time-based one-time passwords for the optional second sign-in factor: RFC 6238 TOTP over
//! RFC 4226 HOTP with HMAC-SHA-1, 30-second steps and 6 digits — what every authenticator app
//! understands by default — plus secret generation (base32, RFC 4648 without padding) and the
//! `otpauth://` provisioning URI that the enrolment page shows as a QR code.
//!
//! Verification accepts the current step and one step either side (clock drift, slow typing)
//! and returns the step it matched, so the caller stores it and refuses any code of that step
//! or an earlier one again: a code cannot be replayed, even within its validity window.
//! Secrets are secrets: `Debug` redacts them; store them encrypted (escucha-store `crypto`).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per TOTP time step (RFC 6238 default, assumed by authenticator apps).
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const WINDOW_STEPS: u64 = 1;
/// Bytes of a generated secret (160 bits, the RFC 4226 recommendation for HMAC-SHA-1).
pub const SECRET_LEN: usize = 20;
/// Shortest secret accepted from outside (80 bits, what older apps generated).
pub const MIN_SECRET_LEN: usize = 10;

/// Why a TOTP secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Text that is not RFC 4648 base32.
    #[error("the secret is not valid base32")]
    InvalidBase32,
    /// A secret shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("the secret is too short: at least {MIN_SECRET_LEN} bytes are needed")]
    TooShort,
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes bytes as RFC 4648 base32, upper case, without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes RFC 4648 base32: case-insensitive, spaces and dashes (as apps group the secret for
/// reading) and trailing `=` padding ignored. Rejects other characters and impossible lengths.
pub fn base32_decode(text: &str) -> Result<Vec<u8>, TotpError> {
    let symbols: Vec<u8> =
        text.trim_end_matches(['=', ' ']).bytes().filter(|b| !matches!(b, b' ' | b'-' | b'\t')).collect();
    // 1, 3 and 6 leftover symbols cannot come from whole bytes.
    if matches!(symbols.len() % 8, 1 | 3 | 6) {
        return Err(TotpError::InvalidBase32);
    }
    let mut out = Vec::with_capacity(symbols.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for s in symbols {
        let value = match s.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(TotpError::InvalidBase32),
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// A user's TOTP secret. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    /// A new random secret of [`SECRET_LEN`] bytes from a cryptographic generator.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// A secret from raw bytes (at least [`MIN_SECRET_LEN`]).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if bytes.len() < MIN_SECRET_LEN { Err(TotpError::TooShort) } else { Ok(TotpSecret(bytes)) }
    }

    /// A secret from its base32 text (as stored, or typed from an app).
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        Self::from_bytes(base32_decode(text)?)
    }

    /// The secret as base32 without padding: what the user types into an app, and what is
    /// stored (encrypted).
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The raw secret.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The 6-digit code at a Unix time.
    pub fn code_at(&self, unix_seconds: u64) -> u32 {
        totp(&self.0, unix_seconds, STEP_SECONDS, DIGITS)
    }

    /// Checks a submitted code at a Unix time, within ±[`WINDOW_STEPS`]. Returns the time step
    /// it matched, or `None`. `last_used_step` is the step of the last accepted code: that step
    /// and earlier ones are refused, so a code works once. Blanks in the code are ignored.
    pub fn verify(&self, code: &str, unix_seconds: u64, last_used_step: Option<u64>) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let submitted: u32 = code.parse().ok()?;
        let now = unix_seconds / STEP_SECONDS;
        let mut matched = None;
        // Every candidate is computed, so timing does not tell which step matched.
        for step in now.saturating_sub(WINDOW_STEPS)..=now.saturating_add(WINDOW_STEPS) {
            let ok = hotp(&self.0, step, DIGITS) == submitted;
            if ok && last_used_step.is_none_or(|last| step > last) && matched.is_none() {
                matched = Some(step);
            }
        }
        matched
    }

    /// The `otpauth://totp/…` URI for enrolment (the Key URI format authenticator apps scan):
    /// labelled `issuer:account`, with the issuer repeated as a parameter and the algorithm,
    /// digits and period spelled out.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> String {
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent_encode(issuer),
            percent_encode(account),
            self.to_base32(),
            percent_encode(issuer)
        )
    }
}

/// RFC 4226 HOTP: the `digits`-digit code (1 to 9 digits) for a counter, with HMAC-SHA-1.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC takes keys of any length, so this cannot fail; an empty MAC is never a valid code.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary =
        u32::from_be_bytes([digest[offset], digest[offset + 1], digest[offset + 2], digest[offset + 3]]) & 0x7fff_ffff;
    binary % 10u32.pow(digits.clamp(1, 9))
}

/// RFC 6238 TOTP with HMAC-SHA-1: [`hotp`] of the number of `step`-second steps since the
/// Unix epoch.
pub fn totp(secret: &[u8], unix_seconds: u64, step: u64, digits: u32) -> u32 {
    hotp(secret, unix_seconds / step.max(1), digits)
}

/// A code as the user sees it, zero-padded to [`DIGITS`].
pub fn format_code(code: u32) -> String {
    format!("{code:0width$}", width = DIGITS as usize)
}

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 4226 / RFC 6238 SHA-1 test secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), want, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_totp_vectors_sha1() {
        // RFC 6238 appendix B, SHA-1 rows (8 digits).
        let rows = [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (time, want) in rows {
            assert_eq!(totp(RFC_SECRET, time, 30, 8), want, "time {time}");
            // The 6-digit code is the last six digits of the 8-digit one.
            assert_eq!(totp(RFC_SECRET, time, 30, 6), want % 1_000_000, "time {time}");
        }
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec()).unwrap();
        assert_eq!(secret.code_at(59), 287082);
        assert_eq!(format_code(secret.code_at(1111111109)), "081804");
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        // Padding, lower case and reading groups are accepted.
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZXW 6YTB-OI").unwrap(), b"foobar");
        assert_eq!(base32_encode(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn base32_rejects_garbage() {
        for bad in ["MZXW6YT1", "MZX!", "M", "MZX", "MZXW6Y", "Ñ"] {
            assert_eq!(base32_decode(bad), Err(TotpError::InvalidBase32), "{bad}");
        }
    }

    #[test]
    fn base32_round_trips_every_length() {
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base32_encode(&bytes);
            assert!(!text.contains('='));
            assert_eq!(base32_decode(&text).unwrap(), bytes, "len {len}");
        }
    }

    #[test]
    fn generated_secrets_are_random_and_readable() {
        let a = TotpSecret::generate();
        let b = TotpSecret::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), SECRET_LEN);
        assert_eq!(a.to_base32().len(), 32);
        assert_eq!(TotpSecret::from_base32(&a.to_base32()).unwrap(), a);
        assert_eq!(format!("{a:?}"), "TotpSecret(***)");
        assert_eq!(TotpSecret::from_base32("MZXW6YTB"), Err(TotpError::TooShort));
        assert_eq!(TotpSecret::from_base32("not base32!"), Err(TotpError::InvalidBase32));
    }

    #[test]
    fn verification_accepts_one_step_of_drift_only() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec()).unwrap();
        let now = 1_111_111_111; // step 37037037
        let step = now / STEP_SECONDS;
        let code = |t: u64| format_code(secret.code_at(t));
        assert_eq!(secret.verify(&code(now), now, None), Some(step));
        assert_eq!(secret.verify(&code(now - 30), now, None), Some(step - 1));
        assert_eq!(secret.verify(&code(now + 30), now, None), Some(step + 1));
        assert_eq!(secret.verify(&code(now - 60), now, None), None);
        assert_eq!(secret.verify(&code(now + 60), now, None), None);
        // Spaces are fine; wrong length, letters or another code are not.
        let c = code(now);
        assert_eq!(secret.verify(&format!("{} {}", &c[..3], &c[3..]), now, None), Some(step));
        for bad in ["", "12345", "1234567", "12345a", "-12345", "+12345"] {
            assert_eq!(secret.verify(bad, now, None), None, "{bad}");
        }
        let wrong = format_code((secret.code_at(now) + 1) % 1_000_000);
        let neighbours = [code(now - 30), code(now + 30)];
        if !neighbours.contains(&wrong) {
            assert_eq!(secret.verify(&wrong, now, None), None);
        }
    }

    #[test]
    fn a_code_cannot_be_replayed() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = format_code(secret.code_at(now));
        let step = secret.verify(&code, now, None).unwrap();
        assert_eq!(secret.verify(&code, now + 5, Some(step)), None);
        // The previous step's code is refused after a newer one was used.
        let previous = format_code(secret.code_at(now - 30));
        if previous != code {
            assert_eq!(secret.verify(&previous, now, Some(step)), None);
        }
        // The next step's code is still accepted.
        let next = format_code(secret.code_at(now + 30));
        assert_eq!(secret.verify(&next, now + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn verification_at_the_epoch_does_not_underflow() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec()).unwrap();
        assert_eq!(secret.verify(&format_code(secret.code_at(0)), 0, None), Some(0));
        // The far end of time does not overflow either.
        let late = format_code(secret.code_at(u64::MAX));
        assert_eq!(secret.verify(&late, u64::MAX, None), Some(u64::MAX / STEP_SECONDS));
    }

    #[test]
    fn provisioning_uri_follows_the_key_uri_format() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec()).unwrap();
        assert_eq!(
            secret.provisioning_uri("Escucha (demo)", "ana.lópez@conecta.example"),
            "otpauth://totp/Escucha%20%28demo%29:ana.l%C3%B3pez%40conecta.example\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Escucha%20%28demo%29\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
