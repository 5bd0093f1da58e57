//! Personal data at rest: authenticated encryption of single values (names, e-mails, phones,
//! free contact fields) and keyed blind indexes for looking them up, under a [`KeyRing`].
//!
//! # Cipher and ciphertext format
//! XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`, pure Rust): a 256-bit key, a random
//! 192-bit nonce per value (large enough that random nonces never collide in practice), a
//! 128-bit tag. An encrypted value is self-describing text, safe in any text column and CSV:
//!
//! ```text
//! v1:<key id>:<base64url without padding of (24-byte nonce ‖ ciphertext ‖ 16-byte tag)>
//! ```
//!
//! The associated data authenticated with each value is the header (`v1:<key id>:`) plus the
//! caller's context from [`associated_data`] (organisation, column, row key), so a ciphertext
//! copied to another row, column or organisation fails to decrypt instead of showing the wrong
//! person's data.
//!
//! # Keys
//! A master key is 32 random bytes. From each, HKDF-SHA256 derives (with distinct labels) the
//! encryption key, the blind-index key and the key id (`k` + 8 hex digits, a fingerprint), so
//! the same master always has the same id wherever it is configured. The ring's *last* key
//! encrypts; every key decrypts, so adding a key rotates without a migration, and
//! [`KeyRing::rotate`] re-encrypts old values at leisure. The blind-index key derives from the
//! ring's *first* key, so rotating the encryption key does not change the indexes; retiring the
//! first key means recomputing them.
//!
//! # Where keys come from ([`KeyRing::load`])
//! - `ESCUCHA_SECRET_KEY`, when set: one or more entries separated by commas or white space,
//!   oldest first, each `KEY` or `ID:KEY`, where `KEY` is 64 hex digits or the base64 (standard
//!   or URL-safe alphabet, padding optional) of 32 bytes. Generate one with
//!   `openssl rand -hex 32` or `head -c32 /dev/urandom | base64`.
//! - Otherwise the key file `secret.key` in the data folder, created on first run with a key
//!   from the operating system's random generator and mode 0600 (a key file readable by group
//!   or others is refused). Format: UTF-8 lines; `#` starts a comment; each other line is one
//!   `ID:BASE64` entry as above, oldest first. Back it up with the database: without it the
//!   personal data cannot be read.
//!
//! Keys never appear in `Debug` output or errors.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use escucha_core::ids::OrgId;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the key file in the data folder.
pub const KEY_FILE_NAME: &str = "secret.key";
/// Environment variable holding the key(s) when no key file is wanted.
pub const SECRET_KEY_ENV: &str = "ESCUCHA_SECRET_KEY";
/// Version tag of the ciphertext format.
pub const CIPHERTEXT_VERSION: &str = "v1";
/// Length of a master key in bytes (256 bits).
pub const KEY_LEN: usize = 32;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HKDF_SALT: &[u8] = b"escucha key hierarchy v1";
const INFO_ENCRYPTION: &[u8] = b"escucha v1 encryption";
const INFO_BLIND_INDEX: &[u8] = b"escucha v1 blind index";
const INFO_KEY_ID: &[u8] = b"escucha v1 key id";

/// What went wrong with keys or encrypted values. Messages never contain key material or
/// plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Key material that is not a 256-bit key in an accepted encoding, a bad key id, a
    /// duplicate key, or an empty ring.
    #[error("invalid key material: {0}")]
    InvalidKey(String),
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file may be read by other users.
    #[error("key file {path} is accessible to other users (mode {mode:o}); run 'chmod 600' on it")]
    InsecureKeyFile {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The operating system's random generator failed.
    #[error("the system random generator failed: {0}")]
    Random(String),
    /// A value that is not in the `v1:<key id>:<base64>` format.
    #[error("malformed encrypted value")]
    Malformed,
    /// A value encrypted with a key that is not in the ring.
    #[error("the value was encrypted with key '{0}', which is not configured")]
    UnknownKey(String),
    /// The value is too long for the cipher (about 256 GiB).
    #[error("value too long to encrypt")]
    TooLong,
    /// Authentication failed: tampered value, or wrong associated data (another row, column
    /// or organisation).
    #[error("encrypted value failed authentication (tampered, or moved from another field)")]
    Authentication,
    /// The decrypted bytes are not UTF-8 (a value written with the byte API read as text).
    #[error("decrypted value is not text")]
    NotText,
}

/// Result of a crypto operation.
pub type CryptoResult<T> = Result<T, CryptoError>;

/// One master key with what is derived from it.
#[derive(Clone)]
struct RingKey {
    id: String,
    cipher: XChaCha20Poly1305,
    index_mac: Hmac<Sha256>,
    master: [u8; KEY_LEN],
}

impl RingKey {
    fn derive(master: [u8; KEY_LEN], id: Option<String>) -> CryptoResult<Self> {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), &master);
        let mut enc = [0u8; 32];
        let mut index_key = [0u8; 32];
        let mut fp = [0u8; 4];
        hk.expand(INFO_ENCRYPTION, &mut enc)
            .and_then(|()| hk.expand(INFO_BLIND_INDEX, &mut index_key))
            .and_then(|()| hk.expand(INFO_KEY_ID, &mut fp))
            .map_err(|_| CryptoError::InvalidKey("key derivation failed".into()))?;
        let id = match id {
            Some(id) => {
                validate_key_id(&id)?;
                id
            }
            None => format!("k{}", hex_lower(&fp)),
        };
        let cipher = XChaCha20Poly1305::new(&Key::from(enc));
        let index_mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&index_key)
            .map_err(|_| CryptoError::InvalidKey("blind index key derivation failed".into()))?;
        Ok(RingKey { id, cipher, index_mac, master })
    }
}

fn validate_key_id(id: &str) -> CryptoResult<()> {
    let ok =
        !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(CryptoError::InvalidKey("a key id must be 1 to 32 characters a-z, A-Z, 0-9, '_' or '-'".into()))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// Decodes one key: 64 hex digits, or base64 (either alphabet, padding optional) of 32 bytes.
fn decode_key(raw: &str) -> CryptoResult<[u8; KEY_LEN]> {
    let bytes = if raw.len() == 2 * KEY_LEN && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        decode_hex(raw)
    } else {
        let unpadded = raw.trim_end_matches('=');
        if unpadded.contains(['-', '_']) {
            URL_SAFE_NO_PAD.decode(unpadded).ok()
        } else {
            STANDARD_NO_PAD.decode(unpadded).ok()
        }
    };
    let bytes =
        bytes.ok_or_else(|| CryptoError::InvalidKey("a key must be 64 hex digits or the base64 of 32 bytes".into()))?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| CryptoError::InvalidKey(format!("a key must be {KEY_LEN} bytes, this one has {}", bytes.len())))
}

/// The associated data binding an encrypted value to its place: organisation, column (e.g.
/// `customers.email`) and a row key known before the row is written and never changed (e.g.
/// the customer's external id; empty when the column has none). Parts are length-prefixed, so
/// no two different places give the same bytes.
pub fn associated_data(org: OrgId, column: &str, row_key: &str) -> String {
    format!("org={};col={}:{};row={}:{}", org.0, column.len(), column, row_key.len(), row_key)
}

/// The context of a blind index: organisation and column (no row, so equal values in different
/// rows of one organisation match, and the same e-mail in two organisations does not).
pub fn index_context(org: OrgId, column: &str) -> String {
    format!("org={};col={}:{}", org.0, column.len(), column)
}

/// The normal form a value is indexed under: trimmed and lower-cased (e-mails).
pub fn normalise_for_index(value: &str) -> String {
    value.trim().to_lowercase()
}

/// True when a stored value looks like one of our ciphertexts (for migrating plaintext rows).
pub fn is_encrypted(value: &str) -> bool {
    value.strip_prefix(CIPHERTEXT_VERSION).is_some_and(|rest| rest.starts_with(':')) && value.matches(':').count() == 2
}

/// The id of the key a ciphertext was written with, without decrypting it.
pub fn key_id_of(ciphertext: &str) -> CryptoResult<&str> {
    split(ciphertext).map(|(id, _)| id)
}

fn split(ciphertext: &str) -> CryptoResult<(&str, &str)> {
    let mut parts = ciphertext.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(CIPHERTEXT_VERSION), Some(id), Some(body)) if !id.is_empty() && !body.contains(':') => Ok((id, body)),
        _ => Err(CryptoError::Malformed),
    }
}

fn full_aad(key_id: &str, associated_data: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(key_id.len() + associated_data.len() + 8);
    aad.extend_from_slice(CIPHERTEXT_VERSION.as_bytes());
    aad.push(b':');
    aad.extend_from_slice(key_id.as_bytes());
    aad.push(b':');
    aad.extend_from_slice(associated_data);
    aad
}

/// The keys personal data is encrypted under: the last key encrypts, every key decrypts, the
/// first key's derived index key computes blind indexes. Cheap to clone; `Debug` shows ids only.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<RingKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("key_ids", &self.key_ids()).finish()
    }
}

impl KeyRing {
    /// A ring of one new random key (from the operating system's generator).
    pub fn generate() -> CryptoResult<Self> {
        Self::from_keys(vec![(None, new_master()?)])
    }

    /// A ring from master keys, oldest first, each with an explicit id or `None` for its
    /// fingerprint id. Fails on an empty list or a repeated id.
    pub fn from_keys(keys: Vec<(Option<String>, [u8; KEY_LEN])>) -> CryptoResult<Self> {
        if keys.is_empty() {
            return Err(CryptoError::InvalidKey("no key given".into()));
        }
        let mut ring: Vec<RingKey> = Vec::with_capacity(keys.len());
        for (id, master) in keys {
            let key = RingKey::derive(master, id)?;
            if ring.iter().any(|k| k.id == key.id) {
                return Err(CryptoError::InvalidKey(format!("key id '{}' appears twice", key.id)));
            }
            ring.push(key);
        }
        Ok(KeyRing { keys: ring })
    }

    /// Parses keys in the `ESCUCHA_SECRET_KEY` / key-file syntax (see the module docs): entries
    /// `KEY` or `ID:KEY` separated by commas, spaces or lines, `#` comments, oldest first.
    pub fn parse(text: &str) -> CryptoResult<Self> {
        let mut keys = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            for entry in line.split([',', ' ', '\t']).map(str::trim).filter(|e| !e.is_empty()) {
                let (id, raw) = match entry.split_once(':') {
                    Some((id, raw)) => (Some(id.to_string()), raw),
                    None => (None, entry),
                };
                keys.push((id, decode_key(raw)?));
            }
        }
        Self::from_keys(keys)
    }

    /// The keys in key-file syntax (with a header comment), oldest first.
    pub fn to_file_text(&self) -> String {
        let mut out = String::from(
            "# Escucha secret keys: keep this file private (mode 0600) and back it up with the database;\n\
             # without it personal data cannot be read. Oldest first: the last key encrypts, all decrypt.\n",
        );
        for k in &self.keys {
            out.push_str(&k.id);
            out.push(':');
            out.push_str(&URL_SAFE_NO_PAD.encode(k.master));
            out.push('\n');
        }
        out
    }

    /// The ring to use: from `env_value` (the `ESCUCHA_SECRET_KEY` setting) when given, else
    /// from `data_dir/secret.key`, creating that file with a new key when absent. A set but
    /// blank value is an error, so a typo does not silently switch to a new key.
    pub fn load(env_value: Option<&str>, data_dir: &Path) -> CryptoResult<Self> {
        match env_value {
            Some(v) if v.trim().is_empty() => {
                Err(CryptoError::InvalidKey(format!("{SECRET_KEY_ENV} is set but empty")))
            }
            Some(v) => Self::parse(v),
            None => Self::load_or_create_file(&data_dir.join(KEY_FILE_NAME)).map(|(ring, _)| ring),
        }
    }

    /// Reads a key file, refusing one that group or others may access.
    pub fn load_file(path: &Path) -> CryptoResult<Self> {
        let io = |source| CryptoError::KeyFile { path: path.to_path_buf(), source };
        let meta = fs::metadata(path).map_err(io)?;
        check_private(path, &meta)?;
        let text = fs::read_to_string(path).map_err(io)?;
        Self::parse(&text)
    }

    /// Reads the key file, or creates it with one new key when it does not exist; says whether
    /// it was created. Safe when several processes start at once: the file appears atomically
    /// and only one creator wins; the others read the winner's key.
    pub fn load_or_create_file(path: &Path) -> CryptoResult<(Self, bool)> {
        match fs::metadata(path) {
            Ok(_) => return Self::load_file(path).map(|r| (r, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(CryptoError::KeyFile { path: path.to_path_buf(), source }),
        }
        let ring = Self::generate()?;
        let tmp = write_private_temp(path, &ring.to_file_text())?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok((ring, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_file(path).map(|r| (r, false)),
            Err(source) => Err(CryptoError::KeyFile { path: path.to_path_buf(), source }),
        }
    }

    /// Rotation step one: adds a new random key to the key file (which must exist), making it
    /// the key that encrypts, and returns the new ring. The file is replaced atomically. Other
    /// processes load keys at start: until they restart they get [`CryptoError::UnknownKey`]
    /// for values written under the new key, so restart every process sharing the store.
    pub fn add_key_to_file(path: &Path) -> CryptoResult<Self> {
        let ring = Self::load_file(path)?.with_new_key()?;
        let tmp = write_private_temp(path, &ring.to_file_text())?;
        fs::rename(&tmp, path).map_err(|source| {
            let _ = fs::remove_file(&tmp);
            CryptoError::KeyFile { path: path.to_path_buf(), source }
        })?;
        Ok(ring)
    }

    /// This ring plus one new random key, which becomes the current key.
    pub fn with_new_key(&self) -> CryptoResult<Self> {
        let mut keys: Vec<(Option<String>, [u8; KEY_LEN])> =
            self.keys.iter().map(|k| (Some(k.id.clone()), k.master)).collect();
        keys.push((None, new_master()?));
        Self::from_keys(keys)
    }

    /// The id of the key that encrypts.
    pub fn current_key_id(&self) -> &str {
        self.current().id.as_str()
    }

    /// Every key id, oldest first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    fn current(&self) -> &RingKey {
        // The constructors refuse an empty ring.
        &self.keys[self.keys.len() - 1]
    }

    fn key(&self, id: &str) -> CryptoResult<&RingKey> {
        self.keys.iter().find(|k| k.id == id).ok_or_else(|| CryptoError::UnknownKey(id.to_string()))
    }

    /// Encrypts text under the current key, bound to `associated_data` (use
    /// [`associated_data`]); every call gives a different ciphertext.
    pub fn encrypt(&self, plaintext: &str, associated_data: &str) -> CryptoResult<String> {
        self.encrypt_bytes(plaintext.as_bytes(), associated_data.as_bytes())
    }

    /// Decrypts a value written by [`KeyRing::encrypt`] with the same associated data.
    pub fn decrypt(&self, ciphertext: &str, associated_data: &str) -> CryptoResult<String> {
        String::from_utf8(self.decrypt_bytes(ciphertext, associated_data.as_bytes())?).map_err(|_| CryptoError::NotText)
    }

    /// Encrypts bytes under the current key (see [`KeyRing::encrypt`]).
    pub fn encrypt_bytes(&self, plaintext: &[u8], associated_data: &[u8]) -> CryptoResult<String> {
        let key = self.current();
        let nonce = XNonce::try_generate().map_err(|e| CryptoError::Random(e.to_string()))?;
        let aad = full_aad(&key.id, associated_data);
        let sealed =
            key.cipher.encrypt(&nonce, Payload { msg: plaintext, aad: &aad }).map_err(|_| CryptoError::TooLong)?;
        let mut body = Vec::with_capacity(NONCE_LEN + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(format!("{CIPHERTEXT_VERSION}:{}:{}", key.id, URL_SAFE_NO_PAD.encode(body)))
    }

    /// Decrypts a value written by [`KeyRing::encrypt_bytes`] with the same associated data.
    pub fn decrypt_bytes(&self, ciphertext: &str, associated_data: &[u8]) -> CryptoResult<Vec<u8>> {
        let (id, body) = split(ciphertext)?;
        let key = self.key(id)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| CryptoError::Malformed)?;
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let aad = full_aad(id, associated_data);
        key.cipher.decrypt(&nonce, Payload { msg: sealed, aad: &aad }).map_err(|_| CryptoError::Authentication)
    }

    /// True when a value was written with an older key than the current one.
    pub fn needs_rotation(&self, ciphertext: &str) -> CryptoResult<bool> {
        Ok(key_id_of(ciphertext)? != self.current_key_id())
    }

    /// Rotation step two: the value re-encrypted under the current key (verified on the way),
    /// or unchanged when it already is.
    pub fn rotate(&self, ciphertext: &str, associated_data: &str) -> CryptoResult<String> {
        if !self.needs_rotation(ciphertext)? {
            return Ok(ciphertext.to_string());
        }
        let plain = self.decrypt_bytes(ciphertext, associated_data.as_bytes())?;
        self.encrypt_bytes(&plain, associated_data.as_bytes())
    }

    /// The blind index of a value: HMAC-SHA256, under a key derived from the ring's first key,
    /// of `context` (use [`index_context`]) and the normalised value
    /// ([`normalise_for_index`]); 64 hex digits. Equal e-mails in one context give equal
    /// indexes, so `WHERE email_index = $1` finds a customer without decrypting anything.
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mut mac = self.keys[0].index_mac.clone();
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context.as_bytes());
        mac.update(normalise_for_index(value).as_bytes());
        hex_lower(&mac.finalize().into_bytes())
    }
}

fn new_master() -> CryptoResult<[u8; KEY_LEN]> {
    <[u8; KEY_LEN]>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> CryptoResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::InsecureKeyFile { path: path.to_path_buf(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> CryptoResult<()> {
    Ok(())
}

/// Writes `text` to a new private (0600) file beside `path`, synced, and returns its path.
fn write_private_temp(path: &Path, text: &str) -> CryptoResult<PathBuf> {
    let suffix: [u8; 6] = <[u8; 6]>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))?;
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", hex_lower(&suffix)));
    let tmp = path.with_file_name(name);
    let io = |source| CryptoError::KeyFile { path: tmp.clone(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    let written = file.write_all(text.as_bytes()).and_then(|()| file.sync_all());
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(CryptoError::KeyFile { path: tmp, source });
    }
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn ad() -> String {
        associated_data(OrgId(1), "customers.email", "C-001")
    }

    #[test]
    fn values_round_trip() {
        let ring = KeyRing::generate().unwrap();
        for plain in ["ana@example.com", "", "José Núñez 📞 +34 600 000 000", &"x".repeat(10_000)] {
            let c = ring.encrypt(plain, &ad()).unwrap();
            assert!(c.starts_with(&format!("v1:{}:", ring.current_key_id())), "{c}");
            assert!(!c.contains(plain) || plain.is_empty());
            assert!(is_encrypted(&c));
            assert_eq!(ring.decrypt(&c, &ad()).unwrap(), plain);
        }
        let bytes = ring.encrypt_bytes(&[0, 255, 1], b"ctx").unwrap();
        assert_eq!(ring.decrypt_bytes(&bytes, b"ctx").unwrap(), vec![0, 255, 1]);
        assert!(matches!(
            ring.decrypt(&ring.encrypt_bytes(&[0xff, 0xfe], b"a").unwrap(), "a"),
            Err(CryptoError::NotText)
        ));
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let ring = KeyRing::generate().unwrap();
        let a = ring.encrypt("same", &ad()).unwrap();
        let b = ring.encrypt("same", &ad()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn tampering_is_detected() {
        let ring = KeyRing::generate().unwrap();
        let c = ring.encrypt("ana@example.com", &ad()).unwrap();
        let (head, body) = c.rsplit_once(':').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(body).unwrap();
        for i in [0, NONCE_LEN, raw.len() - 1] {
            raw[i] ^= 0x01;
            let forged = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&raw));
            assert!(matches!(ring.decrypt(&forged, &ad()), Err(CryptoError::Authentication)), "byte {i}");
            raw[i] ^= 0x01;
        }
        // Truncated, garbled or foreign formats are malformed, not a panic.
        for bad in ["", "v1:", "v1:k1", "v2:k1:AAAA", "plain@example.com", "v1:id:!!!", "v1:id:AAAA", "v1:id:a:b"] {
            let err = ring.decrypt(bad, &ad()).unwrap_err();
            assert!(matches!(err, CryptoError::Malformed | CryptoError::UnknownKey(_)), "{bad}: {err}");
        }
        let short = format!("v1:{}:{}", ring.current_key_id(), URL_SAFE_NO_PAD.encode([0u8; 30]));
        assert!(matches!(ring.decrypt(&short, &ad()), Err(CryptoError::Malformed)));
        // Relabelling the key id does not help an attacker.
        let other = KeyRing::generate().unwrap();
        let relabelled = c.replacen(ring.current_key_id(), other.current_key_id(), 1);
        assert!(matches!(other.decrypt(&relabelled, &ad()), Err(CryptoError::Authentication)));
    }

    #[test]
    fn wrong_associated_data_fails() {
        let ring = KeyRing::generate().unwrap();
        let c = ring.encrypt("ana@example.com", &ad()).unwrap();
        for other in [
            associated_data(OrgId(2), "customers.email", "C-001"), // another tenant
            associated_data(OrgId(1), "customers.email", "C-002"), // another row
            associated_data(OrgId(1), "customers.name", "C-001"),  // another column
            String::new(),
        ] {
            assert!(matches!(ring.decrypt(&c, &other), Err(CryptoError::Authentication)), "{other}");
        }
        // Length prefixes keep distinct places distinct.
        assert_ne!(associated_data(OrgId(1), "a;row=1:b", ""), associated_data(OrgId(1), "a", "b"));
        assert_ne!(associated_data(OrgId(12), "c", ""), associated_data(OrgId(1), "2c", ""));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = KeyRing::generate().unwrap();
        let c_old = old.encrypt("ana@example.com", &ad()).unwrap();
        let new = old.with_new_key().unwrap();
        assert_eq!(new.key_ids().len(), 2);
        assert_ne!(new.current_key_id(), old.current_key_id());
        assert_eq!(new.key_ids()[0], old.current_key_id());
        // Old values still read; new ones use the new key.
        assert_eq!(new.decrypt(&c_old, &ad()).unwrap(), "ana@example.com");
        let c_new = new.encrypt("bea@example.com", &ad()).unwrap();
        assert_eq!(key_id_of(&c_new).unwrap(), new.current_key_id());
        // Re-encryption moves a value to the current key, and is idempotent.
        assert!(new.needs_rotation(&c_old).unwrap());
        let rotated = new.rotate(&c_old, &ad()).unwrap();
        assert!(!new.needs_rotation(&rotated).unwrap());
        assert_eq!(new.rotate(&rotated, &ad()).unwrap(), rotated);
        assert_eq!(new.decrypt(&rotated, &ad()).unwrap(), "ana@example.com");
        // Rotation verifies: a value under the wrong associated data is not re-encrypted.
        assert!(matches!(new.rotate(&c_old, "other"), Err(CryptoError::Authentication)));
        // The old ring cannot read values under the new key.
        assert!(matches!(old.decrypt(&c_new, &ad()), Err(CryptoError::UnknownKey(id)) if id == new.current_key_id()));
        // The blind index does not change with rotation.
        let ctx = index_context(OrgId(1), "customers.email");
        assert_eq!(old.blind_index(&ctx, "ana@example.com"), new.blind_index(&ctx, "ana@example.com"));
    }

    #[test]
    fn blind_index_is_stable_normalised_and_keyed() {
        let ring = KeyRing::parse(HEX_KEY).unwrap();
        let ctx = index_context(OrgId(1), "customers.email");
        let a = ring.blind_index(&ctx, "ana@example.com");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, ring.blind_index(&ctx, "  Ana@Example.COM "));
        assert_eq!(a, KeyRing::parse(HEX_KEY).unwrap().blind_index(&ctx, "ana@example.com"), "stable across loads");
        assert_ne!(a, ring.blind_index(&ctx, "bea@example.com"));
        assert_ne!(a, ring.blind_index(&index_context(OrgId(2), "customers.email"), "ana@example.com"));
        assert_ne!(a, ring.blind_index(&index_context(OrgId(1), "customers.phone"), "ana@example.com"));
        assert_ne!(a, KeyRing::generate().unwrap().blind_index(&ctx, "ana@example.com"), "keyed");
        // Not a plain hash of the value.
        use sha2::Digest;
        assert_ne!(a, hex_lower(&Sha256::digest(b"ana@example.com")));
    }

    #[test]
    fn key_ids_are_fingerprints_unless_given() {
        let a = KeyRing::parse(HEX_KEY).unwrap();
        let id = a.current_key_id().to_string();
        assert!(id.starts_with('k') && id.len() == 9, "{id}");
        // The same key in base64 (either alphabet, padded or not) has the same id.
        let bytes = decode_hex(HEX_KEY).unwrap();
        for text in [
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
        ] {
            assert_eq!(KeyRing::parse(&text).unwrap().current_key_id(), id);
        }
        let named = KeyRing::parse(&format!("main:{HEX_KEY}")).unwrap();
        assert_eq!(named.current_key_id(), "main");
        // Several keys, oldest first, separated by commas, spaces or lines; comments ignored.
        let other = "ff".repeat(32);
        let ring = KeyRing::parse(&format!("# keys\n{HEX_KEY}, # old\n  new:{other}\n")).unwrap();
        assert_eq!(ring.key_ids(), vec![id.as_str(), "new"]);
        assert_eq!(ring.current_key_id(), "new");
        assert_eq!(KeyRing::parse(&ring.to_file_text()).unwrap().key_ids(), ring.key_ids());
    }

    #[test]
    fn bad_key_material_is_a_typed_error() {
        let bad = [
            "",
            "# only a comment",
            "abc",
            &HEX_KEY[..62],
            &format!("{HEX_KEY}00"),
            &"zz".repeat(32),
            "AAAA",
            &STANDARD_NO_PAD.encode([7u8; 31]),
            &format!("bad id:{HEX_KEY}"),
            &format!("a:{HEX_KEY},a:{}", "ff".repeat(32)),
            &format!("{HEX_KEY} {HEX_KEY}"),
            &format!("{}:{HEX_KEY}", "x".repeat(33)),
        ];
        for text in bad {
            assert!(matches!(KeyRing::parse(text), Err(CryptoError::InvalidKey(_))), "{text:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(KeyRing::load(Some("  "), dir.path()), Err(CryptoError::InvalidKey(_))));
        assert!(!dir.path().join(KEY_FILE_NAME).exists(), "a blank setting must not create a key file");
    }

    #[test]
    fn debug_and_errors_never_show_keys() {
        let ring = KeyRing::parse(HEX_KEY).unwrap();
        let debug = format!("{ring:?}");
        assert!(debug.contains(ring.current_key_id()));
        assert!(!debug.contains("0001020304") && !debug.contains("AAECAwQF"));
        let err = KeyRing::parse(&HEX_KEY[..60]).unwrap_err().to_string();
        assert!(!err.contains(&HEX_KEY[..60]), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_created_private_and_reloaded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let (ring, created) = KeyRing::load_or_create_file(&path).unwrap();
        assert!(created);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('#') && text.contains(ring.current_key_id()));
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // Reloading gives the same keys: values written before a restart read after it.
        let c = ring.encrypt("ana@example.com", &ad()).unwrap();
        let (again, created) = KeyRing::load_or_create_file(&path).unwrap();
        assert!(!created);
        assert_eq!(again.decrypt(&c, &ad()).unwrap(), "ana@example.com");
        let via_load = KeyRing::load(None, dir.path()).unwrap();
        assert_eq!(via_load.key_ids(), ring.key_ids());
        // The environment setting wins over the file.
        let env = KeyRing::load(Some(HEX_KEY), dir.path()).unwrap();
        assert_eq!(env.key_ids(), KeyRing::parse(HEX_KEY).unwrap().key_ids());
        // Adding a key keeps the old one and the file private.
        let rotated = KeyRing::add_key_to_file(&path).unwrap();
        assert_eq!(rotated.key_ids().len(), 2);
        assert_eq!(rotated.key_ids()[0], ring.current_key_id());
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let reloaded = KeyRing::load_file(&path).unwrap();
        assert_eq!(reloaded.key_ids(), rotated.key_ids());
        assert_eq!(reloaded.decrypt(&c, &ad()).unwrap(), "ana@example.com");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || KeyRing::load_or_create_file(&path).unwrap())
            })
            .collect();
        let results: Vec<(KeyRing, bool)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
        let ids: Vec<String> = results.iter().map(|(r, _)| r.current_key_id().to_string()).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        KeyRing::load_or_create_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(KeyRing::load_file(&path), Err(CryptoError::InsecureKeyFile { mode: 0o644, .. })));
        assert!(matches!(KeyRing::load_or_create_file(&path), Err(CryptoError::InsecureKeyFile { .. })));
    }

    #[test]
    fn missing_or_corrupt_key_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        assert!(matches!(KeyRing::load_file(&path), Err(CryptoError::KeyFile { .. })));
        assert!(matches!(KeyRing::add_key_to_file(&path), Err(CryptoError::KeyFile { .. })));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&path).unwrap().write_all(b"k1:not-a-key\n").unwrap();
        assert!(matches!(KeyRing::load_file(&path), Err(CryptoError::InvalidKey(_))));
        assert!(matches!(KeyRing::load(None, dir.path()), Err(CryptoError::InvalidKey(_))));
    }

    #[test]
    fn plaintext_is_told_apart_from_ciphertext() {
        assert!(!is_encrypted("ana@example.com"));
        assert!(!is_encrypted("v1:only-two"));
        assert!(!is_encrypted("v10:a:b"));
        assert!(is_encrypted("v1:k1:AAAA"));
    }
}
