//! Normalisation, tokenisation and a small phrase matcher shared by every analyser.
//!
//! Analysers work on folded tokens: lowercase, Latin accents removed (`á` → `a`, `ñ` → `n`),
//! apostrophes dropped (`don't` → `dont`), letter runs of three or more collapsed (`buenooo` →
//! `bueno` is tried as `buenoo` → `bueno`), and Spanish chat spellings expanded (`q` → `que`,
//! `xq` → `porque`, `tb` → `tambien`). Offsets always point into the original text, so
//! redaction spans and key phrases can be mapped back.

use std::collections::HashMap;

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters (possibly with digits inside).
    Word,
    /// Digits only.
    Number,
    /// A pictographic emoji or an ASCII emoticon such as `:)`.
    Emoji,
    /// A clause or sentence boundary: `. , ; : ! ? …` and the like.
    Punct,
}

/// One token of a text, with its folded form and its byte span in the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Folded form (see the module docs); for emojis the emoji itself.
    pub norm: String,
    /// Byte offset of the first byte in the original text.
    pub start: usize,
    /// Byte offset one past the last byte in the original text.
    pub end: usize,
    /// Kind of token.
    pub kind: TokenKind,
    /// True when the original word was written in capitals (two letters or more).
    pub caps: bool,
    /// True when the original word had a letter repeated three times or more (`sooo`).
    pub elongated: bool,
    /// True when the token first letter was uppercase in the original text.
    pub capitalised: bool,
}

impl Token {
    /// True for words and numbers.
    pub fn is_word(&self) -> bool {
        matches!(self.kind, TokenKind::Word | TokenKind::Number)
    }
}

/// Lowercases and strips accents from one character (Latin-1 and Latin Extended-A subset).
pub fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' | 'Á' | 'À' | 'Ä' | 'Â' | 'Ã' | 'Å' => 'a',
        'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' | 'Ó' | 'Ò' | 'Ö' | 'Ô' | 'Õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        _ => {
            if c.is_ascii() {
                c.to_ascii_lowercase()
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        }
    }
}

/// Folds a whole string (see [`fold_char`]).
pub fn fold(s: &str) -> String {
    s.chars().filter(|c| !is_combining_mark(*c)).map(fold_char).collect()
}

/// True for combining diacritical marks (U+0300–U+036F), as in decomposed `e\u{301}`.
pub fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// True for characters we treat as emoji (pictographs, symbols, dingbats, flags).
pub fn is_emoji(c: char) -> bool {
    let u = c as u32;
    (0x1F300..=0x1FAFF).contains(&u)
        || (0x2600..=0x27BF).contains(&u)
        || (0x1F000..=0x1F2FF).contains(&u)
        || (0x2B00..=0x2BFF).contains(&u)
        || u == 0x2764
}

fn is_punct(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '…' | '¡' | '¿' | '(' | ')' | '"' | '«' | '»' | '\n')
}

const EMOTICONS: &[&str] = &[
    ":-)", ":)", ":-(", ":(", ":'(", ":D", ":-D", ";)", ";-)", ":P", ":p", ":/", ":-/", "<3", ":|", "xD", "XD", ":o",
    ":O", "=)", "=(",
];

/// Expands Spanish and English chat spellings; returns the expansion or `None`.
fn chat_expansion(norm: &str) -> Option<&'static str> {
    Some(match norm {
        "q" | "k" | "ke" | "qe" => "que",
        "xq" | "pq" | "porq" | "xk" | "pk" => "porque",
        "tb" | "tmb" | "tbn" | "tmbn" => "tambien",
        "x" => "por",
        "d" => "de",
        "pa" => "para",
        "xfa" | "xfavor" | "porfa" | "plis" => "por favor",
        "bn" => "bien",
        "mxo" | "mcho" => "mucho",
        "nd" => "nada",
        "ntp" => "no te preocupes",
        "msj" | "mje" => "mensaje",
        "dnd" => "donde",
        "cdo" => "cuando",
        "tmp" => "tampoco",
        "u" => "you",
        "ur" => "your",
        "thx" | "thnx" | "tks" | "ty" => "thanks",
        "pls" | "plz" => "please",
        "im" => "im",
        _ => return None,
    })
}

/// Collapses runs of three or more identical letters to `keep` letters.
pub fn collapse_runs(s: &str, keep: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    let mut run = 0;
    for c in s.chars() {
        if c == prev {
            run += 1;
        } else {
            prev = c;
            run = 1;
        }
        if run <= keep || c.is_ascii_digit() {
            out.push(c);
        }
    }
    out
}

fn has_long_run(s: &str) -> bool {
    let mut prev = '\0';
    let mut run = 0;
    for c in s.chars() {
        if c == prev && c.is_alphabetic() {
            run += 1;
            if run >= 3 {
                return true;
            }
        } else {
            prev = c;
            run = 1;
        }
    }
    false
}

/// A lexicon pattern (`"doesn't work"`, `"hassle-free"`, `"sin novedad*"`) in the form the
/// tokenizer gives text — each term's norms (folded, apostrophes dropped, hyphens split, chat
/// spelling expanded), `*` kept on a prefix term — so a pattern matches whatever way it was
/// written. `None` when a term holds anything but letters, digits, apostrophes and hyphens
/// (emoticons such as VADER's `*\0/*` are matched elsewhere, and must not turn into a prefix
/// of every number).
pub fn normalise_pattern(pattern: &str) -> Option<String> {
    let mut out = Vec::new();
    for term in pattern.split([' ', '_']).filter(|w| !w.is_empty()) {
        let (body, prefix) = term.strip_suffix('*').map_or((term, false), |b| (b, true));
        if !body.chars().all(|c| c.is_alphanumeric() || matches!(c, '\'' | '’' | '-')) {
            return None;
        }
        let toks = tokenize(body);
        if toks.is_empty() || toks.iter().any(|t| !matches!(t.kind, TokenKind::Word | TokenKind::Number)) {
            return None;
        }
        let last = toks.len() - 1;
        out.extend(toks.into_iter().enumerate().map(|(k, t)| if prefix && k == last { t.norm + "*" } else { t.norm }));
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// Splits a text into tokens (words, numbers, emojis, punctuation), with chat expansion.
///
/// URLs, `@mentions` and hashtags' `#` are skipped; a hashtag's word is kept.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(text.len() / 5 + 1);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = match rest.chars().next() {
            Some(c) => c,
            None => break,
        };
        let clen = c.len_utf8();
        // URLs and mentions: skip to the next whitespace.
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www.") {
            let n = rest.find(char::is_whitespace).unwrap_or(rest.len());
            i += n;
            continue;
        }
        if c == '@' {
            let n = rest.find(char::is_whitespace).unwrap_or(rest.len());
            i += n;
            continue;
        }
        if (c == ':' || c == ';' || c == '<' || c == '=' || c == 'x' || c == 'X')
            && let Some(e) = EMOTICONS.iter().find(|e| rest.starts_with(**e))
        {
            let after = rest[e.len()..].chars().next();
            let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if before_ok && after.is_none_or(|a| !a.is_alphanumeric()) {
                tokens.push(Token {
                    norm: (*e).to_string(),
                    start: i,
                    end: i + e.len(),
                    kind: TokenKind::Emoji,
                    caps: false,
                    elongated: false,
                    capitalised: false,
                });
                i += e.len();
                continue;
            }
        }
        if c.is_alphanumeric() {
            let start = i;
            let mut end = i;
            let mut all_digits = true;
            let mut upper = 0usize;
            let mut letters = 0usize;
            let mut norm = String::new();
            for (off, ch) in rest.char_indices() {
                if is_combining_mark(ch) && off > 0 {
                    // decomposed accents (NFD input): part of the word, dropped when folding
                    end = i + off + ch.len_utf8();
                    continue;
                }
                if ch.is_alphanumeric() {
                    if !ch.is_ascii_digit() {
                        all_digits = false;
                        letters += 1;
                        if ch.is_uppercase() {
                            upper += 1;
                        }
                    }
                    norm.push(fold_char(ch));
                    end = i + off + ch.len_utf8();
                } else if (ch == '\'' || ch == '’')
                    && rest[off + ch.len_utf8()..].chars().next().is_some_and(|n| n.is_alphabetic())
                    && off > 0
                {
                    // inner apostrophe: don't → dont
                    continue;
                } else {
                    break;
                }
            }
            let capitalised = c.is_uppercase();
            i = end;
            let elongated = has_long_run(&norm);
            let kind = if all_digits { TokenKind::Number } else { TokenKind::Word };
            let caps = letters >= 2 && upper == letters;
            if kind == TokenKind::Word
                && let Some(exp) = chat_expansion(&norm)
            {
                // expansions of several words become several tokens with the same span
                for w in exp.split(' ') {
                    tokens.push(Token {
                        norm: w.to_string(),
                        start,
                        end,
                        kind,
                        caps: false,
                        elongated: false,
                        capitalised: false,
                    });
                }
                continue;
            }
            tokens.push(Token { norm, start, end, kind, caps, elongated, capitalised });
            continue;
        }
        if is_emoji(c) {
            tokens.push(Token {
                norm: c.to_string(),
                start: i,
                end: i + clen,
                kind: TokenKind::Emoji,
                caps: false,
                elongated: false,
                capitalised: false,
            });
        } else if is_punct(c) {
            tokens.push(Token {
                norm: c.to_string(),
                start: i,
                end: i + clen,
                kind: TokenKind::Punct,
                caps: false,
                elongated: false,
                capitalised: false,
            });
        }
        i += clen;
    }
    tokens
}

/// One element of a phrase pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Exact(String),
    Prefix(String),
}

impl Term {
    fn parse(s: &str) -> Term {
        match s.strip_suffix('*') {
            Some(p) => Term::Prefix(fold(p)),
            None => Term::Exact(fold(s)),
        }
    }
    fn matches(&self, tok: &str) -> bool {
        match self {
            Term::Exact(e) => e == tok,
            Term::Prefix(p) => tok.starts_with(p.as_str()),
        }
    }
}

/// A match of a pattern over a token slice.
#[derive(Debug, PartialEq)]
pub struct PhraseMatch<'a, T> {
    /// Index of the first token matched.
    pub start: usize,
    /// Number of tokens matched.
    pub len: usize,
    /// The value attached to the pattern.
    pub value: &'a T,
}

/// Matches word patterns (`"cobro doble"`, `"factur*"`) over folded tokens in one pass.
///
/// Patterns are indexed by their first term (exact terms in a hash map, prefixes by prefix
/// length), so matching costs a few hash look-ups per token whatever the number of patterns.
#[derive(Debug, Clone)]
pub struct PhraseMatcher<T> {
    patterns: Vec<(Vec<Term>, T)>,
    exact: HashMap<String, Vec<usize>>,
    prefix: HashMap<String, Vec<usize>>,
    prefix_lens: Vec<usize>,
}

impl<T> Default for PhraseMatcher<T> {
    fn default() -> Self {
        PhraseMatcher { patterns: Vec::new(), exact: HashMap::new(), prefix: HashMap::new(), prefix_lens: Vec::new() }
    }
}

impl<T> PhraseMatcher<T> {
    /// An empty matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pattern: words separated by spaces or `_`, each optionally ending in `*`.
    /// Empty patterns are ignored.
    pub fn add(&mut self, pattern: &str, value: T) {
        let terms: Vec<Term> = pattern.split([' ', '_']).filter(|w| !w.is_empty()).map(Term::parse).collect();
        let Some(first) = terms.first().cloned() else {
            return;
        };
        let id = self.patterns.len();
        self.patterns.push((terms, value));
        match first {
            Term::Exact(e) => self.exact.entry(e).or_default().push(id),
            Term::Prefix(p) => {
                if !self.prefix_lens.contains(&p.len()) {
                    self.prefix_lens.push(p.len());
                    self.prefix_lens.sort_unstable();
                }
                self.prefix.entry(p).or_default().push(id);
            }
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// True when no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The longest pattern starting at token `i`, if any.
    pub fn longest_at<'a>(&'a self, toks: &[&str], i: usize) -> Option<PhraseMatch<'a, T>> {
        let mut best: Option<PhraseMatch<'a, T>> = None;
        self.each_at(toks, i, |m| {
            if best.as_ref().is_none_or(|b| m.len > b.len) {
                best = Some(m);
            }
        });
        best
    }

    /// Every pattern matching at token `i` (all lengths), calling `f` for each.
    pub fn each_at<'a>(&'a self, toks: &[&str], i: usize, mut f: impl FnMut(PhraseMatch<'a, T>)) {
        let first = toks[i];
        let mut consider = |ids: &Vec<usize>| {
            for &id in ids {
                let (terms, value) = &self.patterns[id];
                if i + terms.len() <= toks.len()
                    && terms.iter().enumerate().skip(1).all(|(k, t)| t.matches(toks[i + k]))
                {
                    f(PhraseMatch { start: i, len: terms.len(), value });
                }
            }
        };
        if let Some(ids) = self.exact.get(first) {
            consider(ids);
        }
        for &l in &self.prefix_lens {
            if l > first.len() {
                break;
            }
            if first.is_char_boundary(l)
                && let Some(ids) = self.prefix.get(&first[..l])
            {
                consider(ids);
            }
        }
    }

    /// All non-overlapping longest matches, scanning left to right.
    pub fn find_all<'a>(&'a self, toks: &[&str]) -> Vec<PhraseMatch<'a, T>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if let Some(m) = self.longest_at(toks, i) {
                i += m.len;
                out.push(m);
            } else {
                i += 1;
            }
        }
        out
    }
}

/// Parses a `TERM<TAB>VALUE` list (comments start with `#`) into pairs; bad lines are skipped.
pub fn parse_weighted_list(src: &str) -> Vec<(&str, f32)> {
    src.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let term = parts.next()?.trim();
            let v: f32 = parts.next()?.trim().parse().ok()?;
            Some((term, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_normalised_like_text() {
        assert_eq!(normalise_pattern("doesn't work").as_deref(), Some("doesnt work"));
        assert_eq!(normalise_pattern("hassle-free").as_deref(), Some("hassle free"));
        assert_eq!(normalise_pattern("sin novedad*").as_deref(), Some("sin novedad*"));
        assert_eq!(normalise_pattern("Atención_pésima").as_deref(), Some("atencion pesima"));
        assert_eq!(normalise_pattern("5 estrellas").as_deref(), Some("5 estrellas"));
        assert_eq!(normalise_pattern("q mal").as_deref(), Some("que mal"));
        assert_eq!(normalise_pattern(":-*"), None);
        assert_eq!(normalise_pattern("*\\0/*"), None);
        assert_eq!(normalise_pattern("( '}{' )"), None);
        assert_eq!(normalise_pattern("   "), None);
        // A normalised pattern matches the text it names.
        let mut m = PhraseMatcher::new();
        m.add(&normalise_pattern("won't let me").unwrap(), 1);
        let text = tokenize("The app WON'T let me pay");
        let norms: Vec<&str> = text.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(m.find_all(&norms).len(), 1);
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Árbol CAMIÓN Ñandú"), "arbol camion nandu");
    }

    #[test]
    fn tokenizes_with_offsets_chat_and_emoji() {
        let t = tokenize("No me gustó xq tardó 3 días 😡 :)");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, vec!["no", "me", "gusto", "porque", "tardo", "3", "dias", "😡", ":)"]);
        assert_eq!(&"No me gustó xq"[t[2].start..t[2].end], "gustó");
        assert_eq!(t[5].kind, TokenKind::Number);
        assert_eq!(t[7].kind, TokenKind::Emoji);
    }

    #[test]
    fn apostrophes_caps_and_elongation() {
        let t = tokenize("I DON'T like it sooo much, @user http://x.y/z");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, vec!["i", "dont", "like", "it", "sooo", "much", ","]);
        assert!(t[1].caps);
        assert!(t[4].elongated);
        assert_eq!(collapse_runs("sooo", 1), "so");
    }

    #[test]
    fn decomposed_accents_stay_inside_the_word() {
        let text = "pe\u{301}simo ya";
        let t = tokenize(text);
        assert_eq!(t[0].norm, "pesimo");
        assert_eq!(&text[t[0].start..t[0].end], "pe\u{301}simo");
        assert_eq!(fold("Pe\u{301}rez"), "perez");
    }

    #[test]
    fn phrase_matcher_prefers_longest() {
        let mut m = PhraseMatcher::new();
        m.add("no funciona", 1);
        m.add("no", 2);
        m.add("factur*", 3);
        let toks = ["la", "factura", "no", "funciona"];
        let found: Vec<(usize, usize, i32)> = m.find_all(&toks).iter().map(|x| (x.start, x.len, *x.value)).collect();
        assert_eq!(found, vec![(1, 1, 3), (2, 2, 1)]);
    }
}
