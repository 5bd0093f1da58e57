//! Just enough JOSE for OpenID Connect ID tokens, in a few hundred lines instead of a crate:
//! compact JWS parsing, JWK sets, signature verification with `ring`, and the ID token claim
//! checks of OpenID Connect Core §3.1.3.7.
//!
//! Only asymmetric algorithms are accepted (RS256/384/512, PS256/384/512, ES256/384): `none`
//! and the HMAC family are refused, so a token can never be "signed" with something the client
//! knows. The key must match the algorithm (RSA for RS/PS, EC on the right curve for ES), may
//! not be marked for encryption, and must agree with the algorithm it names, which closes the
//! classic algorithm-confusion holes. Headers with `crit` extensions are refused (none is
//! understood).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;

/// Largest token accepted, bytes; real ID tokens are a few KiB.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Why an ID token was refused. Each has a stable [`JwtError::code`] for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a compact JWS, bad base64, bad JSON, or a required claim missing.
    #[error("the token is malformed")]
    Malformed,
    /// An algorithm this client does not accept (or the provider does not announce).
    #[error("the token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// No key of the provider's set fits the token.
    #[error("no key of the provider matches the token")]
    UnknownKey,
    /// The matching key is malformed.
    #[error("the provider's key is malformed")]
    InvalidKey,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("the token comes from another issuer")]
    WrongIssuer,
    /// `aud` does not contain this client.
    #[error("the token is meant for another client")]
    WrongAudience,
    /// `azp` names another client, or is missing with several audiences.
    #[error("the token's authorised party is another client")]
    WrongAuthorizedParty,
    /// `exp` is past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `nonce` is missing or not the one this sign-in sent.
    #[error("the token's nonce does not match")]
    WrongNonce,
}

impl JwtError {
    /// A stable snake_case code (audit log, logs).
    pub fn code(self) -> &'static str {
        match self {
            JwtError::Malformed => "malformed_token",
            JwtError::UnsupportedAlgorithm => "unsupported_algorithm",
            JwtError::UnknownKey => "unknown_key",
            JwtError::InvalidKey => "invalid_key",
            JwtError::BadSignature => "bad_signature",
            JwtError::WrongIssuer => "wrong_issuer",
            JwtError::WrongAudience => "wrong_audience",
            JwtError::WrongAuthorizedParty => "wrong_authorized_party",
            JwtError::Expired => "expired",
            JwtError::IssuedInFuture => "issued_in_future",
            JwtError::NotYetValid => "not_yet_valid",
            JwtError::WrongNonce => "wrong_nonce",
        }
    }
}

/// A signing algorithm this client verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the OpenID Connect default).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
}

impl Alg {
    /// Every accepted algorithm.
    pub const ALL: [Alg; 8] =
        [Alg::Rs256, Alg::Rs384, Alg::Rs512, Alg::Ps256, Alg::Ps384, Alg::Ps512, Alg::Es256, Alg::Es384];

    /// The JOSE name (`RS256`…).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
        }
    }

    /// Parses a JOSE name; `None` for anything not accepted (including `none` and `HS*`).
    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    fn key_type(self) -> &'static str {
        match self {
            Alg::Es256 | Alg::Es384 => "EC",
            _ => "RSA",
        }
    }

    /// The curve an EC key must be on, and its coordinate length in bytes.
    fn curve(self) -> Option<(&'static str, usize)> {
        match self {
            Alg::Es256 => Some(("P-256", 32)),
            Alg::Es384 => Some(("P-384", 48)),
            _ => None,
        }
    }
}

/// The JOSE header fields this client looks at.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// Signing algorithm.
    pub alg: String,
    /// Key id, choosing the key in the provider's set.
    #[serde(default)]
    pub kid: Option<String>,
    /// Critical extensions; any makes the token unacceptable.
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A parsed, not yet verified compact JWS.
#[derive(Debug, Clone)]
pub struct Jws {
    /// Its header.
    pub header: Header,
    /// Its algorithm, one of the accepted ones.
    pub alg: Alg,
    signing_input: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)
}

impl Jws {
    /// Splits and decodes a compact JWS (`header.payload.signature`), refusing algorithms that
    /// are not accepted and headers with critical extensions.
    pub fn parse(token: &str) -> Result<Jws, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwtError::Malformed);
        };
        let header: Header = serde_json::from_slice(&b64(h)?).map_err(|_| JwtError::Malformed)?;
        let alg = Alg::parse(&header.alg).ok_or(JwtError::UnsupportedAlgorithm)?;
        if header.crit.is_some() {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        let payload = b64(p)?;
        let signature = b64(s)?;
        Ok(Jws { header, alg, signing_input: format!("{h}.{p}"), payload, signature })
    }

    /// Checks the signature with `key` (which must suit the algorithm).
    pub fn verify(&self, key: &Jwk) -> Result<(), JwtError> {
        if !key.suits(self.alg) {
            return Err(JwtError::UnknownKey);
        }
        let message = self.signing_input.as_bytes();
        let ok = match self.alg.curve() {
            Some((_, len)) => {
                let (x, y) = (key_part(&key.x)?, key_part(&key.y)?);
                if x.len() != len || y.len() != len {
                    return Err(JwtError::InvalidKey);
                }
                let point: Vec<u8> = [&[0x04u8][..], &x, &y].concat();
                let algorithm = match self.alg {
                    Alg::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => &signature::ECDSA_P256_SHA256_FIXED,
                };
                UnparsedPublicKey::new(algorithm, point).verify(message, &self.signature).is_ok()
            }
            None => {
                let (n, e) = (key_part(&key.n)?, key_part(&key.e)?);
                // RFC 7518 forbids leading zeros, but some providers send them; ring refuses them.
                let n = strip_leading_zeros(&n);
                let e = strip_leading_zeros(&e);
                if n.is_empty() || e.is_empty() {
                    return Err(JwtError::InvalidKey);
                }
                let parameters: &signature::RsaParameters = match self.alg {
                    Alg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Alg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Alg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Alg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Alg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                    _ => &signature::RSA_PSS_2048_8192_SHA512,
                };
                RsaPublicKeyComponents { n, e }.verify(parameters, message, &self.signature).is_ok()
            }
        };
        if ok { Ok(()) } else { Err(JwtError::BadSignature) }
    }

    /// The payload as ID token claims. Only call this after [`Jws::verify`].
    pub fn claims(&self) -> Result<IdTokenClaims, JwtError> {
        serde_json::from_slice(&self.payload).map_err(|_| JwtError::Malformed)
    }
}

fn key_part(part: &Option<String>) -> Result<Vec<u8>, JwtError> {
    part.as_deref().and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).ok_or(JwtError::InvalidKey)
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// One public key of a JWK set (RFC 7517); fields of other key types are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA` or `EC` (others are never used).
    pub kty: String,
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// The one algorithm the key is for, when the provider says.
    #[serde(default)]
    pub alg: Option<String>,
    /// `sig` or `enc`, when the provider says.
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    /// RSA modulus (base64url, big-endian).
    #[serde(default)]
    pub n: Option<String>,
    /// RSA public exponent (base64url, big-endian).
    #[serde(default)]
    pub e: Option<String>,
    /// EC curve.
    #[serde(default)]
    pub crv: Option<String>,
    /// EC x coordinate (base64url).
    #[serde(default)]
    pub x: Option<String>,
    /// EC y coordinate (base64url).
    #[serde(default)]
    pub y: Option<String>,
}

impl Jwk {
    /// True when this key may verify a signature made with `alg`.
    fn suits(&self, alg: Alg) -> bool {
        self.kty == alg.key_type()
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.alg.as_deref().is_none_or(|a| a == alg.name())
            && alg.curve().is_none_or(|(crv, _)| self.crv.as_deref() == Some(crv))
    }
}

/// Parses a JWK set document (`{"keys": [...]}`); keys that are not objects of the expected
/// shape are skipped rather than failing the whole set.
pub fn parse_jwk_set(bytes: &[u8]) -> Result<Vec<Jwk>, JwtError> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(bytes).map_err(|_| JwtError::Malformed)?;
    Ok(set.keys.into_iter().filter_map(|k| serde_json::from_value(k).ok()).collect())
}

/// The key of `keys` for a token: the one with its `kid`, or, when the token names none, the
/// only key that suits its algorithm (OpenID Connect Core §10.1 requires a `kid` otherwise).
pub fn select_key<'a>(keys: &'a [Jwk], jws: &Jws) -> Option<&'a Jwk> {
    let mut usable = keys.iter().filter(|k| k.suits(jws.alg));
    match &jws.header.kid {
        Some(kid) => usable.find(|k| k.kid.as_deref() == Some(kid.as_str())),
        None => match (usable.next(), usable.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    }
}

/// `aud`: one client id or several.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(a) => a == client_id,
            Audience::Many(all) => all.iter().any(|a| a == client_id),
        }
    }

    fn is_many(&self) -> bool {
        matches!(self, Audience::Many(all) if all.len() > 1)
    }
}

/// A JSON boolean, or the strings `"true"`/`"false"` some providers send instead.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
enum LenientBool {
    Bool(bool),
    Text(LenientBoolText),
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
enum LenientBoolText {
    #[serde(rename = "true")]
    True,
    #[serde(rename = "false")]
    False,
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<LenientBool>::deserialize(d)?.map(|b| match b {
        LenientBool::Bool(b) => b,
        LenientBool::Text(t) => t == LenientBoolText::True,
    }))
}

/// NumericDate: seconds since the epoch, possibly fractional (RFC 7519 §2).
fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v.abs() < 1e15 {
        Ok(v.floor() as i64)
    } else {
        Err(serde::de::Error::custom("not a NumericDate"))
    }
}

fn optional_numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "numeric_date")] i64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// The ID token claims this client uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the provider's stable id of the person.
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Authorised party.
    #[serde(default)]
    pub azp: Option<String>,
    /// Expiry, seconds since the epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: i64,
    /// Not-before, seconds since the epoch.
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub nbf: Option<i64>,
    /// The nonce this client sent.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The person's e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the provider verified that address.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub email_verified: Option<bool>,
}

/// What the claims of a verified ID token must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The configured issuer, compared exactly.
    pub issuer: &'a str,
    /// This client's id.
    pub client_id: &'a str,
    /// The nonce sent with this sign-in.
    pub nonce: &'a str,
    /// Now, seconds since the epoch.
    pub now: i64,
    /// Allowed clock difference, seconds.
    pub leeway: i64,
}

/// Checks `iss`, `aud`, `azp`, `exp`, `iat`, `nbf` and `nonce` (OpenID Connect Core §3.1.3.7).
pub fn validate_claims(claims: &IdTokenClaims, expected: &Expected<'_>) -> Result<(), JwtError> {
    if claims.iss != expected.issuer {
        return Err(JwtError::WrongIssuer);
    }
    if !claims.aud.contains(expected.client_id) {
        return Err(JwtError::WrongAudience);
    }
    match &claims.azp {
        Some(azp) if azp != expected.client_id => return Err(JwtError::WrongAuthorizedParty),
        None if claims.aud.is_many() => return Err(JwtError::WrongAuthorizedParty),
        _ => {}
    }
    if claims.exp.saturating_add(expected.leeway) <= expected.now {
        return Err(JwtError::Expired);
    }
    if claims.iat.saturating_sub(expected.leeway) > expected.now {
        return Err(JwtError::IssuedInFuture);
    }
    if claims.nbf.is_some_and(|nbf| nbf.saturating_sub(expected.leeway) > expected.now) {
        return Err(JwtError::NotYetValid);
    }
    let nonce_ok = claims.nonce.as_deref().is_some_and(|n| constant_time_eq(n.as_bytes(), expected.nonce.as_bytes()));
    if !nonce_ok {
        return Err(JwtError::WrongNonce);
    }
    if claims.sub.is_empty() {
        return Err(JwtError::Malformed);
    }
    Ok(())
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
    use serde_json::json;

    /// A test-only RSA key (ring cannot generate RSA keys); never used outside tests.
    const TEST_ONLY_RSA_KEY_PEM: &str = include_str!("../../../tests/api/fixtures/TEST_ONLY_oidc_rsa_key.pem");

    fn enc(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_key() -> RsaKeyPair {
        let body: String = TEST_ONLY_RSA_KEY_PEM
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        RsaKeyPair::from_pkcs8(&der).unwrap()
    }

    fn rsa_jwk(key: &RsaKeyPair, kid: &str) -> Jwk {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
        Jwk {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            n: Some(enc(&public.n)),
            e: Some(enc(&public.e)),
            ..Default::default()
        }
    }

    fn ec_key() -> (EcdsaKeyPair, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = key.public_key().as_ref();
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some("ec-1".into()),
            crv: Some("P-256".into()),
            x: Some(enc(&point[1..33])),
            y: Some(enc(&point[33..65])),
            use_: Some("sig".into()),
            ..Default::default()
        };
        (key, jwk)
    }

    fn signing_input(header: &serde_json::Value, claims: &serde_json::Value) -> String {
        format!("{}.{}", enc(header.to_string().as_bytes()), enc(claims.to_string().as_bytes()))
    }

    fn sign_es256(key: &EcdsaKeyPair, header: serde_json::Value, claims: &serde_json::Value) -> String {
        let input = signing_input(&header, claims);
        let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", enc(sig.as_ref()))
    }

    fn sign_rs256(key: &RsaKeyPair, header: serde_json::Value, claims: &serde_json::Value) -> String {
        let input = signing_input(&header, claims);
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
        format!("{input}.{}", enc(&sig))
    }

    fn claims() -> serde_json::Value {
        json!({"iss": "https://idp.example", "sub": "u1", "aud": "escucha", "exp": 2_000, "iat": 1_000,
               "nonce": "n-1", "email": "ana@acme.example", "email_verified": true})
    }

    fn expected() -> Expected<'static> {
        Expected { issuer: "https://idp.example", client_id: "escucha", nonce: "n-1", now: 1_500, leeway: 60 }
    }

    #[test]
    fn es256_tokens_verify_with_their_key_only() {
        let (key, jwk) = ec_key();
        let token = sign_es256(&key, json!({"alg": "ES256", "kid": "ec-1"}), &claims());
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(jws.alg, Alg::Es256);
        assert_eq!(select_key(std::slice::from_ref(&jwk), &jws), Some(&jwk));
        jws.verify(&jwk).unwrap();
        assert_eq!(jws.claims().unwrap().email.as_deref(), Some("ana@acme.example"));
        let (_, other) = ec_key();
        assert_eq!(jws.verify(&other), Err(JwtError::BadSignature));
        // One changed payload byte breaks the signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = enc(claims().to_string().replace("ana@", "eve@").as_bytes());
        assert_eq!(Jws::parse(&parts.join(".")).unwrap().verify(&jwk), Err(JwtError::BadSignature));
    }

    #[test]
    fn rs256_tokens_verify_from_the_modulus_and_exponent() {
        let key = rsa_key();
        let jwk = rsa_jwk(&key, "rsa-1");
        let token = sign_rs256(&key, json!({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}), &claims());
        let jws = Jws::parse(&token).unwrap();
        jws.verify(&jwk).unwrap();
        // A leading zero in the modulus (seen in the wild) is tolerated.
        let mut padded = jwk.clone();
        let n = URL_SAFE_NO_PAD.decode(jwk.n.as_deref().unwrap()).unwrap();
        padded.n = Some(enc(&[&[0u8][..], &n].concat()));
        jws.verify(&padded).unwrap();
        // An RSA key cannot verify an ES256 token, nor an EC key an RS256 one.
        let (ec, ec_jwk) = ec_key();
        let es = Jws::parse(&sign_es256(&ec, json!({"alg": "ES256"}), &claims())).unwrap();
        assert_eq!(es.verify(&jwk), Err(JwtError::UnknownKey));
        assert_eq!(jws.verify(&ec_jwk), Err(JwtError::UnknownKey));
        // A key pinned to another algorithm, or meant for encryption, is not used.
        assert_eq!(jws.verify(&Jwk { alg: Some("RS512".into()), ..jwk.clone() }), Err(JwtError::UnknownKey));
        assert_eq!(jws.verify(&Jwk { use_: Some("enc".into()), ..jwk.clone() }), Err(JwtError::UnknownKey));
        assert_eq!(jws.verify(&Jwk { n: Some("***".into()), ..jwk }), Err(JwtError::InvalidKey));
    }

    #[test]
    fn none_hmac_critical_and_garbage_are_refused() {
        let body = enc(claims().to_string().as_bytes());
        for header in [json!({"alg": "none"}), json!({"alg": "HS256"}), json!({"alg": "ES256", "crit": ["exp"]})] {
            let token = format!("{}.{body}.", enc(header.to_string().as_bytes()));
            assert_eq!(Jws::parse(&token).unwrap_err(), JwtError::UnsupportedAlgorithm, "{header}");
        }
        for token in ["", "a.b", "a.b.c.d", "!!.e30.e30", "e30.e30.e30", &"a".repeat(MAX_TOKEN_LEN + 1)] {
            assert!(Jws::parse(token).is_err(), "{token}");
        }
        // A padded segment is not compact serialisation.
        let header = enc(json!({"alg": "ES256"}).to_string().as_bytes());
        assert_eq!(Jws::parse(&format!("{header}.{body}=.AA")).unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn jwk_sets_skip_odd_keys_and_keys_are_chosen_by_kid() {
        let doc = json!({"keys": [
            {"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "b", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "c", "k": "c2VjcmV0"},
            "not a key",
            {"kid": "no type"}
        ]});
        let keys = parse_jwk_set(doc.to_string().as_bytes()).unwrap();
        assert_eq!(keys.iter().map(|k| k.kid.as_deref().unwrap()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(parse_jwk_set(b"[]").is_err());
        let (ec, _) = ec_key();
        let with_kid = Jws::parse(&sign_es256(&ec, json!({"alg": "ES256", "kid": "b"}), &claims())).unwrap();
        assert_eq!(select_key(&keys, &with_kid).and_then(|k| k.kid.as_deref()), Some("b"));
        let other_kid = Jws::parse(&sign_es256(&ec, json!({"alg": "ES256", "kid": "a"}), &claims())).unwrap();
        assert_eq!(select_key(&keys, &other_kid), None, "kid 'a' is an RSA key");
        let no_kid = Jws::parse(&sign_es256(&ec, json!({"alg": "ES256"}), &claims())).unwrap();
        assert_eq!(select_key(&keys, &no_kid).and_then(|k| k.kid.as_deref()), Some("b"), "the only EC key");
        let two_ec = [keys[1].clone(), Jwk { kid: Some("d".into()), ..keys[1].clone() }];
        assert_eq!(select_key(&two_ec, &no_kid), None, "ambiguous without a kid");
        // A bad EC point length is an invalid key, not a panic.
        assert_eq!(with_kid.verify(&keys[1]), Err(JwtError::InvalidKey));
    }

    #[test]
    fn claims_are_checked_one_by_one() {
        let parse = |v: serde_json::Value| serde_json::from_value::<IdTokenClaims>(v).unwrap();
        let good = parse(claims());
        validate_claims(&good, &expected()).unwrap();
        let with = |k: &str, v: serde_json::Value| {
            let mut c = claims();
            c[k] = v;
            validate_claims(&parse(c), &expected())
        };
        assert_eq!(with("iss", json!("https://idp.example/")), Err(JwtError::WrongIssuer));
        assert_eq!(with("aud", json!("other")), Err(JwtError::WrongAudience));
        assert_eq!(with("aud", json!(["other", "escucha"])), Err(JwtError::WrongAuthorizedParty));
        assert_eq!(with("azp", json!("other")), Err(JwtError::WrongAuthorizedParty));
        assert_eq!(with("nonce", json!("n-2")), Err(JwtError::WrongNonce));
        assert_eq!(with("exp", json!(1_440)), Err(JwtError::Expired));
        assert_eq!(with("iat", json!(1_561)), Err(JwtError::IssuedInFuture));
        assert_eq!(with("nbf", json!(1_561)), Err(JwtError::NotYetValid));
        assert_eq!(with("sub", json!("")), Err(JwtError::Malformed));
        // Within the leeway, fractional dates, several audiences with azp: accepted.
        assert_eq!(with("exp", json!(1_441.5)), Ok(()));
        assert_eq!(with("iat", json!(1_560)), Ok(()));
        let mut c = claims();
        c["aud"] = json!(["escucha", "other"]);
        c["azp"] = json!("escucha");
        validate_claims(&parse(c), &expected()).unwrap();
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(validate_claims(&parse(c), &expected()), Err(JwtError::WrongNonce));
        // Missing required claims do not parse.
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert!(serde_json::from_value::<IdTokenClaims>(c).is_err());
    }

    #[test]
    fn email_verified_may_be_a_string() {
        let mut c = claims();
        for (v, want) in [(json!(true), Some(true)), (json!("true"), Some(true)), (json!("false"), Some(false))] {
            c["email_verified"] = v;
            assert_eq!(serde_json::from_value::<IdTokenClaims>(c.clone()).unwrap().email_verified, want);
        }
        c.as_object_mut().unwrap().remove("email_verified");
        assert_eq!(serde_json::from_value::<IdTokenClaims>(c).unwrap().email_verified, None);
    }

    #[test]
    fn error_codes_are_distinct() {
        let all = [
            JwtError::Malformed,
            JwtError::UnsupportedAlgorithm,
            JwtError::UnknownKey,
            JwtError::InvalidKey,
            JwtError::BadSignature,
            JwtError::WrongIssuer,
            JwtError::WrongAudience,
            JwtError::WrongAuthorizedParty,
            JwtError::Expired,
            JwtError::IssuedInFuture,
            JwtError::NotYetValid,
            JwtError::WrongNonce,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
    }
}
